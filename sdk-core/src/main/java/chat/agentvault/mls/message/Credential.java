package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/**
 * {@code Credential} (§5.3): basic (an identity) or x509 (a certificate chain, decoded and carried;
 * chain validation is the application's policy). Other types cannot be decoded: the struct has no
 * length prefix to skip them, so they are malformed here.
 */
public record Credential(int type, Bytes identity, List<Bytes> certificates) {
  public Credential {
    certificates = List.copyOf(certificates);
    if (type == Codes.CREDENTIAL_BASIC) {
      Objects.requireNonNull(identity, "identity");
    }
  }

  public static Credential basic(Bytes identity) {
    return new Credential(Codes.CREDENTIAL_BASIC, identity, List.of());
  }

  public static Credential x509(List<Bytes> chain) {
    return new Credential(Codes.CREDENTIAL_X509, null, chain);
  }

  public void encode(TlsWriter w) {
    w.u16(type);
    if (type == Codes.CREDENTIAL_BASIC) {
      w.opaque(identity);
    } else if (type == Codes.CREDENTIAL_X509) {
      w.vector(certificates, (ww, c) -> ww.opaque(c));
    } else {
      throw new IllegalStateException("cannot encode credential type " + type);
    }
  }

  public static Credential decode(TlsReader r) {
    int type = r.u16();
    if (type == Codes.CREDENTIAL_BASIC) {
      return basic(r.opaque());
    }
    if (type == Codes.CREDENTIAL_X509) {
      return x509(r.vector(TlsReader::opaque));
    }
    throw new DecodeException("unsupported credential type " + type);
  }
}
