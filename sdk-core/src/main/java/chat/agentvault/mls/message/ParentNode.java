package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code ParentNode} (§7.1); unmerged leaves are leaf indices. */
public record ParentNode(Bytes encryptionKey, Bytes parentHash, List<Integer> unmergedLeaves) {
  public ParentNode {
    Objects.requireNonNull(encryptionKey, "encryptionKey");
    Objects.requireNonNull(parentHash, "parentHash");
    unmergedLeaves = List.copyOf(unmergedLeaves);
  }

  public void encode(TlsWriter w) {
    w.opaque(encryptionKey).opaque(parentHash);
    w.vector(unmergedLeaves, (ww, i) -> ww.u32(i & 0xffffffffL));
  }

  public static ParentNode decode(TlsReader r) {
    return new ParentNode(r.opaque(), r.opaque(), r.vector(TlsReader::u32Bits));
  }
}
