package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.schedule.SecretTree;
import chat.agentvault.mls.schedule.SecretTree.KeyAndNonce;
import chat.agentvault.mls.schedule.SecretTree.RatchetType;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;

/** secret-tree.json: sender-data key/nonce and the per-leaf ratchets at listed generations (§9). */
final class SecretTreeVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, SecretTreeVectors::check);
  }

  private static void check(CipherSuite cs, JsonNode e) {
    JsonNode sd = e.get("sender_data");
    try (KeyAndNonce kn =
        SecretTree.senderDataKeyAndNonce(
            cs, Vectors.hex(sd.get("sender_data_secret")), Vectors.hex(sd.get("ciphertext")))) {
      assertThat(kn.key()).isEqualTo(Vectors.hex(sd.get("key")));
      assertThat(kn.nonce()).isEqualTo(Vectors.hex(sd.get("nonce")));
    }
    JsonNode leaves = e.get("leaves");
    // The vector sizes need not be powers of two; the tree is the smallest complete one holding them.
    int n = Integer.highestOneBit(Math.max(1, leaves.size() * 2 - 1));
    SecretTree.Limits wide = new SecretTree.Limits(0, Integer.MAX_VALUE);
    try (SecretTree tree = new SecretTree(cs, Vectors.hex(e.get("encryption_secret")), n, wide)) {
      for (int leaf = 0; leaf < leaves.size(); leaf++) {
        for (JsonNode g : leaves.get(leaf)) {
          int gen = (int) g.get("generation").asLong();
          try (KeyAndNonce h = tree.forReceiving(leaf, RatchetType.HANDSHAKE, gen);
              KeyAndNonce a = tree.forReceiving(leaf, RatchetType.APPLICATION, gen)) {
            assertThat(h.key()).as("leaf %d gen %d handshake key", leaf, gen).isEqualTo(Vectors.hex(g.get("handshake_key")));
            assertThat(h.nonce()).isEqualTo(Vectors.hex(g.get("handshake_nonce")));
            assertThat(a.key()).as("leaf %d gen %d application key", leaf, gen).isEqualTo(Vectors.hex(g.get("application_key")));
            assertThat(a.nonce()).isEqualTo(Vectors.hex(g.get("application_nonce")));
          }
        }
      }
    }
  }
}
