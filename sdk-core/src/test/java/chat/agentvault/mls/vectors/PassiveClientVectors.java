package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.group.Group;
import chat.agentvault.mls.group.GroupConfig;
import chat.agentvault.mls.group.Processed;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * passive-client-welcome.json, passive-client-handling-commit.json and passive-client-random.json
 * (test-vectors.md "Passive Client Scenarios"): join from the Welcome (ratchet tree in the Welcome
 * or given out of band, external PSKs from the file), check the initial epoch authenticator, then for
 * each epoch process the proposals and the commit and check the epoch authenticator.
 */
final class PassiveClientVectors implements VectorFile {
  /** What the entries exercised, printed after the file: evidence that the paths ran. */
  private final Map<String, Integer> coverage = new TreeMap<>();

  private void count(String what) {
    count(what, 1);
  }

  private void count(String what, int n) {
    if (n > 0) {
      coverage.merge(what, n, Integer::sum);
    }
  }

  @Override
  public void run(JsonNode entries, Tally tally) {
    coverage.clear();
    runEntries(entries, tally);
    if (!coverage.isEmpty()) {
      System.out.println("  exercised: " + coverage);
    }
  }

  private void runEntries(JsonNode entries, Tally tally) {
    int i = 0;
    for (JsonNode e : entries) {
      int suite = e.get("cipher_suite").asInt();
      int index = i++;
      if (!MlsTestVectorsTest.supportedSuite(suite)) {
        tally.skip("cipher suite not implemented");
        continue;
      }
      tally.entry("entry " + index + " suite " + suite, () -> check(e));
    }
  }

  private static byte[] h(JsonNode n, String f) {
    return Vectors.hex(n.get(f));
  }

  private void check(JsonNode e) {
    Map<Bytes, byte[]> psks = new HashMap<>();
    for (JsonNode p : e.get("external_psks")) {
      psks.put(Bytes.wrap(h(p, "psk_id")), h(p, "psk"));
    }
    GroupConfig config =
        GroupConfig.DEFAULT.withExternalPsks(psks::get).withClock(() -> -1);
    KeyPackage kp = (KeyPackage) MlsMessage.parse(h(e, "key_package")).body();
    // The private keys correspond to the KeyPackage's public keys (test-vectors.md, first step).
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.fromSeed(h(e, "signature_priv"));
        X25519PrivateKey enc = X25519PrivateKey.of(h(e, "encryption_priv"));
        X25519PrivateKey init = X25519PrivateKey.of(h(e, "init_priv"))) {
      assertThat(Bytes.wrap(sk.publicKey().toByteArray())).as("signature_priv").isEqualTo(kp.leafNode().signatureKey());
      assertThat(Bytes.wrap(enc.publicKey().toByteArray())).as("encryption_priv").isEqualTo(kp.leafNode().encryptionKey());
      assertThat(Bytes.wrap(init.publicKey().toByteArray())).as("init_priv").isEqualTo(kp.initKey());
    }
    Welcome welcome = (Welcome) MlsMessage.parse(h(e, "welcome")).body();
    JsonNode rt = e.get("ratchet_tree");
    List<Node> tree =
        rt == null || rt.isNull() ? null : TlsReader.decodeAll(Vectors.hex(rt), Node::decodeTree);
    Group g =
        Group.join(welcome, kp, h(e, "init_priv"), h(e, "encryption_priv"), h(e, "signature_priv"), tree, config);
    assertThat(g.epochAuthenticator().hex()).as("initial epoch authenticator")
        .isEqualTo(Vectors.hex(h(e, "initial_epoch_authenticator")));
    int epochIndex = 0;
    for (JsonNode ep : e.get("epochs")) {
      String at = "epochs[" + epochIndex++ + "]";
      for (JsonNode p : ep.get("proposals")) {
        MlsMessage m = MlsMessage.parse(Vectors.hex(p));
        Processed r = g.process(m);
        assertThat(r).as(at + " proposal").isInstanceOf(Processed.ProposalStored.class);
        Processed.ProposalStored ps = (Processed.ProposalStored) r;
        count("proposal type " + ps.proposal().type() + " sender type " + ps.sender().type() + " wire " + m.wireFormat());
      }
      MlsMessage cm = MlsMessage.parse(h(ep, "commit"));
      Processed r = g.process(cm);
      assertThat(r).as(at + " commit").isInstanceOf(Processed.CommitApplied.class);
      Processed.CommitApplied ca = (Processed.CommitApplied) r;
      count("commit wire " + cm.wireFormat());
      if (cm.body() instanceof PublicMessage pub) {
        Commit c = pub.content().commit();
        count(c.path() == null ? "commit without path" : "commit with path");
        for (Commit.ProposalOrRef por : c.proposals()) {
          count(por.proposal() != null ? "by value type " + por.proposal().type() : "by reference");
        }
      }
      count("members added", ca.added().size());
      count("members removed", ca.removed().size());
      count("members updated", ca.updated().size());
      long before = g.epoch();
      g.merge(((Processed.CommitApplied) r).staged());
      assertThat(g.epoch()).as(at + " epoch").isEqualTo(before + 1);
      assertThat(g.epochAuthenticator().hex()).as(at + " epoch authenticator")
          .isEqualTo(Vectors.hex(h(ep, "epoch_authenticator")));
    }
  }
}
