package chat.agentvault.mls.tree;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.tree.TreeValidation.Role;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each rule of LeafNode validation (RFC 9420 §7.2, §7.3) refuses its violation. */
class LeafNodeValidationTest {
  private final CipherSuite cs = CipherSuites.forId(1);
  private final Bytes groupId = Bytes.wrap(Csprng.randomBytes(16));
  private RatchetTree tree;
  private byte[] memberSignatureSeed;

  /** Fields of a leaf under construction. */
  private final class Spec {
    byte[] seed;
    Bytes signaturePub;
    Bytes encryptionKey = Bytes.wrap(cs.deriveKeyPair(Csprng.randomBytes(32))[1]);
    Credential credential = Credential.basic(Bytes.wrap("agent".getBytes(StandardCharsets.UTF_8)));
    Capabilities capabilities = caps(List.of(), List.of(Codes.CREDENTIAL_BASIC));
    int source = Codes.LEAF_SOURCE_KEY_PACKAGE;
    Lifetime lifetime = new Lifetime(1_000, 2_000);
    List<Extension> extensions = List.of();

    Spec() {
      try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate()) {
        seed = sk.seed().copyOfSecret();
        signaturePub = Bytes.wrap(sk.publicKey().toByteArray());
      }
    }

    LeafNode build(int leafIndex) {
      LeafNode unsigned =
          new LeafNode(
              encryptionKey,
              signaturePub,
              credential,
              capabilities,
              source,
              source == Codes.LEAF_SOURCE_KEY_PACKAGE ? lifetime : null,
              source == Codes.LEAF_SOURCE_COMMIT ? Bytes.EMPTY : null,
              extensions,
              Bytes.EMPTY);
      byte[] sig = MlsCrypto.signWithLabel(cs, seed, "LeafNodeTBS", unsigned.toBeSigned(groupId, leafIndex));
      return unsigned.withSignature(Bytes.wrap(sig));
    }
  }

  private Capabilities caps(List<Integer> extensions, List<Integer> credentials) {
    return new Capabilities(List.of(1), List.of(1, 3), extensions, List.of(), credentials);
  }

  @BeforeEach
  void twoMembers() {
    Spec a = new Spec();
    memberSignatureSeed = a.seed;
    tree = RatchetTree.create(cs, a.build(0));
    tree.addLeaf(new Spec().build(1));
  }

  private void check(LeafNode leaf, Role role, int leafIndex, List<Extension> gce, long now) {
    TreeValidation.validateLeafNode(cs, leaf, role, tree, groupId, leafIndex, gce, now);
  }

  private void assertRefused(LeafNode leaf, Role role, List<Extension> gce, long now, Reason reason) {
    assertThatThrownBy(() -> check(leaf, role, 2, gce, now))
        .isInstanceOf(MessageRejectedException.class)
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(reason);
  }

  @Test
  void aProperKeyPackageLeafIsValid() {
    assertThatCode(() -> check(new Spec().build(0), Role.KEY_PACKAGE, 2, List.of(), 1_500)).doesNotThrowAnyException();
  }

  @Test
  void sourceMustFitItsUse() {
    assertRefused(new Spec().build(0), Role.UPDATE, List.of(), -1, Reason.MALFORMED);
    Spec s = new Spec();
    s.source = Codes.LEAF_SOURCE_UPDATE;
    assertRefused(s.build(2), Role.COMMIT, List.of(), -1, Reason.MALFORMED);
  }

  @Test
  void signatureCoversGroupAndIndexForUpdates() {
    Spec s = new Spec();
    s.source = Codes.LEAF_SOURCE_UPDATE;
    LeafNode signedForLeaf5 = s.build(5);
    assertRefused(signedForLeaf5, Role.UPDATE, List.of(), -1, Reason.BAD_SIGNATURE); // checked as leaf 2
    assertThatCode(() -> check(s.build(2), Role.UPDATE, 2, List.of(), -1)).doesNotThrowAnyException();
  }

  @Test
  void forgedSignatureIsRefused() {
    LeafNode leaf = new Spec().build(0);
    byte[] sig = leaf.signature().toByteArray();
    sig[10] ^= 1;
    assertRefused(leaf.withSignature(Bytes.wrap(sig)), Role.KEY_PACKAGE, List.of(), -1, Reason.BAD_SIGNATURE);
  }

  @Test
  void credentialTypeMustBeListedAndSupportedBothWays() {
    Spec notListed = new Spec();
    notListed.capabilities = caps(List.of(), List.of(Codes.CREDENTIAL_X509));
    assertRefused(notListed.build(0), Role.KEY_PACKAGE, List.of(), -1, Reason.MALFORMED);

    Spec x509 = new Spec(); // members list only basic: they cannot validate an x509 newcomer
    x509.credential = Credential.x509(List.of(Bytes.of((byte) 0x30)));
    x509.capabilities = caps(List.of(), List.of(Codes.CREDENTIAL_BASIC, Codes.CREDENTIAL_X509));
    assertRefused(x509.build(0), Role.KEY_PACKAGE, List.of(), -1, Reason.MALFORMED);
  }

  @Test
  void extensionsMustBeListedUnlessDefault() {
    Spec unlisted = new Spec();
    unlisted.extensions = List.of(new Extension(0x0A0A, Bytes.EMPTY));
    assertRefused(unlisted.build(0), Role.KEY_PACKAGE, List.of(), -1, Reason.MALFORMED);

    Spec listed = new Spec();
    listed.extensions = List.of(new Extension(0x0A0A, Bytes.EMPTY), new Extension(Codes.EXT_APPLICATION_ID, Bytes.EMPTY));
    listed.capabilities = caps(List.of(0x0A0A), List.of(Codes.CREDENTIAL_BASIC));
    assertThatCode(() -> check(listed.build(0), Role.KEY_PACKAGE, 2, List.of(), -1)).doesNotThrowAnyException();
  }

  @Test
  void requiredCapabilitiesOfTheGroupAreEnforced() {
    byte[] required =
        new TlsWriter()
            .vector(List.of(0x0B0B), (w, v) -> w.u16(v))
            .vector(List.of(), (w, v) -> w.u16((Integer) v))
            .vector(List.of(Codes.CREDENTIAL_BASIC), (w, v) -> w.u16(v))
            .toByteArray();
    List<Extension> gce = List.of(new Extension(Codes.EXT_REQUIRED_CAPABILITIES, Bytes.wrap(required)));
    assertRefused(new Spec().build(0), Role.KEY_PACKAGE, gce, -1, Reason.MALFORMED);
    Spec capable = new Spec();
    capable.capabilities = caps(List.of(0x0B0B), List.of(Codes.CREDENTIAL_BASIC));
    assertThatCode(() -> check(capable.build(0), Role.KEY_PACKAGE, 2, gce, -1)).doesNotThrowAnyException();

    List<Extension> garbage = List.of(new Extension(Codes.EXT_REQUIRED_CAPABILITIES, Bytes.of((byte) 0xff)));
    assertRefused(capable.build(0), Role.KEY_PACKAGE, garbage, -1, Reason.MALFORMED);
  }

  @Test
  void lifetimeIsCheckedWhenATimeIsGiven() {
    LeafNode leaf = new Spec().build(0); // valid from 1000 to 2000
    assertRefused(leaf, Role.KEY_PACKAGE, List.of(), 999, Reason.EXPIRED);
    assertRefused(leaf, Role.KEY_PACKAGE, List.of(), 2_001, Reason.EXPIRED);
    assertThatCode(() -> check(leaf, Role.KEY_PACKAGE, 2, List.of(), -1)).doesNotThrowAnyException();
  }

  @Test
  void keysMustBeUniqueInTheGroup() {
    Spec sameSignatureKey = new Spec();
    sameSignatureKey.seed = memberSignatureSeed;
    sameSignatureKey.signaturePub = tree.leaf(0).signatureKey();
    assertRefused(sameSignatureKey.build(0), Role.KEY_PACKAGE, List.of(), -1, Reason.MALFORMED);

    Spec sameEncryptionKey = new Spec();
    sameEncryptionKey.encryptionKey = tree.leaf(1).encryptionKey();
    assertRefused(sameEncryptionKey.build(0), Role.KEY_PACKAGE, List.of(), -1, Reason.MALFORMED);
  }

  @Test
  void groupCipherSuiteMustBeSupported() {
    Spec s = new Spec();
    s.capabilities = new Capabilities(List.of(1), List.of(3), List.of(), List.of(), List.of(Codes.CREDENTIAL_BASIC));
    assertRefused(s.build(0), Role.KEY_PACKAGE, List.of(), -1, Reason.MALFORMED);
  }
}
