package chat.agentvault.bench.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.framing.MessageProtection;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.schedule.SecretTree;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A 1 KiB application message protected as a PrivateMessage by one member, encoded, parsed and
 * unprotected by another (signature, sender-data and content AEAD, ratchet steps on both sides),
 * in an 8-member group.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@State(Scope.Benchmark)
public class MlsMessageBench {
  @Param({"1", "3"})
  public int suite;

  CipherSuite cs;
  GroupContext ctx;
  byte[] sigPriv;
  byte[] sigPub;
  byte[] senderDataSecret;
  SecretTree senderTree;
  SecretTree receiverTree;
  FramedContent content;

  @Setup(Level.Iteration)
  public void setup() {
    cs = CipherSuites.forId(suite);
    ctx = new GroupContext(1, cs.id(), Bytes.wrap(new byte[16]), 7, Bytes.wrap(new byte[32]), Bytes.wrap(new byte[32]), List.of());
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate()) {
      sigPriv = sk.seed().copyOfSecret();
      sigPub = sk.publicKey().toByteArray();
    }
    byte[] encryptionSecret = Csprng.randomBytes(32);
    senderDataSecret = Csprng.randomBytes(32);
    SecretTree.Limits limits = SecretTree.Limits.DEFAULT;
    senderTree = new SecretTree(cs, encryptionSecret, 8, limits);
    receiverTree = new SecretTree(cs, encryptionSecret, 8, limits);
    content =
        new FramedContent(
            ctx.groupId(), ctx.epoch(), Sender.member(3), Bytes.EMPTY, Codes.CONTENT_APPLICATION,
            Bytes.wrap(Csprng.randomBytes(1024)), null, null);
  }

  @TearDown(Level.Iteration)
  public void tearDown() {
    senderTree.close();
    receiverTree.close();
  }

  @Benchmark
  public Object protectAndUnprotect1KiB() {
    PrivateMessage pm =
        MessageProtection.protectPrivate(cs, ctx, content, sigPriv, null, senderTree, senderDataSecret, 0);
    byte[] wire = new MlsMessage(pm).toByteArray();
    PrivateMessage received = (PrivateMessage) MlsMessage.parse(wire).body();
    return MessageProtection.unprotectPrivate(cs, ctx, received, receiverTree, senderDataSecret, leaf -> sigPub);
  }
}
