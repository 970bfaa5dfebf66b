package chat.agentvault.crypto;

import chat.agentvault.crypto.internal.InsecureNonceAead;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;

/**
 * Hybrid Public Key Encryption, RFC 9180, for the suites MLS (RFC 9420) needs: KEM DHKEM(X25519,
 * HKDF-SHA256) (0x0020), KDF HKDF-SHA256 (0x0001), AEAD AES-128-GCM (0x0001), ChaCha20Poly1305
 * (0x0003) or export-only (0xFFFF); modes base, psk, auth and auth_psk (§5.1); the secret export
 * interface (§5.3) and the single-shot APIs (§6).
 *
 * <p>An {@code Hpke} value is a cipher suite: immutable and thread-safe. Setup returns a {@link
 * Sender} or {@link Recipient} context, which owns its key, base nonce, sequence number and
 * exporter secret; callers never see nonces or sequence numbers. Contexts are safe to share between
 * threads (every operation is atomic, so two concurrent seals never reuse a nonce), but messages
 * must be opened in the order they were sealed (§5.2, §9.7.1).
 *
 * <p>Errors:
 *
 * <ul>
 *   <li>{@link InvalidKeyException}: a public key or {@code enc} of the wrong length, or a
 *       low-order X25519 point whose Diffie-Hellman output is all zeros (§7.1.4: ValidationError,
 *       DeserializeError, EncapError, DecapError).
 *   <li>{@link javax.crypto.AEADBadTagException}: {@code open} failed to authenticate (OpenError).
 *       The context's sequence number does not move, so a forged message cannot desynchronise it.
 *   <li>{@link MessageLimitReachedException}: the sequence number is exhausted (§5.2).
 *   <li>{@link IllegalArgumentException}: caller misuse (a null argument, inconsistent PSK inputs,
 *       an export length over 255 · Nh); {@link IllegalStateException}: seal/open on an export-only
 *       context, or use of a closed context.
 * </ul>
 *
 * No message carries key material.
 */
public final class Hpke {

  /** KEM identifiers (§7.1). */
  public enum Kem {
    DHKEM_X25519_HKDF_SHA256(0x0020, 32, 32, 32, 32);

    private final int id;
    private final int secretLength;
    private final int encLength;
    private final int publicKeyLength;
    private final int privateKeyLength;

    Kem(int id, int nSecret, int nEnc, int nPk, int nSk) {
      this.id = id;
      this.secretLength = nSecret;
      this.encLength = nEnc;
      this.publicKeyLength = nPk;
      this.privateKeyLength = nSk;
    }

    /** The two-byte kem_id. */
    public int id() {
      return id;
    }

    /** Nsecret. */
    public int secretLength() {
      return secretLength;
    }

    /** Nenc. */
    public int encLength() {
      return encLength;
    }

    /** Npk. */
    public int publicKeyLength() {
      return publicKeyLength;
    }

    /** Nsk. */
    public int privateKeyLength() {
      return privateKeyLength;
    }
  }

  /** KDF identifiers (§7.2). */
  public enum Kdf {
    HKDF_SHA256(0x0001, Hkdf.HASH_LENGTH);

    private final int id;
    private final int hashLength;

    Kdf(int id, int nh) {
      this.id = id;
      this.hashLength = nh;
    }

    /** The two-byte kdf_id. */
    public int id() {
      return id;
    }

    /** Nh. */
    public int hashLength() {
      return hashLength;
    }
  }

  /** AEAD identifiers (§7.3). */
  public enum AeadId {
    AES_128_GCM(0x0001, 16, 12, 16, InsecureNonceAead.Algorithm.AES_GCM),
    CHACHA20_POLY1305(0x0003, 32, 12, 16, InsecureNonceAead.Algorithm.CHACHA20_POLY1305),
    /** Contexts of this suite only export secrets (§5.3); seal and open are refused. */
    EXPORT_ONLY(0xFFFF, 0, 0, 0, null);

    private final int id;
    private final int keyLength;
    private final int nonceLength;
    private final int tagLength;
    private final InsecureNonceAead.Algorithm algorithm;

    AeadId(int id, int nk, int nn, int nt, InsecureNonceAead.Algorithm algorithm) {
      this.id = id;
      this.keyLength = nk;
      this.nonceLength = nn;
      this.tagLength = nt;
      this.algorithm = algorithm;
    }

    /** The two-byte aead_id. */
    public int id() {
      return id;
    }

    /** Nk (0 for export-only). */
    public int keyLength() {
      return keyLength;
    }

    /** Nn (0 for export-only). */
    public int nonceLength() {
      return nonceLength;
    }

    /** Nt (0 for export-only). */
    public int tagLength() {
      return tagLength;
    }
  }

