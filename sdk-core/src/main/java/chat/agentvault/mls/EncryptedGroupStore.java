package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.Sha256;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link GroupStore#encrypted}: one blob per group. The name is {@code g-} and the unpadded
 * base64url of the group id when that fits the store's 128-character names (ids up to 94 bytes),
 * else {@code h-} and the hex SHA-256 of the id. The blob is {@code opaque group_id<V>} followed by
 * the record, and a load checks the id, so a blob under the wrong name is not taken for another
 * group ({@link GroupRecordException} CORRUPTED). Atomicity and encryption are the {@link
 * EncryptedFileStore}'s; its {@code KeyStoreException}s pass through.
 */
final class EncryptedGroupStore implements GroupStore {
  static final int MAX_PLAIN_ID = 94;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final EncryptedFileStore files;

  EncryptedGroupStore(EncryptedFileStore files) {
    this.files = Objects.requireNonNull(files, "files");
  }

  static String nameOf(Bytes groupId) {
    byte[] id = groupId.toByteArray();
    if (id.length <= MAX_PLAIN_ID) {
      return "g-" + B64.encodeToString(id);
    }
    return "h-" + HexFormat.of().formatHex(Sha256.hash(id));
  }

  @Override
  public void save(Bytes groupId, byte[] record) {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(record, "record");
    byte[] blob = new TlsWriter(record.length + groupId.length() + 8).opaque(groupId).raw(record).toByteArray();
    try {
      files.put(nameOf(groupId), blob);
    } finally {
      SecretBytes.wipe(blob);
    }
  }

  @Override
  public Optional<byte[]> load(Bytes groupId) {
    Objects.requireNonNull(groupId, "groupId");
    Optional<byte[]> blob = files.get(nameOf(groupId));
    if (blob.isEmpty()) {
      return Optional.empty();
    }
    byte[] b = blob.get();
    try {
      TlsReader r = TlsReader.of(b);
      if (!r.opaque().equals(groupId)) {
        throw new GroupRecordException(GroupRecordException.Reason.CORRUPTED, "group blob holds another group id");
      }
      return Optional.of(r.rest());
    } catch (DecodeException e) {
      throw new GroupRecordException(GroupRecordException.Reason.CORRUPTED, "group blob does not decode", e);
    } finally {
      SecretBytes.wipe(b);
    }
  }

  @Override
  public boolean delete(Bytes groupId) {
    Objects.requireNonNull(groupId, "groupId");
    return files.delete(nameOf(groupId));
  }

  /** Ids from the names; hashed names are read to learn their id. */
  @Override
  public List<Bytes> list() {
    List<Bytes> out = new ArrayList<>();
    for (String name : files.list()) {
      if (name.startsWith("g-")) {
        try {
          out.add(Bytes.wrap(Base64.getUrlDecoder().decode(name.substring(2))));
        } catch (IllegalArgumentException e) {
          // not a name this store wrote: skip
        }
      } else if (name.startsWith("h-")) {
        Optional<byte[]> blob = files.get(name);
        if (blob.isPresent()) {
          byte[] b = blob.get();
          try {
            out.add(TlsReader.of(b).opaque());
          } catch (DecodeException e) {
            // skip a blob that does not decode; load reports it
          } finally {
            SecretBytes.wipe(b);
          }
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "EncryptedGroupStore[" + files.purpose() + "]";
  }
}
