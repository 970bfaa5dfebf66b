package chat.agentvault.mls.schedule;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import java.util.Arrays;

/**
 * The secrets of one epoch (RFC 9420 §8, "The MLS Key Schedule" and Table 4). Holds secrets: no
 * {@code toString} content; {@link #close()} wipes every array.
 */
public final class EpochSecrets implements AutoCloseable {
  private final CipherSuite suite;
  private final byte[] joinerSecret;
  private final byte[] welcomeSecret;
  private final byte[] epochSecret;
  private final byte[] senderDataSecret;
  private final byte[] encryptionSecret;
  private final byte[] exporterSecret;
  private final byte[] externalSecret;
  private final byte[] confirmationKey;
  private final byte[] membershipKey;
  private final byte[] resumptionPsk;
  private final byte[] epochAuthenticator;
  private final byte[] initSecret;

  private EpochSecrets(CipherSuite cs, byte[] joinerSecret, byte[] pskSecret, byte[] groupContext) {
    this.suite = cs;
    this.joinerSecret = joinerSecret;
    byte[] psk = pskSecret != null ? pskSecret : new byte[cs.hashLength()];
    // §8 diagram: Extract takes its salt from the top (joiner_secret) and its IKM from the left
    // (psk_secret).
    byte[] memberPrk = cs.extract(joinerSecret, psk);
    this.welcomeSecret = MlsCrypto.deriveSecret(cs, memberPrk, "welcome");
    this.epochSecret =
        MlsCrypto.expandWithLabel(cs, memberPrk, "epoch", groupContext, cs.hashLength());
    SecretBytes.wipe(memberPrk);
    this.senderDataSecret = MlsCrypto.deriveSecret(cs, epochSecret, "sender data");
    this.encryptionSecret = MlsCrypto.deriveSecret(cs, epochSecret, "encryption");
    this.exporterSecret = MlsCrypto.deriveSecret(cs, epochSecret, "exporter");
    this.externalSecret = MlsCrypto.deriveSecret(cs, epochSecret, "external");
    this.confirmationKey = MlsCrypto.deriveSecret(cs, epochSecret, "confirm");
    this.membershipKey = MlsCrypto.deriveSecret(cs, epochSecret, "membership");
    this.resumptionPsk = MlsCrypto.deriveSecret(cs, epochSecret, "resumption");
    this.epochAuthenticator = MlsCrypto.deriveSecret(cs, epochSecret, "authentication");
    this.initSecret = MlsCrypto.deriveSecret(cs, epochSecret, "init");
  }

  /**
   * A new epoch from the previous init secret (§8): joiner_secret = ExpandWithLabel(Extract(salt =
   * init_secret[n-1], ikm = commit_secret), "joiner", GroupContext[n], Nh). A null {@code
   * commitSecret} or {@code pskSecret} means the all-zero vector of length Nh.
   */
  public static EpochSecrets derive(
      CipherSuite cs, byte[] previousInitSecret, byte[] commitSecret, byte[] pskSecret, byte[] groupContext) {
    byte[] commit = commitSecret != null ? commitSecret : new byte[cs.hashLength()];
    byte[] prk = cs.extract(previousInitSecret, commit);
    byte[] joiner = MlsCrypto.expandWithLabel(cs, prk, "joiner", groupContext, cs.hashLength());
    SecretBytes.wipe(prk);
    return new EpochSecrets(cs, joiner, pskSecret, groupContext);
  }

  /** A joiner's epoch, from the joiner secret of a Welcome (§12.4.3.1). */
  public static EpochSecrets fromJoinerSecret(
      CipherSuite cs, byte[] joinerSecret, byte[] pskSecret, byte[] groupContext) {
    return new EpochSecrets(cs, joinerSecret.clone(), pskSecret, groupContext);
  }

  /**
   * The welcome secret of a Welcome, before the GroupContext is known: DeriveSecret(Extract(salt =
   * joiner_secret, ikm = psk_secret), "welcome").
   */
  public static byte[] welcomeSecret(CipherSuite cs, byte[] joinerSecret, byte[] pskSecret) {
    byte[] psk = pskSecret != null ? pskSecret : new byte[cs.hashLength()];
    byte[] prk = cs.extract(joinerSecret, psk);
    try {
      return MlsCrypto.deriveSecret(cs, prk, "welcome");
    } finally {
      SecretBytes.wipe(prk);
    }
  }

  /** MLS-Exporter(Label, Context, Length) (§8.5). */
  public byte[] export(String label, byte[] context, int length) {
    byte[] derived = MlsCrypto.deriveSecret(suite, exporterSecret, label);
    try {
      return MlsCrypto.expandWithLabel(suite, derived, "exported", suite.hash(context), length);
    } finally {
      SecretBytes.wipe(derived);
    }
  }

  /** external_pub of KEM.DeriveKeyPair(external_secret) (§8). */
  public byte[] externalPub() {
    byte[][] kp = suite.deriveKeyPair(externalSecret);
    SecretBytes.wipe(kp[0]);
    return kp[1];
  }

  /** external_priv of KEM.DeriveKeyPair(external_secret). */
  public byte[] externalPriv() {
    return suite.deriveKeyPair(externalSecret)[0];
  }

  public CipherSuite suite() {
    return suite;
  }

  public byte[] joinerSecret() {
    return joinerSecret.clone();
  }

  public byte[] welcomeSecret() {
    return welcomeSecret.clone();
  }

  public byte[] epochSecret() {
    return epochSecret.clone();
  }

  public byte[] senderDataSecret() {
    return senderDataSecret.clone();
  }

  public byte[] encryptionSecret() {
    return encryptionSecret.clone();
  }

  public byte[] exporterSecret() {
    return exporterSecret.clone();
  }

  public byte[] externalSecret() {
    return externalSecret.clone();
  }

  public byte[] confirmationKey() {
    return confirmationKey.clone();
  }

  public byte[] membershipKey() {
    return membershipKey.clone();
  }

  public byte[] resumptionPsk() {
    return resumptionPsk.clone();
  }

  public byte[] epochAuthenticator() {
    return epochAuthenticator.clone();
  }

  public byte[] initSecret() {
    return initSecret.clone();
  }

  @Override
  public void close() {
    for (byte[] b :
        new byte[][] {
          joinerSecret, welcomeSecret, epochSecret, senderDataSecret, encryptionSecret,
          exporterSecret, externalSecret, confirmationKey, membershipKey, resumptionPsk,
          epochAuthenticator, initSecret
        }) {
      Arrays.fill(b, (byte) 0);
    }
  }

  @Override
  public String toString() {
    return "EpochSecrets[" + suite + ", redacted]";
  }
}