  /** HPKE modes (§5, Table 1). Package-private: the public API has one setup method per mode. */
  enum Mode {
    BASE(0x00),
    PSK(0x01),
    AUTH(0x02),
    AUTH_PSK(0x03);

    final byte value;

    Mode(int value) {
      this.value = (byte) value;
    }

    boolean usesPsk() {
      return this == PSK || this == AUTH_PSK;
    }

    boolean usesAuth() {
      return this == AUTH || this == AUTH_PSK;
    }
  }

  /** The sequence number of a context is exhausted (§5.2, MessageLimitReachedError). */
  public static final class MessageLimitReachedException extends GeneralSecurityException {
    private static final long serialVersionUID = 1L;

    MessageLimitReachedException() {
      super("HPKE context sequence number exhausted; set up a new context");
    }
  }

  /** The longest export: 255 · Nh for HKDF-SHA256 (§5.3). */
  public static final int MAX_EXPORT_LENGTH = 255 * Hkdf.HASH_LENGTH;

  /**
   * The shortest PSK accepted. §5.1.2: the PSK MUST have at least 32 bytes of entropy, which a
   * shorter string cannot have.
   */
  public static final int MIN_PSK_LENGTH = 32;

  private static final byte[] EMPTY = new byte[0];
  private static final byte[] VERSION = ascii("HPKE-v1");
  private static final byte[] LABEL_EAE_PRK = ascii("eae_prk");
  private static final byte[] LABEL_SHARED_SECRET = ascii("shared_secret");
  private static final byte[] LABEL_DKP_PRK = ascii("dkp_prk");
  private static final byte[] LABEL_SK = ascii("sk");
  private static final byte[] LABEL_PSK_ID_HASH = ascii("psk_id_hash");
  private static final byte[] LABEL_INFO_HASH = ascii("info_hash");
  private static final byte[] LABEL_SECRET = ascii("secret");
  private static final byte[] LABEL_KEY = ascii("key");
  private static final byte[] LABEL_BASE_NONCE = ascii("base_nonce");
  private static final byte[] LABEL_EXP = ascii("exp");
  private static final byte[] LABEL_SEC = ascii("sec");

  private static final Hpke[] SUITES = new Hpke[AeadId.values().length];

  static {
    for (AeadId aead : AeadId.values()) {
      SUITES[aead.ordinal()] = new Hpke(Kem.DHKEM_X25519_HKDF_SHA256, Kdf.HKDF_SHA256, aead);
    }
  }

  private final Kem kem;
  private final Kdf kdf;
  private final AeadId aead;

  /** §4.1: suite_id = concat("KEM", I2OSP(kem_id, 2)), for LabeledExtract/Expand inside DHKEM. */
  private final byte[] kemSuiteId;

  /** §5.1: suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2), I2OSP(aead_id, 2)). */
  private final byte[] hpkeSuiteId;

  /** LabeledExtract("", "psk_id_hash", default_psk_id): constant per suite, so computed once. */
  private final byte[] defaultPskIdHash;

  private Hpke(Kem kem, Kdf kdf, AeadId aead) {
    this.kem = kem;
    this.kdf = kdf;
    this.aead = aead;
    this.kemSuiteId = concat(ascii("KEM"), i2osp2(kem.id()));
    this.hpkeSuiteId = concat(ascii("HPKE"), i2osp2(kem.id()), i2osp2(kdf.id()), i2osp2(aead.id()));
    this.defaultPskIdHash = labeledExtract(hpkeSuiteId, EMPTY, LABEL_PSK_ID_HASH, EMPTY);
  }

  /** The suite (kem, kdf, aead). The returned value is shared, immutable and thread-safe. */
  public static Hpke of(Kem kem, Kdf kdf, AeadId aead) {
    require(kem, "kem");
    require(kdf, "kdf");
    require(aead, "aead");
    return SUITES[aead.ordinal()];
  }

  public Kem kem() {
    return kem;
  }

  public Kdf kdf() {
    return kdf;
  }

  public AeadId aead() {
    return aead;
  }

  // ---------------------------------------------------------------------------------------------
  // KEM: DeriveKeyPair (§7.1.3), Encap/Decap/AuthEncap/AuthDecap (§4.1)

