package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code GroupContext} (§8.1). */
public record GroupContext(
    int version,
    int cipherSuite,
    Bytes groupId,
    long epoch,
    Bytes treeHash,
    Bytes confirmedTranscriptHash,
    List<Extension> extensions) {
  public GroupContext {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(treeHash, "treeHash");
    Objects.requireNonNull(confirmedTranscriptHash, "confirmedTranscriptHash");
    extensions = List.copyOf(extensions);
  }

  public void encode(TlsWriter w) {
    w.u16(version).u16(cipherSuite).opaque(groupId).u64(epoch).opaque(treeHash);
    w.opaque(confirmedTranscriptHash);
    Extension.encodeList(w, extensions);
  }

  public byte[] toByteArray() {
    return TlsWriter.encode(this, (w, g) -> g.encode(w));
  }

  public static GroupContext decode(TlsReader r) {
    return new GroupContext(
        r.u16(), r.u16(), r.opaque(), r.u64(), r.opaque(), r.opaque(), Extension.decodeList(r));
  }
}
