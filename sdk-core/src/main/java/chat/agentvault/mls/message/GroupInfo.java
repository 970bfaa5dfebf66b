package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code GroupInfo} (§12.4.3). */
public record GroupInfo(
    GroupContext groupContext,
    List<Extension> extensions,
    Bytes confirmationTag,
    int signer,
    Bytes signature) {
  public GroupInfo {
    Objects.requireNonNull(groupContext, "groupContext");
    Objects.requireNonNull(confirmationTag, "confirmationTag");
    Objects.requireNonNull(signature, "signature");
    extensions = List.copyOf(extensions);
  }

  private void encodeTbs(TlsWriter w) {
    groupContext.encode(w);
    Extension.encodeList(w, extensions);
    w.opaque(confirmationTag).u32(signer & 0xffffffffL);
  }

  /** {@code GroupInfoTBS}. */
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
    return TlsWriter.encode(this, (w, g) -> g.encode(w));
  }

  public static GroupInfo decode(TlsReader r) {
    return new GroupInfo(
        GroupContext.decode(r), Extension.decodeList(r), r.opaque(), r.u32Bits(), r.opaque());
  }
}