  /**
   * DeriveKeyPair(ikm) of §7.1.3 for X25519: {@code sk = LabeledExpand(LabeledExtract("",
   * "dkp_prk", ikm), "sk", "", Nsk)}, using the KEM's suite_id. The scalar is kept as derived
   * (unclamped), as in the RFC's test vectors; X25519 clamps it at use.
   *
   * @param ikm input keying material; §7.1.3: SHOULD be at least Nsk (32) bytes with as much
   *     entropy (not enforced, so that protocols fixing their own ikm interoperate)
   */
  public X25519PrivateKey deriveKeyPair(byte[] ikm) {
    require(ikm, "ikm");
    byte[] dkpPrk = labeledExtract(kemSuiteId, EMPTY, LABEL_DKP_PRK, ikm);
    byte[] sk = null;
    try {
      sk = labeledExpand(kemSuiteId, dkpPrk, LABEL_SK, EMPTY, kem.privateKeyLength());
      return X25519PrivateKey.of(sk);
    } finally {
      SecretBytes.wipe(dkpPrk);
      SecretBytes.wipe(sk);
    }
  }

  /** GenerateKeyPair(): a fresh random key pair from {@link Csprng}. */
  public X25519PrivateKey generateKeyPair() {
    return X25519PrivateKey.generate();
  }

  /** The output of Encap/AuthEncap. Package-private, for the vector tests. */
  static final class Encapsulation {
    final byte[] sharedSecret;
    final byte[] enc;

    Encapsulation(byte[] sharedSecret, byte[] enc) {
      this.sharedSecret = sharedSecret;
      this.enc = enc;
    }
  }

  /**
   * Encap(pkR) when {@code skS} is null, AuthEncap(pkR, skS) otherwise (§4.1), with the ephemeral
   * key {@code skE} supplied (the public setups draw it from the CSPRNG).
   */
  Encapsulation encap(X25519PublicKey pkR, X25519PrivateKey skS, X25519PrivateKey skE)
      throws InvalidKeyException {
    byte[] enc = skE.publicKey().toByteArray(); // SerializePublicKey(pkE): identity for X25519
    byte[] dh = null;
    try {
      // DH() refuses an all-zero result (§7.1.4; RFC 7748 §6.1) with InvalidKeyException.
      dh = skS == null ? skE.agreeRaw(pkR.raw()) : dhPair(skE, pkR.raw(), skS, pkR.raw());
      byte[] kemContext =
          skS == null ? concat(enc, pkR.raw()) : concat(enc, pkR.raw(), skS.publicKey().raw());
      return new Encapsulation(extractAndExpand(dh, kemContext), enc);
    } finally {
      SecretBytes.wipe(dh);
    }
  }

  /** Decap(enc, skR) when {@code pkS} is null, AuthDecap(enc, skR, pkS) otherwise (§4.1). */
  byte[] decap(byte[] enc, X25519PrivateKey skR, X25519PublicKey pkS) throws InvalidKeyException {
    // DeserializePublicKey(enc): identity for X25519, but the length must be Nenc.
    if (enc.length != kem.encLength()) {
      throw new InvalidKeyException(
          "HPKE enc must be " + kem.encLength() + " bytes, not " + enc.length);
    }
    byte[] dh = null;
    try {
      dh = pkS == null ? skR.agreeRaw(enc) : dhPair(skR, enc, skR, pkS.raw());
      byte[] pkRm = skR.publicKey().raw();
      byte[] kemContext = pkS == null ? concat(enc, pkRm) : concat(enc, pkRm, pkS.raw());
      return extractAndExpand(dh, kemContext);
    } finally {
      SecretBytes.wipe(dh);
    }
  }

