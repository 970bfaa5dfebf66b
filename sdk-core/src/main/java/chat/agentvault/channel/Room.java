package chat.agentvault.channel;

import java.util.List;

/**
 * A relay room as its members see it (metadata, visible to the relay). {@code encrypted} rooms
 * are MLS groups; plaintext ones carry {@code text/plain}.
 */
public record Room(String roomId, String name, boolean encrypted, long epoch, List<Member> members) {
  public Room {
    members = List.copyOf(members);
  }

  /** A member: device, room role ({@code owner}, {@code admin}, {@code member}), status ({@code invited}, {@code joined}). */
  public record Member(String deviceId, String role, String status) {}
}
