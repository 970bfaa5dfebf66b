package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** toString and exception text of the ratchet's types never show secret bytes. */
class RatchetHygieneTest {
  @Test
  void noSecretInTextOrExceptions() {
    Party alice = Party.create(true);
    Party bob = Party.create(true);
    PreKeyBundle bundle = bob.api.bundle();
    alice.api.start(bob.address, bundle);
    byte[] initial = alice.send(bob, "secret plaintext");
    Decrypted d = bob.api.decrypt(alice.address, initial);
    SessionState b = bob.record(alice).current();
    List<byte[]> secrets = new ArrayList<>();
    for (byte[] s : new byte[][] {b.rk, b.cks, b.dhsPriv, b.hks, b.nhks, b.nhkr}) {
      if (s != null) {
        secrets.add(s);
      }
    }
    secrets.add(bob.api.preKeys().signedPrivate(bundle.signedPreKeyId()));
    List<String> texts = new ArrayList<>();
    texts.add(alice.api.toString());
    texts.add(d.toString());
    texts.add(bundle.toString());
    texts.add(alice.address.toString());
    texts.add(RatchetConfig.DEFAULT.toString());
    texts.add(b.toString());
    texts.add(bob.record(alice).toString());
    texts.add(bob.api.preKeys().toString());
    texts.add(bob.sessions.toString());
    byte[] bad = initial.clone();
    bad[bad.length - 1] ^= 1;
    texts.add(String.valueOf(bob.refuse(alice, bad)));
    texts.add(String.valueOf(bob.refuse(alice, initial)));
    for (String t : texts) {
      assertThat(t).doesNotContain("secret plaintext");
      for (byte[] s : secrets) {
        String hex = HexFormat.of().formatHex(s);
        for (int i = 0; i + 8 <= hex.length(); i += 8) {
          assertThat(t.toLowerCase()).doesNotContain(hex.substring(i, i + 8));
        }
      }
    }
  }
}
