package chat.agentvault.ratchet;

import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.Fingerprint;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link SessionStore#encrypted}: one blob per peer named {@code s-<64 hex digits of the
 * fingerprint>-<device>}. Encryption, atomic replacement and the binding of a blob to its name are
 * the {@link EncryptedFileStore}'s (a blob moved to another peer's name fails to decrypt); its
 * {@code KeyStoreException}s pass through.
 */
final class EncryptedSessionStore implements SessionStore {
  private static final HexFormat HEX = HexFormat.of();
  private final EncryptedFileStore files;

  EncryptedSessionStore(EncryptedFileStore files) {
    this.files = Objects.requireNonNull(files, "files");
  }

  static String nameOf(PeerAddress peer) {
    return "s-" + HEX.formatHex(peer.fingerprint().toByteArray()) + "-" + peer.deviceId();
  }

  @Override
  public void save(PeerAddress peer, byte[] record) {
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(record, "record");
    files.put(nameOf(peer), record);
  }

  @Override
  public Optional<byte[]> load(PeerAddress peer) {
    Objects.requireNonNull(peer, "peer");
    return files.get(nameOf(peer));
  }

  @Override
  public boolean delete(PeerAddress peer) {
    Objects.requireNonNull(peer, "peer");
    return files.delete(nameOf(peer));
  }

  @Override
  public List<PeerAddress> list() {
    List<PeerAddress> out = new ArrayList<>();
    for (String name : files.list()) {
      // s- (2) + 64 hex + - + device
      if (name.length() > 67 && name.startsWith("s-") && name.charAt(66) == '-') {
        try {
          Fingerprint fp = Fingerprint.parse(name.substring(2, 66));
          out.add(new PeerAddress(fp, Integer.parseInt(name.substring(67))));
        } catch (IllegalArgumentException e) {
          // not a name this store wrote: skip
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "EncryptedSessionStore[" + files.purpose() + "]";
  }
}
