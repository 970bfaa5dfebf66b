package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code Welcome} (§12.4.3.1). */
public record Welcome(int cipherSuite, List<EncryptedGroupSecrets> secrets, Bytes encryptedGroupInfo) {
  public Welcome {
    secrets = List.copyOf(secrets);
    Objects.requireNonNull(encryptedGroupInfo, "encryptedGroupInfo");
  }

  /** {@code EncryptedGroupSecrets}: for the KeyPackage whose reference is {@code newMember}. */
  public record EncryptedGroupSecrets(Bytes newMember, HpkeCiphertext encryptedGroupSecrets) {
    public EncryptedGroupSecrets {
      Objects.requireNonNull(newMember, "newMember");
      Objects.requireNonNull(encryptedGroupSecrets, "encryptedGroupSecrets");
    }

    public void encode(TlsWriter w) {
      w.opaque(newMember);
      encryptedGroupSecrets.encode(w);
    }

    public static EncryptedGroupSecrets decode(TlsReader r) {
      return new EncryptedGroupSecrets(r.opaque(), HpkeCiphertext.decode(r));
    }
  }

  public void encode(TlsWriter w) {
    w.u16(cipherSuite).vector(secrets, (ww, s) -> s.encode(ww)).opaque(encryptedGroupInfo);
  }

  public static Welcome decode(TlsReader r) {
    return new Welcome(r.u16(), r.vector(EncryptedGroupSecrets::decode), r.opaque());
  }
}
