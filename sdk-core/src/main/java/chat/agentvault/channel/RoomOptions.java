package chat.agentvault.channel;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** How to create a room: mode (fixed at creation), initial members, minimum trust tier. Immutable. */
public final class RoomOptions {
  private final boolean encrypted;
  private final List<String> members;
  private final int minTrustTier;

  private RoomOptions(boolean encrypted, List<String> members, int minTrustTier) {
    this.encrypted = encrypted;
    this.members = List.copyOf(members);
    this.minTrustTier = minTrustTier;
  }

  /** An MLS-encrypted room (the default mode). */
  public static RoomOptions encrypted() {
    return new RoomOptions(true, List.of(), 0);
  }

  /** A plaintext room: the relay sees the text. */
  public static RoomOptions plaintext() {
    return new RoomOptions(false, List.of(), 0);
  }

  /** These options with {@code deviceIds} (or hub addresses) as initial members. */
  public RoomOptions members(String... deviceIds) {
    Arrays.stream(deviceIds).forEach(d -> Objects.requireNonNull(d, "member"));
    return new RoomOptions(encrypted, Arrays.asList(deviceIds), minTrustTier);
  }

  public RoomOptions minTrustTier(int tier) {
    if (tier < 0 || tier > 100) {
      throw new IllegalArgumentException("minTrustTier must be 0..100: " + tier);
    }
    return new RoomOptions(encrypted, members, tier);
  }

  public boolean isEncrypted() {
    return encrypted;
  }

  public List<String> members() {
    return members;
  }

  public int minTrustTier() {
    return minTrustTier;
  }

  @Override
  public String toString() {
    return "RoomOptions[" + (encrypted ? "encrypted" : "plaintext") + ", " + members.size() + " members]";
  }
}
