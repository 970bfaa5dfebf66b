package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/**
 * {@code MLSMessage} (§6): version mls10 and one of the five bodies. Any other version or wire
 * format is malformed.
 */
public record MlsMessage(Object body) {
  public MlsMessage {
    Objects.requireNonNull(body, "body");
    wireFormatOf(body);
  }

  public int wireFormat() {
    return wireFormatOf(body);
  }

  private static int wireFormatOf(Object body) {
    if (body instanceof PublicMessage) {
      return Codes.WIRE_PUBLIC_MESSAGE;
    }
    if (body instanceof PrivateMessage) {
      return Codes.WIRE_PRIVATE_MESSAGE;
    }
    if (body instanceof Welcome) {
      return Codes.WIRE_WELCOME;
    }
    if (body instanceof GroupInfo) {
      return Codes.WIRE_GROUP_INFO;
    }
    if (body instanceof KeyPackage) {
      return Codes.WIRE_KEY_PACKAGE;
    }
    throw new IllegalArgumentException("not an MLSMessage body: " + body.getClass().getName());
  }

  public void encode(TlsWriter w) {
    w.u16(Codes.MLS10).u16(wireFormat());
    if (body instanceof PublicMessage m) {
      m.encode(w);
    } else if (body instanceof PrivateMessage m) {
      m.encode(w);
    } else if (body instanceof Welcome m) {
      m.encode(w);
    } else if (body instanceof GroupInfo m) {
      m.encode(w);
    } else {
      ((KeyPackage) body).encode(w);
    }
  }

  public byte[] toByteArray() {
    return TlsWriter.encode(this, (w, m) -> m.encode(w));
  }

  public static MlsMessage decode(TlsReader r) {
    int version = r.u16();
    if (version != Codes.MLS10) {
      throw new DecodeException("unsupported protocol version " + version);
    }
    int wf = r.u16();
    return switch (wf) {
      case Codes.WIRE_PUBLIC_MESSAGE -> new MlsMessage(PublicMessage.decode(r));
      case Codes.WIRE_PRIVATE_MESSAGE -> new MlsMessage(PrivateMessage.decode(r));
      case Codes.WIRE_WELCOME -> new MlsMessage(Welcome.decode(r));
      case Codes.WIRE_GROUP_INFO -> new MlsMessage(GroupInfo.decode(r));
      case Codes.WIRE_KEY_PACKAGE -> new MlsMessage(KeyPackage.decode(r));
      default -> throw new DecodeException("unknown wire format " + wf);
    };
  }

  public static MlsMessage parse(byte[] bytes) {
    return TlsReader.decodeAll(bytes, MlsMessage::decode);
  }
}
