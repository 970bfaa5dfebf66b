package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/**
 * {@code PreSharedKeyID} (§8.4): external ({@code pskId}) or resumption ({@code usage}, {@code
 * pskGroupId}, {@code pskEpoch}); the fields of the other kind are null or zero.
 */
public record PreSharedKeyId(
    int pskType, Bytes pskId, int usage, Bytes pskGroupId, long pskEpoch, Bytes pskNonce) {
  public PreSharedKeyId {
    Objects.requireNonNull(pskNonce, "pskNonce");
    if (pskType == Codes.PSK_EXTERNAL) {
      Objects.requireNonNull(pskId, "pskId");
    } else if (pskType == Codes.PSK_RESUMPTION) {
      Objects.requireNonNull(pskGroupId, "pskGroupId");
    } else {
      throw new IllegalArgumentException("invalid PSK type " + pskType);
    }
  }

  public static PreSharedKeyId external(Bytes pskId, Bytes nonce) {
    return new PreSharedKeyId(Codes.PSK_EXTERNAL, pskId, 0, null, 0, nonce);
  }

  public static PreSharedKeyId resumption(int usage, Bytes groupId, long epoch, Bytes nonce) {
    return new PreSharedKeyId(Codes.PSK_RESUMPTION, null, usage, groupId, epoch, nonce);
  }

  public void encode(TlsWriter w) {
    w.u8(pskType);
    if (pskType == Codes.PSK_EXTERNAL) {
      w.opaque(pskId);
    } else {
      w.u8(usage).opaque(pskGroupId).u64(pskEpoch);
    }
    w.opaque(pskNonce);
  }

  public static PreSharedKeyId decode(TlsReader r) {
    int type = r.u8();
    if (type == Codes.PSK_EXTERNAL) {
      return external(r.opaque(), r.opaque());
    }
    if (type == Codes.PSK_RESUMPTION) {
      int usage = Codes.checkRange(r.u8(), 1, 3, "resumption PSK usage");
      Bytes gid = r.opaque();
      long epoch = r.u64();
      return resumption(usage, gid, epoch, r.opaque());
    }
    throw new DecodeException("invalid PSK type " + type);
  }
}
