package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code KeyPackage} (§10). */
public record KeyPackage(
    int version,
    int cipherSuite,
    Bytes initKey,
    LeafNode leafNode,
    List<Extension> extensions,
    Bytes signature) {
  public KeyPackage {
    Objects.requireNonNull(initKey, "initKey");
    Objects.requireNonNull(leafNode, "leafNode");
    Objects.requireNonNull(signature, "signature");
    extensions = List.copyOf(extensions);
  }

  private void encodeTbs(TlsWriter w) {
    w.u16(version).u16(cipherSuite).opaque(initKey);
    leafNode.encode(w);
    Extension.encodeList(w, extensions);
  }

  /** {@code KeyPackageTBS}. */
  public byte[] toBeSigned() {
    TlsWriter w = new TlsWriter(512);
    encodeTbs(w);
    return w.toByteArray();
  }

  public void encode(TlsWriter w) {
    encodeTbs(w);
    w.opaque(signature);
  }

  public byte[] toByteArray() {
    return TlsWriter.encode(this, (w, k) -> k.encode(w));
  }

  public static KeyPackage decode(TlsReader r) {
    return new KeyPackage(
        r.u16(), r.u16(), r.opaque(), LeafNode.decode(r), Extension.decodeList(r), r.opaque());
  }
}