  /** ExtractAndExpand(dh, kem_context) of §4.1, with the KEM's suite_id. */
  private byte[] extractAndExpand(byte[] dh, byte[] kemContext) {
    byte[] eaePrk = labeledExtract(kemSuiteId, EMPTY, LABEL_EAE_PRK, dh);
    try {
      return labeledExpand(kemSuiteId, eaePrk, LABEL_SHARED_SECRET, kemContext, kem.secretLength());
    } finally {
      SecretBytes.wipe(eaePrk);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Key schedule (§5.1)

  /** VerifyPSKInputs (§5.1), plus the 32-byte minimum of §5.1.2. */
  static void verifyPskInputs(Mode mode, byte[] psk, byte[] pskId) {
    boolean gotPsk = psk.length != 0;
    boolean gotPskId = pskId.length != 0;
    if (gotPsk != gotPskId) {
      throw new IllegalArgumentException("inconsistent PSK inputs: psk and psk_id go together");
    }
    if (gotPsk && !mode.usesPsk()) {
      throw new IllegalArgumentException("PSK input provided when not needed (mode " + mode + ")");
    }
    if (!gotPsk && mode.usesPsk()) {
      throw new IllegalArgumentException("missing required PSK input (mode " + mode + ")");
    }
    if (gotPsk && psk.length < MIN_PSK_LENGTH) {
      throw new IllegalArgumentException(
          "psk must be at least " + MIN_PSK_LENGTH + " bytes (RFC 9180 §5.1.2), not " + psk.length);
    }
  }

  /** key_schedule_context = concat(mode, psk_id_hash, info_hash). */
  byte[] keyScheduleContext(Mode mode, byte[] info, byte[] pskId) {
    return keyScheduleContextWithInfoHash(mode, infoHash(info), pskId);
  }

  /** info_hash = LabeledExtract("", "info_hash", info): public, a function of {@code info} only. */
  private byte[] infoHash(byte[] info) {
    return labeledExtract(hpkeSuiteId, EMPTY, LABEL_INFO_HASH, info);
  }

  private byte[] keyScheduleContextWithInfoHash(Mode mode, byte[] infoHash, byte[] pskId) {
    byte[] pskIdHash =
        pskId.length == 0
            ? defaultPskIdHash
            : labeledExtract(hpkeSuiteId, EMPTY, LABEL_PSK_ID_HASH, pskId);
    return concat(new byte[] {mode.value}, pskIdHash, infoHash);
  }

  /** secret = LabeledExtract(shared_secret, "secret", psk). */
  byte[] secret(byte[] sharedSecret, byte[] psk) {
    return labeledExtract(hpkeSuiteId, sharedSecret, LABEL_SECRET, psk);
  }

  /**
   * KeySchedule&lt;ROLE&gt;(mode, shared_secret, info, psk, psk_id); wipes nothing it was given.
   */
  private State keySchedule(Mode mode, byte[] sharedSecret, byte[] info, byte[] psk, byte[] pskId)
      throws InvalidKeyException {
    return keyScheduleWithInfoHash(mode, sharedSecret, infoHash(info), psk, pskId);
  }

  /** {@link #keySchedule} with info_hash computed beforehand ({@link Sealer}). */
  private State keyScheduleWithInfoHash(Mode mode, byte[] sharedSecret, byte[] infoHash, byte[] psk, byte[] pskId)
      throws InvalidKeyException {
    verifyPskInputs(mode, psk, pskId);
    byte[] context = keyScheduleContextWithInfoHash(mode, infoHash, pskId);
    byte[] secret = secret(sharedSecret, psk);
    byte[] key = EMPTY;
    byte[] baseNonce = EMPTY;
    InsecureNonceAead cipher = null;
    try {
      // §5.3: an export-only suite need not compute key and base_nonce.
      if (aead != AeadId.EXPORT_ONLY) {
        key = labeledExpand(hpkeSuiteId, secret, LABEL_KEY, context, aead.keyLength());
        baseNonce =
            labeledExpand(hpkeSuiteId, secret, LABEL_BASE_NONCE, context, aead.nonceLength());
        cipher = InsecureNonceAead.create(aead.algorithm, key);
      }
      byte[] exporterSecret =
          labeledExpand(hpkeSuiteId, secret, LABEL_EXP, context, kdf.hashLength());
      return new State(this, cipher, key, baseNonce, exporterSecret);
    } catch (RuntimeException | InvalidKeyException e) {
      SecretBytes.wipe(key);
      if (cipher != null) {
        cipher.destroy();
      }
      throw e;
    } finally {
      SecretBytes.wipe(secret);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Setup (§5.1.1 to §5.1.4)

  /** SetupBaseS(pkR, info) (§5.1.1). */
  public Sender setupBaseSender(X25519PublicKey pkR, byte[] info) throws InvalidKeyException {
    return setupSenderFresh(Mode.BASE, pkR, info, EMPTY, EMPTY, null);
  }

  /** SetupPSKS(pkR, info, psk, psk_id) (§5.1.2). */
  public Sender setupPskSender(X25519PublicKey pkR, byte[] info, SecretBytes psk, byte[] pskId)
      throws InvalidKeyException {
    return setupSenderFresh(Mode.PSK, pkR, info, pskBytes(psk), require(pskId, "pskId"), null);
  }

  /** SetupAuthS(pkR, info, skS) (§5.1.3). */
  public Sender setupAuthSender(X25519PublicKey pkR, byte[] info, X25519PrivateKey skS)
      throws InvalidKeyException {
    return setupSenderFresh(Mode.AUTH, pkR, info, EMPTY, EMPTY, require(skS, "skS"));
  }

  /** SetupAuthPSKS(pkR, info, psk, psk_id, skS) (§5.1.4). */
  public Sender setupAuthPskSender(
      X25519PublicKey pkR, byte[] info, SecretBytes psk, byte[] pskId, X25519PrivateKey skS)
      throws InvalidKeyException {
    return setupSenderFresh(
        Mode.AUTH_PSK, pkR, info, pskBytes(psk), require(pskId, "pskId"), require(skS, "skS"));
  }

  /** SetupBaseR(enc, skR, info) (§5.1.1). */
  public Recipient setupBaseRecipient(byte[] enc, X25519PrivateKey skR, byte[] info)
      throws InvalidKeyException {
    return setupRecipient(Mode.BASE, enc, skR, info, EMPTY, EMPTY, null);
  }

  /** SetupPSKR(enc, skR, info, psk, psk_id) (§5.1.2). */
  public Recipient setupPskRecipient(
      byte[] enc, X25519PrivateKey skR, byte[] info, SecretBytes psk, byte[] pskId)
      throws InvalidKeyException {
    return setupRecipient(Mode.PSK, enc, skR, info, pskBytes(psk), require(pskId, "pskId"), null);
  }

  /** SetupAuthR(enc, skR, info, pkS) (§5.1.3). */
  public Recipient setupAuthRecipient(
      byte[] enc, X25519PrivateKey skR, byte[] info, X25519PublicKey pkS)
      throws InvalidKeyException {
    return setupRecipient(Mode.AUTH, enc, skR, info, EMPTY, EMPTY, require(pkS, "pkS"));
  }

  /** SetupAuthPSKR(enc, skR, info, psk, psk_id, pkS) (§5.1.4). */
  public Recipient setupAuthPskRecipient(
      byte[] enc,
      X25519PrivateKey skR,
      byte[] info,
      SecretBytes psk,
      byte[] pskId,
      X25519PublicKey pkS)
      throws InvalidKeyException {
    return setupRecipient(
        Mode.AUTH_PSK, enc, skR, info, pskBytes(psk), require(pskId, "pskId"), require(pkS, "pkS"));
  }

  private Sender setupSenderFresh(
      Mode mode, X25519PublicKey pkR, byte[] info, byte[] psk, byte[] pskId, X25519PrivateKey skS)
      throws InvalidKeyException {
    // Validate the cheap inputs before drawing an ephemeral key.
    require(pkR, "pkR");
    require(info, "info");
    verifyPskInputs(mode, psk, pskId);
    try (X25519PrivateKey skE = generateKeyPair()) {
      return setupSender(mode, pkR, info, psk, pskId, skS, skE);
    }
  }

  /**
   * Setup&lt;MODE&gt;S with a caller-chosen ephemeral key: package-private, for deterministic tests
   * only (reusing an ephemeral key across setups destroys HPKE's security).
   */
  Sender setupSender(
      Mode mode,
      X25519PublicKey pkR,
      byte[] info,
      byte[] psk,
      byte[] pskId,
      X25519PrivateKey skS,
      X25519PrivateKey skE)
      throws InvalidKeyException {
    require(mode, "mode");
    require(pkR, "pkR");
    require(info, "info");
    require(psk, "psk");
    require(pskId, "pskId");
    require(skE, "skE");
    checkAuth(mode, skS);
    verifyPskInputs(mode, psk, pskId);
    Encapsulation e = encap(pkR, skS, skE);
    try {
      return new Sender(e.enc, keySchedule(mode, e.sharedSecret, info, psk, pskId));
    } finally {
      SecretBytes.wipe(e.sharedSecret);
    }
  }

  /** Setup&lt;MODE&gt;R. */
  Recipient setupRecipient(
      Mode mode,
      byte[] enc,
      X25519PrivateKey skR,
      byte[] info,
      byte[] psk,
      byte[] pskId,
      X25519PublicKey pkS)
      throws InvalidKeyException {
    require(mode, "mode");
    require(enc, "enc");
    require(skR, "skR");
    require(info, "info");
    require(psk, "psk");
    require(pskId, "pskId");
    checkAuth(mode, pkS);
    verifyPskInputs(mode, psk, pskId);
    byte[] sharedSecret = decap(enc, skR, pkS);
    try {
      return new Recipient(keySchedule(mode, sharedSecret, info, psk, pskId));
    } finally {
      SecretBytes.wipe(sharedSecret);
    }
  }

  private static void checkAuth(Mode mode, Object senderKey) {
    if (mode.usesAuth() != (senderKey != null)) {
      throw new IllegalArgumentException(
          mode.usesAuth()
              ? "mode " + mode + " needs the sender's key"
              : "mode " + mode + " takes no sender key");
    }
  }

  private static byte[] pskBytes(SecretBytes psk) {
    return require(psk, "psk").raw();
  }

  // ---------------------------------------------------------------------------------------------
  // Single-shot APIs (§6), base mode

  /** SealBase(pkR, info, aad, pt) (§6.1). */
  public Sealed seal(X25519PublicKey pkR, byte[] info, byte[] aad, byte[] pt)
      throws GeneralSecurityException {
    requireAead("seal");
    require(aad, "aad");
    require(pt, "pt");
    try (Sender sender = setupBaseSender(pkR, info)) {
      byte[] ct = sender.seal(aad, pt);
      return new Sealed(sender.enc, ct);
    }
  }

  /**
   * SealBase (§6.1) to any number of recipients that share one {@code info}: the same as {@link
   * #seal} with that info, except that info_hash (a public function of the info, §5.1) is computed
   * once here instead of in every seal. Worth it when the info is long and the recipients many: an
   * MLS Welcome encrypts to every new member with the encrypted GroupInfo (about 300 KB for 1024
   * members) in the info. Every seal still uses a fresh ephemeral key.
   */
  public Sealer sealer(byte[] info) {
    requireAead("seal");
    require(info, "info");
    return new Sealer(infoHash(info));
  }

  /** SealBase with a fixed info, from {@link #sealer}; thread-safe, holds no secret. */
  public final class Sealer {
    private final byte[] infoHash;

    private Sealer(byte[] infoHash) {
      this.infoHash = infoHash;
    }

    /** SealBase(pkR, info, aad, pt) with the info this sealer was made for. */
    public Sealed seal(X25519PublicKey pkR, byte[] aad, byte[] pt) throws GeneralSecurityException {
      require(pkR, "pkR");
      require(aad, "aad");
      require(pt, "pt");
      Encapsulation e;
      try (X25519PrivateKey skE = generateKeyPair()) {
        e = encap(pkR, null, skE);
      }
      State state;
      try {
        state = keyScheduleWithInfoHash(Mode.BASE, e.sharedSecret, infoHash, EMPTY, EMPTY);
      } finally {
        SecretBytes.wipe(e.sharedSecret);
      }
      try (Sender sender = new Sender(e.enc, state)) {
        return new Sealed(sender.enc, sender.seal(aad, pt));
      }
    }

    @Override
    public String toString() {
      return "Hpke.Sealer[" + Hpke.this + "]";
    }
  }

  /**
   * OpenBase(enc, skR, info, aad, ct) (§6.1).
   *
   * @throws javax.crypto.AEADBadTagException when the ciphertext, aad, info or enc was altered
   * @throws InvalidKeyException when {@code enc} is not a usable X25519 public key
   */
  public byte[] open(byte[] enc, X25519PrivateKey skR, byte[] info, byte[] aad, byte[] ct)
      throws GeneralSecurityException {
    requireAead("open");
    require(aad, "aad");
    require(ct, "ct");
    try (Recipient recipient = setupBaseRecipient(enc, skR, info)) {
      return recipient.open(aad, ct);
    }
  }

  /** SendExportBase(pkR, info, exporter_context, L) (§6.2). */
  public Exported sendExport(X25519PublicKey pkR, byte[] info, byte[] exporterContext, int length)
      throws InvalidKeyException {
    checkExportArgs(exporterContext, length);
    try (Sender sender = setupBaseSender(pkR, info)) {
      return new Exported(sender.enc, sender.export(exporterContext, length));
    }
  }

  /** ReceiveExportBase(enc, skR, info, exporter_context, L) (§6.2). */
  public SecretBytes receiveExport(
      byte[] enc, X25519PrivateKey skR, byte[] info, byte[] exporterContext, int length)
      throws InvalidKeyException {
    checkExportArgs(exporterContext, length);
    try (Recipient recipient = setupBaseRecipient(enc, skR, info)) {
      return recipient.export(exporterContext, length);
    }
  }

  private void requireAead(String operation) {
    if (aead == AeadId.EXPORT_ONLY) {
      throw new IllegalStateException("export-only HPKE suite (AEAD 0xFFFF) cannot " + operation);
    }
  }

  private static void checkExportArgs(byte[] exporterContext, int length) {
    require(exporterContext, "exporterContext");
    if (length < 0 || length > MAX_EXPORT_LENGTH) {
      throw new IllegalArgumentException(
          "HPKE export length must be 0 to " + MAX_EXPORT_LENGTH + " (255 * Nh): " + length);
    }
  }

  /** The result of single-shot {@link #seal}: {@code enc} and {@code ct}, both public. */
  public static final class Sealed {
    private final byte[] enc;
    private final byte[] ciphertext;

    Sealed(byte[] enc, byte[] ciphertext) {
      this.enc = enc.clone();
      this.ciphertext = ciphertext;
    }

    /** The encapsulated key to send along (a copy). */
    public byte[] enc() {
      return enc.clone();
    }

    /** The ciphertext with its tag (a copy). */
    public byte[] ciphertext() {
      return ciphertext.clone();
    }

    @Override
    public String toString() {
      return "Hpke.Sealed[enc="
          + enc.length
          + " bytes, ciphertext="
          + ciphertext.length
          + " bytes]";
    }
  }

  /** The result of single-shot {@link #sendExport}: the public {@code enc} and the secret. */
  public static final class Exported implements AutoCloseable {
    private final byte[] enc;
    private final SecretBytes secret;

    Exported(byte[] enc, SecretBytes secret) {
      this.enc = enc.clone();
      this.secret = secret;
    }

    /** The encapsulated key to send to the recipient (a copy). */
    public byte[] enc() {
      return enc.clone();
    }

    /** The exported secret (owned by this object; closed by {@link #close()}). */
    public SecretBytes secret() {
      return secret;
    }

    @Override
    public void close() {
      secret.close();
    }

    @Override
    public String toString() {
      return "Hpke.Exported[enc=" + enc.length + " bytes, " + secret + "]";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Contexts (§5.2, §5.3)

  /**
   * What both roles of an HPKE context share (§5.3): the secret export interface, the suite and
   * wiping. Thread-safe; {@link #close()} wipes the key and exporter secret.
   */
  public abstract static sealed class Context implements AutoCloseable permits Sender, Recipient {
    final State state;

    private Context(State state) {
      this.state = state;
    }

    /** Context.Export(exporter_context, L) (§5.3); 0 &le; L &le; {@link #MAX_EXPORT_LENGTH}. */
    public SecretBytes export(byte[] exporterContext, int length) {
      return state.export(exporterContext, length);
    }

    public Hpke suite() {
      return state.suite;
    }

    @Override
    public void close() {
      state.close();
    }

    // Package-private, for the vector tests.
    byte[] key() {
      return state.key.clone();
    }

    byte[] baseNonce() {
      return state.baseNonce.clone();
    }

    byte[] exporterSecret() {
      return state.exporterSecret.clone();
    }

    byte[] nextNonce() {
      return state.nextNonce();
    }

    long sequenceNumber() {
      return state.sequenceNumber();
    }

    void forceSequenceNumber(long seq) {
      state.forceSequenceNumber(seq);
    }
  }

  /**
   * A sender context: seals messages in sequence and exports secrets. Create with a {@code
   * setup...Sender} method; send {@link #enc()} to the recipient.
   */
  public static final class Sender extends Context {
    private final byte[] enc;

    private Sender(byte[] enc, State state) {
      super(state);
      this.enc = enc;
    }

    /** The encapsulated key (a copy): public, sent to the recipient. */
    public byte[] enc() {
      return enc.clone();
    }

    /**
     * ContextS.Seal(aad, pt) (§5.2): encrypts with the next nonce.
     *
     * @throws MessageLimitReachedException when the sequence number is exhausted
     * @throws IllegalStateException on an export-only or closed context
     */
    public byte[] seal(byte[] aad, byte[] pt) throws GeneralSecurityException {
      return state.seal(aad, pt);
    }

    @Override
    public String toString() {
      return "Hpke.Sender[" + state + "]";
    }
  }

  /** A recipient context: opens messages in the order they were sealed and exports secrets. */
  public static final class Recipient extends Context {
    private Recipient(State state) {
      super(state);
    }

    /**
     * ContextR.Open(aad, ct) (§5.2). On failure the sequence number is unchanged, so the next
     * genuine message still opens.
     *
     * @throws javax.crypto.AEADBadTagException when authentication fails
     * @throws MessageLimitReachedException when the sequence number is exhausted
     * @throws IllegalStateException on an export-only or closed context
     */
    public byte[] open(byte[] aad, byte[] ct) throws GeneralSecurityException {
      return state.open(aad, ct);
    }

    @Override
    public String toString() {
      return "Hpke.Recipient[" + state + "]";
    }
  }

  /** The state shared by both roles; every method holds the monitor, so nonces never repeat. */
  private static final class State {
    /**
     * The sequence number is an unsigned 64-bit counter, shorter than Nn = 12 bytes and padded on
     * the left with zeros, which §5.2 allows. Its largest value, 2^64 - 1 (-1L), is never used:
     * IncrementSeq raises MessageLimitReachedError once seq reaches it.
     */
    private static final long SEQ_LIMIT = -1L;

    final Hpke suite;
    private final InsecureNonceAead cipher; // null for export-only
    final byte[] key; // empty for export-only; kept only for the package-private test accessor
    final byte[] baseNonce; // empty for export-only
    final byte[] exporterSecret;
    private long seq;
    private boolean closed;

    State(
        Hpke suite, InsecureNonceAead cipher, byte[] key, byte[] baseNonce, byte[] exporterSecret) {
      this.suite = suite;
      this.cipher = cipher;
      this.key = key;
      this.baseNonce = baseNonce;
      this.exporterSecret = exporterSecret;
    }

    synchronized byte[] seal(byte[] aad, byte[] pt) throws GeneralSecurityException {
      require(aad, "aad");
      require(pt, "pt");
      checkUsable("seal");
      if (seq == SEQ_LIMIT) {
        throw new MessageLimitReachedException();
      }
      byte[] ct = cipher.seal(computeNonce(seq), aad, pt);
      seq++; // IncrementSeq, after a successful Seal
      return ct;
    }

    synchronized byte[] open(byte[] aad, byte[] ct) throws GeneralSecurityException {
      require(aad, "aad");
      require(ct, "ct");
      checkUsable("open");
      if (seq == SEQ_LIMIT) {
        throw new MessageLimitReachedException();
      }
      // Throws AEADBadTagException before the increment: a forged message leaves seq unchanged.
      byte[] pt = cipher.open(computeNonce(seq), aad, ct);
      seq++;
      return pt;
    }

    synchronized SecretBytes export(byte[] exporterContext, int length) {
      checkExportArgs(exporterContext, length);
      checkOpen();
      return SecretBytes.wrap(
          labeledExpand(suite.hpkeSuiteId, exporterSecret, LABEL_SEC, exporterContext, length));
    }

    /** ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) (§5.2). */
    private byte[] computeNonce(long s) {
      byte[] nonce = baseNonce.clone();
      int n = nonce.length;
      for (int i = 0; i < Long.BYTES; i++) {
        nonce[n - 1 - i] ^= (byte) (s >>> (8 * i));
      }
      return nonce;
    }

    synchronized byte[] nextNonce() {
      return suite.aead == AeadId.EXPORT_ONLY ? EMPTY : computeNonce(seq);
    }

    synchronized long sequenceNumber() {
      return seq;
    }

    synchronized void forceSequenceNumber(long s) {
      seq = s;
    }

    private void checkUsable(String operation) {
      checkOpen();
      if (cipher == null) {
        throw new IllegalStateException(
            "export-only HPKE context (AEAD 0xFFFF) cannot " + operation);
      }
    }

    private void checkOpen() {
      if (closed) {
        throw new IllegalStateException("HPKE context was closed");
      }
    }

    synchronized void close() {
      closed = true;
      if (cipher != null) {
        cipher.destroy();
      }
      Arrays.fill(key, (byte) 0);
      Arrays.fill(exporterSecret, (byte) 0);
    }

    @Override
    public synchronized String toString() {
      return suite + ", seq=" + Long.toUnsignedString(seq) + (closed ? ", closed" : "");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // LabeledExtract / LabeledExpand (§4) and helpers

  /** LabeledExtract(salt, label, ikm) = Extract(salt, concat("HPKE-v1", suite_id, label, ikm)). */
  private static byte[] labeledExtract(byte[] suiteId, byte[] salt, byte[] label, byte[] ikm) {
    byte[] labeledIkm = concat(VERSION, suiteId, label, ikm);
    try {
      return Hkdf.extract(salt, labeledIkm); // an empty salt is Nh zeros (RFC 5869 §2.2)
    } finally {
      SecretBytes.wipe(labeledIkm); // may hold dh, psk or ikm
    }
  }

  /**
   * LabeledExpand(prk, label, info, L) = Expand(prk, concat(I2OSP(L, 2), "HPKE-v1", suite_id,
   * label, info), L).
   */
  private static byte[] labeledExpand(
      byte[] suiteId, byte[] prk, byte[] label, byte[] info, int length) {
    byte[] labeledInfo = concat(i2osp2(length), VERSION, suiteId, label, info);
    return Hkdf.expand(prk, labeledInfo, length);
  }

  private static byte[] i2osp2(int value) {
    if (value < 0 || value > 0xFFFF) {
      throw new IllegalArgumentException("I2OSP(" + value + ", 2) out of range");
    }
    return new byte[] {(byte) (value >>> 8), (byte) value};
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] p : parts) {
      length += p.length;
    }
    byte[] out = new byte[length];
    int pos = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, pos, p.length);
      pos += p.length;
    }
    return out;
  }

  /** concat(DH(a, pa), DH(b, pb)) for AuthEncap/AuthDecap, wiping the two halves. */
  private static byte[] dhPair(X25519PrivateKey a, byte[] pa, X25519PrivateKey b, byte[] pb)
      throws InvalidKeyException {
    byte[] first = a.agreeRaw(pa);
    byte[] second = null;
    try {
      second = b.agreeRaw(pb);
      return concat(first, second);
    } finally {
      SecretBytes.wipe(first);
      SecretBytes.wipe(second);
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static <T> T require(T value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return value;
  }

  @Override
  public String toString() {
    return "Hpke[" + kem + ", " + kdf + ", " + aead + "]";
  }
}
