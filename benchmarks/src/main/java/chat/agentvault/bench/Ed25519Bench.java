package chat.agentvault.bench;

import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.Ed25519PublicKey;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.security.Signature;
import java.security.SignatureException;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Ed25519 (RFC 8032) sign and verify of a 64-byte message: libsodium ({@code crypto_sign_detached},
 * {@code crypto_sign_verify_detached}), Bouncy Castle {@link Ed25519Signer}, the JDK's {@code
 * Signature("Ed25519")}, and our {@link Ed25519PrivateKey#sign} / {@link Ed25519PublicKey#verify}.
 * One key, initialised once per backend; the signature is deterministic, so all four must agree.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Ed25519Bench {
  private SodiumJava sodium;
  private byte[] message;
  private byte[] sodiumSecret; // libsodium's 64-byte sk: seed || pk
  private byte[] publicRaw;
  private byte[] signature;

  private Ed25519Signer bcSigner;
  private Ed25519Signer bcVerifier;
  private Signature jdkSigner;
  private Signature jdkVerifier;
  private Ed25519PrivateKey sdkPrivate;
  private Ed25519PublicKey sdkPublic;

  @Setup
  public void setup() throws Exception {
    sodium = Sodium.get();
    message = Fixtures.bytes(64, 1);
    byte[] seed = Fixtures.bytes(32, 2);

    publicRaw = new byte[32];
    sodiumSecret = new byte[64];
    sodium.crypto_sign_seed_keypair(publicRaw, sodiumSecret, seed);

    Ed25519PrivateKeyParameters bcPriv = new Ed25519PrivateKeyParameters(seed, 0);
    bcSigner = new Ed25519Signer();
    bcSigner.init(true, bcPriv);
    bcVerifier = new Ed25519Signer();
    bcVerifier.init(false, new Ed25519PublicKeyParameters(publicRaw, 0));

    jdkSigner = Signature.getInstance("Ed25519");
    jdkSigner.initSign(Fixtures.jdkEd25519Private(seed));
    jdkVerifier = Signature.getInstance("Ed25519");
    jdkVerifier.initVerify(Fixtures.jdkEd25519Public(publicRaw));

    sdkPrivate = Ed25519PrivateKey.fromSeed(seed);
    sdkPublic = sdkPrivate.publicKey();

    signature = signSodium();
    Fixtures.checkEqual(signature, signBouncyCastle(), "Ed25519 BC signature");
    Fixtures.checkEqual(signature, signJdk(), "Ed25519 JDK signature");
    Fixtures.checkEqual(signature, signSdk(), "Ed25519 SDK signature");
    Fixtures.check(verifySodium() && verifyBouncyCastle() && verifyJdk(), "Ed25519 verify");
    verifySdk();
  }

  @Benchmark
  public byte[] signSodium() {
    byte[] sig = new byte[64];
    sodium.crypto_sign_detached(sig, null, message, message.length, sodiumSecret);
    return sig;
  }

  @Benchmark
  public byte[] signBouncyCastle() {
    bcSigner.update(message, 0, message.length);
    return bcSigner.generateSignature();
  }

  @Benchmark
  public byte[] signJdk() throws SignatureException {
    jdkSigner.update(message);
    return jdkSigner.sign();
  }

  @Benchmark
  public byte[] signSdk() {
    return sdkPrivate.sign(message);
  }

  @Benchmark
  public boolean verifySodium() {
    return sodium.crypto_sign_verify_detached(signature, message, message.length, publicRaw) == 0;
  }

  @Benchmark
  public boolean verifyBouncyCastle() {
    bcVerifier.update(message, 0, message.length);
    return bcVerifier.verifySignature(signature);
  }

  @Benchmark
  public boolean verifyJdk() throws SignatureException {
    jdkVerifier.update(message);
    return jdkVerifier.verify(signature);
  }

  @Benchmark
  public Ed25519PublicKey verifySdk() throws SignatureException {
    sdkPublic.verify(message, signature); // throws when invalid
    return sdkPublic;
  }
}
