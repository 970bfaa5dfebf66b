package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/** {@code PrivateMessage} (§6.3). */
public record PrivateMessage(
    Bytes groupId,
    long epoch,
    int contentType,
    Bytes authenticatedData,
    Bytes encryptedSenderData,
    Bytes ciphertext) {
  public PrivateMessage {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(authenticatedData, "authenticatedData");
    Objects.requireNonNull(encryptedSenderData, "encryptedSenderData");
    Objects.requireNonNull(ciphertext, "ciphertext");
    if (contentType < Codes.CONTENT_APPLICATION || contentType > Codes.CONTENT_COMMIT) {
      throw new IllegalArgumentException("invalid content type " + contentType);
    }
  }

  public void encode(TlsWriter w) {
    w.opaque(groupId).u64(epoch).u8(contentType).opaque(authenticatedData);
    w.opaque(encryptedSenderData).opaque(ciphertext);
  }

  public static PrivateMessage decode(TlsReader r) {
    Bytes gid = r.opaque();
    long epoch = r.u64();
    int type = Codes.checkRange(r.u8(), 1, 3, "content type");
    return new PrivateMessage(gid, epoch, type, r.opaque(), r.opaque(), r.opaque());
  }
}
