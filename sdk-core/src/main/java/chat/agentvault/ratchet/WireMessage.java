package chat.agentvault.ratchet;

import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.Arrays;

/**
 * Not API. The one codec of session messages, version 1:
 *
 * <pre>
 * message  = version (1) = 0x01 || type (1) || body
 * type 0x01 NORMAL     body = header (40) || ciphertext (&ge; 16)
 * type 0x02 NORMAL_HE  body = encrypted header (80) || ciphertext (&ge; 16)
 * type 0x03 PREKEY     body = flags (1: bit 0 = header encryption, others 0)
 *                             || sender PublicIdentity (129) || base key EK (32)
 *                             || signed prekey id (4) || has one-time prekey (1) || [its id (4)]
 *                             || header (40) or encrypted header (80) || ciphertext (&ge; 16)
 * header   = ratchet public key (32) || PN (4) || N (4)            (big-endian, below 2^31)
 * encrypted header = nonce (24) || XChaCha20-Poly1305(HK, header) (56)
 * </pre>
 *
 * The PREKEY type is X3DH's initial message (X3DH §3.3: Alice's identity key, her ephemeral key,
 * which prekeys she used, and an initial ciphertext, here the first Double Ratchet message); the
 * initiator sends every message as PREKEY until the first reply arrives (Double Ratchet §5.1). The
 * associated data of the message AEAD is the session's X3DH AD followed by every byte before the
 * ciphertext (CONCAT of Double Ratchet §3.1: the AD is fixed-length, so the pair is parseable), and
 * that of the header AEAD is the X3DH AD followed by every byte before the encrypted header. So no
 * byte of a message can change without failing authentication or decoding.
 */
final class WireMessage {
  static final int VERSION = 1;
  static final int NORMAL = 1;
  static final int NORMAL_HE = 2;
  static final int PREKEY = 3;
  static final int HEADER = 40;
  static final int ENC_HEADER = 24 + HEADER + 16;
  static final int TAG = 16;

  final byte[] bytes;
  final int type;
  final boolean headerEncrypted;
  // PREKEY only
  final PublicIdentity sender;
  final byte[] baseKey;
  final int signedPreKeyId;
  final int oneTimePreKeyId; // -1: none
  // offsets
  final int headerOffset;
  final int ciphertextOffset;
  // plain header (null/0 when encrypted)
  final Header header;

  /** A decoded header. */
  record Header(byte[] dh, int pn, int n) {}

  private WireMessage(
      byte[] bytes, int type, boolean he, PublicIdentity sender, byte[] baseKey, int spkId,
      int opkId, int headerOffset, Header header) {
    this.bytes = bytes;
    this.type = type;
    this.headerEncrypted = he;
    this.sender = sender;
    this.baseKey = baseKey;
    this.signedPreKeyId = spkId;
    this.oneTimePreKeyId = opkId;
    this.headerOffset = headerOffset;
    this.ciphertextOffset = headerOffset + (he ? ENC_HEADER : HEADER);
    this.header = header;
  }

  boolean isPreKey() {
    return type == PREKEY;
  }

  /**
   * Decodes {@code bytes} (not copied: the caller hands over a private copy).
   *
   * @throws RatchetException {@code MALFORMED}, {@code UNSUPPORTED_VERSION}, {@code BAD_SIGNATURE}
   *     (the sender identity's binding)
   */
  static WireMessage parse(byte[] bytes) {
    if (bytes.length == 0) {
      throw new RatchetException(Reason.MALFORMED, "message is empty");
    }
    if (bytes[0] != VERSION) {
      throw new RatchetException(Reason.UNSUPPORTED_VERSION, "message version " + (bytes[0] & 0xff));
    }
    Codec.Reader r = new Codec.Reader(bytes, "message");
    r.u8();
    int type = r.u8();
    boolean he;
    PublicIdentity sender = null;
    byte[] baseKey = null;
    int spkId = -1;
    int opkId = -1;
    switch (type) {
      case NORMAL -> he = false;
      case NORMAL_HE -> he = true;
      case PREKEY -> {
        int flags = r.u8();
        if ((flags & ~1) != 0) {
          throw r.malformed("unknown flags");
        }
        he = (flags & 1) != 0;
        sender = PreKeyBundle.identity(r.raw(PublicIdentity.ENCODED_LENGTH));
        baseKey = r.raw(32);
        spkId = r.u31();
        if (r.bool()) {
          opkId = r.u31();
        }
      }
      default -> throw r.malformed("unknown type " + type);
    }
    int headerOffset = r.position();
    Header header = null;
    if (he) {
      r.raw(ENC_HEADER);
    } else {
      header = readHeader(r);
    }
    if (r.remaining() < TAG) {
      throw r.malformed("ciphertext shorter than the tag");
    }
    return new WireMessage(bytes, type, he, sender, baseKey, spkId, opkId, headerOffset, header);
  }

  static Header readHeader(Codec.Reader r) {
    byte[] dh = r.raw(32);
    int pn = r.u31();
    int n = r.u31();
    return new Header(dh, pn, n);
  }

  static byte[] encodeHeader(byte[] dh, int pn, int n) {
    return new Codec.Writer(HEADER).raw(dh).u32(pn).u32(n).toByteArray();
  }

  /** The prefix of a NORMAL or NORMAL_HE message, up to its header. */
  static Codec.Writer normalPrefix(boolean he, int capacity) {
    return new Codec.Writer(capacity).u8(VERSION).u8(he ? NORMAL_HE : NORMAL);
  }

  /** The prefix of a PREKEY message, up to its header. */
  static Codec.Writer preKeyPrefix(
      boolean he, byte[] senderIdentity, byte[] baseKey, int spkId, int opkId, int capacity) {
    Codec.Writer w =
        new Codec.Writer(capacity)
            .u8(VERSION)
            .u8(PREKEY)
            .u8(he ? 1 : 0)
            .raw(senderIdentity)
            .raw(baseKey)
            .u32(spkId)
            .bool(opkId >= 0);
    if (opkId >= 0) {
      w.u32(opkId);
    }
    return w;
  }

  /** {@code ad || bytes[0, to)}. */
  byte[] associatedData(byte[] ad, int to) {
    byte[] out = Arrays.copyOf(ad, ad.length + to);
    System.arraycopy(bytes, 0, out, ad.length, to);
    return out;
  }

  byte[] ciphertext() {
    return Arrays.copyOfRange(bytes, ciphertextOffset, bytes.length);
  }
}
