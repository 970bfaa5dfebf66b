package chat.agentvault.mls.keys;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.KeyPackage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Code points and capabilities of this engine's KeyPackages, and the last-resort marker. */
public final class KeyPackages {
  /**
   * {@code last_resort} (draft-ietf-mls-extensions): empty data, in {@code KeyPackage.extensions};
   * such a KeyPackage may be used more than once and the directory never deletes it.
   */
  public static final int EXT_LAST_RESORT = 0x000A;

  /** The GREASE values reserved in every MLS registry (RFC 9420 §13.5). */
  public static final List<Integer> GREASE_VALUES =
      List.of(
          0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A, 0xAAAA,
          0xBABA, 0xCACA, 0xDADA, 0xEAEA);

  /** Non-default extension types this engine understands (default ones MUST NOT be listed, §7.2). */
  static final List<Integer> SUPPORTED_EXTENSIONS = List.of(EXT_LAST_RESORT);

  private KeyPackages() {}

  /**
   * What this engine supports, without GREASE: for comparing with other members' capabilities
   * (§13.5: a client's own capabilities MUST NOT contain GREASE values). Non-default proposal
   * types: none.
   */
  public static Capabilities supportedCapabilities() {
    return new Capabilities(
        List.of(Codes.MLS10),
        CipherSuites.supported(),
        SUPPORTED_EXTENSIONS,
        List.of(),
        List.of(Codes.CREDENTIAL_BASIC, Codes.CREDENTIAL_X509));
  }

  /** Whether {@code value} is one of the reserved GREASE code points. */
  public static boolean isGrease(int value) {
    return GREASE_VALUES.contains(value);
  }

  /** Whether {@code keyPackage} carries the {@code last_resort} extension. */
  public static boolean isLastResort(KeyPackage keyPackage) {
    Objects.requireNonNull(keyPackage, "keyPackage");
    for (Extension e : keyPackage.extensions()) {
      if (e.type() == EXT_LAST_RESORT) {
        return true;
      }
    }
    return false;
  }

  /**
   * Capabilities to send: {@link #supportedCapabilities()} plus one random GREASE value in each
   * list where §13.5 allows it (not in versions), and {@code greaseExtensions} in extensions (the
   * GREASE extension types the caller puts into the LeafNode or KeyPackage, which §7.2 and §10
   * require to be listed).
   */
  static Capabilities greasedCapabilities(List<Integer> greaseExtensions) {
    Capabilities own = supportedCapabilities();
    List<Integer> extensions = new ArrayList<>(own.extensions());
    extensions.addAll(greaseExtensions);
    return new Capabilities(
        own.versions(),
        plus(own.cipherSuites(), randomGrease()),
        extensions,
        plus(own.proposals(), randomGrease()),
        plus(own.credentials(), randomGrease()));
  }

  private static List<Integer> plus(List<Integer> list, int value) {
    List<Integer> out = new ArrayList<>(list);
    out.add(value);
    return out;
  }

  static int randomGrease() {
    return GREASE_VALUES.get(Csprng.secureRandom().nextInt(GREASE_VALUES.size()));
  }

  /** Two different random GREASE values. */
  static int[] twoRandomGrease() {
    int a = Csprng.secureRandom().nextInt(GREASE_VALUES.size());
    int b = (a + 1 + Csprng.secureRandom().nextInt(GREASE_VALUES.size() - 1)) % GREASE_VALUES.size();
    return new int[] {GREASE_VALUES.get(a), GREASE_VALUES.get(b)};
  }
}
