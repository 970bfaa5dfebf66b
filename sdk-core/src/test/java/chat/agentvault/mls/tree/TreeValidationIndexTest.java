package chat.agentvault.mls.tree;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link TreeValidation#validateTree} compares the leaves of a tree through counts taken once
 * (credential support both ways, unique signature and encryption keys). It must accept and refuse
 * exactly the trees that validating each leaf with {@link TreeValidation#validateLeafNode} against
 * every other leaf accepts and refuses, for the same reason: checked on random trees of leaves
 * that share keys and mix credential types and supported types.
 */
class TreeValidationIndexTest {
  private static final CipherSuite CS = CipherSuites.forId(1);
  private static final Bytes GROUP = Bytes.wrap("group".getBytes(StandardCharsets.US_ASCII));

  /** Mostly its own index; now and then the index of an earlier leaf (a shared key). */
  private static int keyIndex(Random rnd, int i) {
    return i > 0 && rnd.nextInt(10) == 0 ? rnd.nextInt(i) : i;
  }

  private static LeafNode leaf(
      Random rnd, int i, byte[][] seeds, byte[][] encKeys, int credentialType, List<Integer> supported) {
    byte[] seed = seeds[keyIndex(rnd, i)];
    Bytes sigPub;
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.fromSeed(seed)) {
      sigPub = Bytes.wrap(sk.publicKey().toByteArray());
    }
    Credential credential =
        credentialType == Codes.CREDENTIAL_BASIC
            ? Credential.basic(Bytes.wrap(new byte[] {(byte) rnd.nextInt()}))
            : Credential.x509(List.of(Bytes.wrap(new byte[] {1, 2, 3})));
    LeafNode unsigned =
        new LeafNode(
            Bytes.wrap(encKeys[keyIndex(rnd, i)]),
            sigPub,
            credential,
            new Capabilities(List.of(1), List.of(CS.id()), List.of(), List.of(), supported),
            Codes.LEAF_SOURCE_KEY_PACKAGE,
            new Lifetime(0, -1L),
            null,
            List.of(),
            Bytes.EMPTY);
    // key_package source: the signature does not cover the leaf index.
    return unsigned.withSignature(
        Bytes.wrap(MlsCrypto.signWithLabel(CS, seed, "LeafNodeTBS", unsigned.toBeSigned(GROUP, 0))));
  }

  private static String outcome(Runnable r) {
    try {
      r.run();
      return "ok";
    } catch (MessageRejectedException e) {
      return e.reason().name() + ": " + e.getMessage();
    }
  }

  @Test
  void acceptsAndRefusesExactlyAsThePairwiseChecks() {
    Random rnd = new Random(4242);
    java.util.Set<String> kinds = new java.util.HashSet<>();
    for (int round = 0; round < 300; round++) {
      int n = 2 + rnd.nextInt(6);
      byte[][] seeds = new byte[n][];
      for (int i = 0; i < seeds.length; i++) {
        seeds[i] = new byte[32];
        rnd.nextBytes(seeds[i]);
      }
      byte[][] encKeys = new byte[n][];
      for (int i = 0; i < encKeys.length; i++) {
        encKeys[i] = new byte[32];
        rnd.nextBytes(encKeys[i]);
      }
      List<LeafNode> leaves = new ArrayList<>();
      boolean mixed = rnd.nextInt(3) == 0;
      for (int i = 0; i < n; i++) {
        int type = mixed && rnd.nextBoolean() ? Codes.CREDENTIAL_X509 : Codes.CREDENTIAL_BASIC;
        List<Integer> supported =
            switch (rnd.nextInt(mixed ? 3 : 1)) {
              case 0 -> List.of(Codes.CREDENTIAL_BASIC, Codes.CREDENTIAL_X509);
              case 1 -> List.of(type);
              default -> List.of(Codes.CREDENTIAL_BASIC);
            };
        leaves.add(leaf(rnd, i, seeds, encKeys, type, supported));
      }
      RatchetTree tree = RatchetTree.create(CS, leaves.get(0));
      for (int i = 1; i < n; i++) {
        tree.addLeaf(leaves.get(i));
      }
      String pairwise =
          outcome(
              () -> {
                for (int m : tree.members()) {
                  TreeValidation.validateLeafNode(
                      CS, tree.leaf(m), TreeValidation.Role.TREE, tree, GROUP, m, List.of(), -1);
                }
              });
      String indexed = outcome(() -> TreeValidation.validateTree(tree, GROUP, tree.treeHash(), List.of(), -1));
      assertThat(indexed).as("round %d", round).isEqualTo(pairwise);
      kinds.add(pairwise);
    }
    assertThat(kinds)
        .as("valid trees and each kind of conflict occur")
        .contains("ok")
        .anyMatch(k -> k.contains("signature key already used"))
        .anyMatch(k -> k.contains("encryption key already used"))
        .anyMatch(k -> k.contains("credential type"));
  }
}
