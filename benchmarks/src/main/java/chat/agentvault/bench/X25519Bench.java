package chat.agentvault.bench;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.crypto.X25519PublicKey;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.security.InvalidKeyException;
import java.security.PublicKey;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyAgreement;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One X25519 agreement (RFC 7748 §5, variable-base scalar multiplication) against a fixed peer
 * public key: libsodium {@code crypto_scalarmult}, Bouncy Castle {@link X25519Agreement} and its
 * raw {@link X25519#calculateAgreement}, the JDK's {@code KeyAgreement("X25519")}, and our {@link
 * X25519PrivateKey#agree}. All must produce the same shared secret.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class X25519Bench {
  private SodiumJava sodium;
  private byte[] scalar;
  private byte[] peerRaw;

  private X25519Agreement bcAgreement;
  private X25519PublicKeyParameters bcPeer;
  private KeyAgreement jdkAgreement;
  private PublicKey jdkPeer;
  private X25519PrivateKey sdkPrivate;
  private X25519PublicKey sdkPeer;

  @Setup
  public void setup() throws Exception {
    sodium = Sodium.get();
    scalar = Fixtures.bytes(32, 3);
    byte[] peerScalar = Fixtures.bytes(32, 4);
    peerRaw = new byte[32];
    sodium.crypto_scalarmult_base(peerRaw, peerScalar);

    bcAgreement = new X25519Agreement();
    bcAgreement.init(new X25519PrivateKeyParameters(scalar, 0));
    bcPeer = new X25519PublicKeyParameters(peerRaw, 0);

    jdkAgreement = KeyAgreement.getInstance("X25519");
    jdkAgreement.init(Fixtures.jdkX25519Private(scalar));
    jdkPeer = Fixtures.jdkX25519Public(peerRaw);

    sdkPrivate = X25519PrivateKey.of(scalar);
    sdkPeer = X25519PublicKey.of(peerRaw);

    byte[] expected = sodium();
    Fixtures.checkEqual(expected, bouncyCastleAgreement(), "X25519 BC agreement");
    Fixtures.checkEqual(expected, bouncyCastleRaw(), "X25519 BC raw");
    Fixtures.checkEqual(expected, jdk(), "X25519 JDK");
    Fixtures.checkEqual(expected, sdk().copyOfSecret(), "X25519 SDK");
  }

  @Benchmark
  public byte[] sodium() {
    byte[] out = new byte[32];
    sodium.crypto_scalarmult(out, scalar, peerRaw);
    return out;
  }

  @Benchmark
  public byte[] bouncyCastleAgreement() {
    byte[] out = new byte[32];
    bcAgreement.calculateAgreement(bcPeer, out, 0);
    return out;
  }

  @Benchmark
  public byte[] bouncyCastleRaw() {
    byte[] out = new byte[32];
    X25519.calculateAgreement(scalar, 0, peerRaw, 0, out, 0);
    return out;
  }

  @Benchmark
  public byte[] jdk() throws InvalidKeyException {
    jdkAgreement.doPhase(jdkPeer, true);
    return jdkAgreement.generateSecret(); // resets to the state after init, same private key
  }

  @Benchmark
  public SecretBytes sdk() throws InvalidKeyException {
    return sdkPrivate.agree(sdkPeer);
  }
}
