package chat.agentvault.mls.keys;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import java.util.List;

/** Builds validly signed variants of KeyPackages, so that one property at a time can be wrong. */
final class Resign {
  private Resign() {}

  /** Both implemented suites sign with Ed25519, so suite 1 signs for any suite id. */
  private static CipherSuite signer(int suite) {
    return CipherSuites.isSupported(suite) ? CipherSuites.forId(suite) : CipherSuites.forId(1);
  }

  private static byte[] sign(int suite, Ed25519PrivateKey key, String label, byte[] content) {
    try (SecretBytes seed = key.seed()) {
      byte[] s = seed.copyOfSecret();
      try {
        return MlsCrypto.signWithLabel(signer(suite), s, label, content);
      } finally {
        SecretBytes.wipe(s);
      }
    }
  }

  static LeafNode leaf(int suite, Ed25519PrivateKey key, LeafNode l) {
    return l.withSignature(Bytes.wrap(sign(suite, key, "LeafNodeTBS", l.toBeSigned(Bytes.EMPTY, 0))));
  }

  static LeafNode leafWith(
      int suite,
      Ed25519PrivateKey key,
      LeafNode l,
      Bytes encryptionKey,
      Capabilities caps,
      int source,
      Lifetime lifetime,
      List<Extension> extensions) {
    return leaf(
        suite,
        key,
        new LeafNode(
            encryptionKey,
            l.signatureKey(),
            l.credential(),
            caps,
            source,
            lifetime,
            source == 3 ? Bytes.EMPTY : null,
            extensions,
            Bytes.EMPTY));
  }

  static KeyPackage keyPackage(
      Ed25519PrivateKey key, int version, int suite, Bytes initKey, LeafNode leaf, List<Extension> extensions) {
    KeyPackage tbs = new KeyPackage(version, suite, initKey, leaf, extensions, Bytes.EMPTY);
    return new KeyPackage(
        version, suite, initKey, leaf, extensions, Bytes.wrap(sign(suite, key, "KeyPackageTBS", tbs.toBeSigned())));
  }

  /** {@code kp} with its leaf replaced (leaf re-signed) and the KeyPackage re-signed. */
  static KeyPackage withLeaf(Ed25519PrivateKey key, KeyPackage kp, LeafNode newUnsignedOrSignedLeaf) {
    LeafNode leaf = leaf(kp.cipherSuite(), key, newUnsignedOrSignedLeaf);
    return keyPackage(key, kp.version(), kp.cipherSuite(), kp.initKey(), leaf, kp.extensions());
  }
}
