package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Welcome;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A test client: keys, one KeyPackage, and (once created or joined) its group. */
final class Client {
  final CipherSuite cs;
  final String name;
  final byte[] signaturePriv;
  final Bytes signaturePub;
  final byte[] encryptionPriv;
  final byte[] initPriv;
  final KeyPackage keyPackage;
  Group group;

  Client(CipherSuite cs, String name) {
    this.cs = cs;
    this.name = name;
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
        SecretBytes seed = sk.seed()) {
      signaturePriv = seed.copyOfSecret();
      signaturePub = Bytes.wrap(sk.publicKey().toByteArray());
    }
    byte[][] enc = cs.deriveKeyPair(Csprng.randomBytes(32));
    byte[][] init = cs.deriveKeyPair(Csprng.randomBytes(32));
    encryptionPriv = enc[0];
    initPriv = init[0];
    LeafNode unsigned =
        new LeafNode(
            Bytes.wrap(enc[1]),
            signaturePub,
            Credential.basic(Bytes.wrap(name.getBytes(StandardCharsets.UTF_8))),
            new Capabilities(List.of(1), List.of(cs.id()), List.of(), List.of(), List.of(1)),
            Codes.LEAF_SOURCE_KEY_PACKAGE,
            new Lifetime(0, 1L << 62),
            null,
            List.of(),
            Bytes.EMPTY);
    LeafNode leaf = Group.signLeaf(cs, unsigned, Bytes.EMPTY, 0, signaturePriv);
    KeyPackage kpUnsigned =
        new KeyPackage(Codes.MLS10, cs.id(), Bytes.wrap(init[1]), leaf, List.of(), Bytes.EMPTY);
    byte[] sig = MlsCrypto.signWithLabel(cs, signaturePriv, "KeyPackageTBS", kpUnsigned.toBeSigned());
    keyPackage =
        new KeyPackage(Codes.MLS10, cs.id(), Bytes.wrap(init[1]), leaf, List.of(), Bytes.wrap(sig));
  }

  Group create(Bytes groupId, GroupConfig config) {
    group =
        Group.create(cs, groupId, keyPackage.leafNode(), encryptionPriv, signaturePriv, List.of(), config);
    return group;
  }

  Group join(MlsMessage welcome, GroupConfig config) {
    group =
        Group.join((Welcome) welcome.body(), keyPackage, initPriv, encryptionPriv, signaturePriv, null, config);
    return group;
  }

  @Override
  public String toString() {
    return name;
  }
}
