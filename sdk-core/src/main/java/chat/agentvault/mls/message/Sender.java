package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;

/** {@code Sender} (§6): {@code index} is the leaf index (member) or sender index (external). */
public record Sender(int type, int index) {
  public Sender {
    if (type < Codes.SENDER_MEMBER || type > Codes.SENDER_NEW_MEMBER_COMMIT) {
      throw new IllegalArgumentException("invalid sender type " + type);
    }
  }

  public static Sender member(int leafIndex) {
    return new Sender(Codes.SENDER_MEMBER, leafIndex);
  }

  public boolean isMember() {
    return type == Codes.SENDER_MEMBER;
  }

  public void encode(TlsWriter w) {
    w.u8(type);
    if (type == Codes.SENDER_MEMBER || type == Codes.SENDER_EXTERNAL) {
      w.u32(index & 0xffffffffL);
    }
  }

  public static Sender decode(TlsReader r) {
    int type = r.u8();
    switch (type) {
      case Codes.SENDER_MEMBER:
      case Codes.SENDER_EXTERNAL:
        return new Sender(type, r.u32Bits());
      case Codes.SENDER_NEW_MEMBER_PROPOSAL:
      case Codes.SENDER_NEW_MEMBER_COMMIT:
        return new Sender(type, 0);
      default:
        throw new DecodeException("invalid sender type " + type);
    }
  }
}
