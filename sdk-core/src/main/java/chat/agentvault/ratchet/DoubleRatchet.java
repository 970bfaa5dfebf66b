package chat.agentvault.ratchet;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.ratchet.RatchetException.Reason;
import chat.agentvault.ratchet.SessionState.Index;
import chat.agentvault.ratchet.SessionState.Skipped;
import chat.agentvault.ratchet.WireMessage.Header;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Not API. The Double Ratchet (Revision 1) on a {@link SessionState}: §3.3-3.5 and, for sessions
 * with header encryption, §4.4-4.6. Both {@code encrypt} and {@code decrypt} mutate the state they
 * are given; callers pass a copy and keep it only after success.
 *
 * <p>ENCRYPT is XChaCha20-Poly1305 with the key and nonce derived from the single-use message key
 * ({@link Kdf#messageKeys}); HENCRYPT is XChaCha20-Poly1305 under the header key with a random
 * 24-byte nonce carried in the message (§4.2: "a random non-repeating value chosen with at least
 * 128 bits of entropy").
 */
final class DoubleRatchet {
  private DoubleRatchet() {}

  /** Limits and time for one operation. */
  record Limits(int maxSkip, int maxSkipped, long lifetimeMillis, long now) {
    static Limits of(RatchetConfig c) {
      return new Limits(
          c.maxSkip(), c.maxSkippedKeys(), c.skippedKeyLifetime().toMillis(), c.clock().millis());
    }
  }

  // ------------------------------------------------------------------ init (§3.3, §4.4)

  /** RatchetInitAlice / RatchetInitAliceHE. {@code hka}, {@code nhkb}: null without HE. */
  static void initAlice(SessionState s, byte[] sk, byte[] bobRatchetKey, byte[] hka, byte[] nhkb) {
    byte[][] kp = Kdf.generateDh();
    s.dhsPriv = kp[0];
    s.dhsPub = kp[1];
    s.dhr = bobRatchetKey.clone();
    byte[] dh = Kdf.dh(s.dhsPriv, s.dhr);
    byte[][] r = Kdf.root(sk, dh, s.headerEncryption);
    SecretBytes.wipe(dh);
    s.rk = r[0];
    s.cks = r[1];
    s.ckr = null;
    s.ns = 0;
    s.nr = 0;
    s.pn = 0;
    if (s.headerEncryption) {
      s.nhks = r[2];
      s.hks = hka.clone();
      s.hkr = null;
      s.nhkr = nhkb.clone();
    }
  }

  /** RatchetInitBob / RatchetInitBobHE: Bob's signed prekey pair is his first ratchet pair (§5.1). */
  static void initBob(
      SessionState s, byte[] sk, byte[] spkPriv, byte[] spkPub, byte[] hka, byte[] nhkb) {
    s.dhsPriv = spkPriv.clone();
    s.dhsPub = spkPub.clone();
    s.dhr = null;
    s.rk = sk.clone();
    s.cks = null;
    s.ckr = null;
    s.ns = 0;
    s.nr = 0;
    s.pn = 0;
    if (s.headerEncryption) {
      s.hks = null;
      s.nhks = nhkb.clone();
      s.hkr = null;
      s.nhkr = hka.clone();
    }
  }

  // ------------------------------------------------------------------ encrypt (§3.4, §4.5)

  /**
   * RatchetEncrypt(HE): one symmetric-key step, then the message. {@code prefix} holds the bytes
   * before the header (version, type, and for a PREKEY message its X3DH fields).
   */
  static byte[] encrypt(SessionState s, Codec.Writer prefix, byte[] plaintext) {
    if (s.cks == null) {
      throw new IllegalStateException("session has no sending chain yet");
    }
    if (s.ns == Integer.MAX_VALUE) {
      throw new IllegalStateException("sending chain exhausted; start a new session");
    }
    byte[][] step = Kdf.chain(s.cks);
    SecretBytes.wipe(s.cks);
    s.cks = step[0];
    byte[] mk = step[1];
    byte[] header = WireMessage.encodeHeader(s.dhsPub, s.pn, s.ns);
    if (s.headerEncryption) {
      byte[] before = prefix.toByteArray();
      byte[] nonce = Csprng.randomBytes(24);
      byte[] sealed = seal(s.hks, nonce, concat(s.ad, before), header);
      prefix.raw(nonce).raw(sealed);
    } else {
      prefix.raw(header);
    }
    s.ns++;
    int prefixLength = prefix.position();
    byte[] ad = new byte[s.ad.length + prefixLength];
    System.arraycopy(s.ad, 0, ad, 0, s.ad.length);
    prefix.copyTo(ad, s.ad.length);
    byte[] km = Kdf.messageKeys(mk);
    SecretBytes.wipe(mk);
    byte[] key = Arrays.copyOf(km, Kdf.KEY);
    try {
      byte[] ct = seal(key, Arrays.copyOfRange(km, Kdf.KEY, Kdf.KEY + Kdf.NONCE), ad, plaintext);
      byte[] out = new byte[prefixLength + ct.length];
      prefix.copyTo(out, 0);
      System.arraycopy(ct, 0, out, prefixLength, ct.length);
      return out;
    } finally {
      SecretBytes.wipe(km);
      SecretBytes.wipe(key);
    }
  }

  // ------------------------------------------------------------------ decrypt (§3.5, §4.6)

  /** RatchetDecrypt(HE). Throws {@link RatchetException}; {@code s} is then to be discarded. */
  static byte[] decrypt(SessionState s, WireMessage m, Limits l) {
    if (m.headerEncrypted != s.headerEncryption) {
      throw new RatchetException(Reason.BAD_MAC, "header encryption differs from the session's");
    }
    s.purgeExpired(l.now(), l.lifetimeMillis(), l.maxSkipped());
    byte[] out = s.headerEncryption ? decryptHe(s, m, l) : decryptPlain(s, m, l);
    s.received = true;
    return out;
  }

  private static byte[] decryptPlain(SessionState s, WireMessage m, Limits l) {
    Header h = m.header;
    Index index = new Index(Bytes.wrap(h.dh()), h.n());
    Skipped sk = s.skipped.remove(index); // TrySkippedMessageKeys
    if (sk != null) {
      return open(s, m, sk.mk);
    }
    if (s.dhr != null && Arrays.equals(h.dh(), s.dhr)) {
      if (s.ckr == null) {
        throw new RatchetException(Reason.BAD_MAC, "no receiving chain for this ratchet key");
      }
      if (h.n() < s.nr) {
        throw duplicateOrExpired(s, index);
      }
    } else if (s.isOldChain(h.dh())) {
      throw duplicateOrExpired(s, index);
    } else {
      checkSkip(s.nr, h.pn(), l); // both bounds before any work (state is a copy anyway)
      checkSkip(0, h.n(), l);
      skip(s, h.pn(), l);
      dhRatchet(s, h.dh());
    }
    skip(s, h.n(), l);
    return step(s, m);
  }

  private static byte[] decryptHe(SessionState s, WireMessage m, Limits l) {
    // TrySkippedMessageKeysHE, one header decryption per distinct header key
    if (!s.skipped.isEmpty()) {
      List<Bytes> tried = new ArrayList<>(4);
      for (Index i : s.skipped.keySet()) {
        if (!tried.contains(i.chain())) {
          tried.add(i.chain());
        }
      }
      for (Bytes hk : tried) {
        Header h = hdecrypt(s, m, hk.unsafeArray());
        if (h != null) {
          Skipped sk = s.skipped.remove(new Index(hk, h.n()));
          if (sk != null) {
            return open(s, m, sk.mk);
          }
        }
      }
    }
    // DecryptHeader
    boolean ratchet = false;
    Header h = s.hkr == null ? null : hdecrypt(s, m, s.hkr);
    if (h != null) {
      if (h.n() < s.nr) {
        throw duplicateOrExpired(s, new Index(Bytes.wrap(s.hkr), h.n()));
      }
    } else {
      h = hdecrypt(s, m, s.nhkr);
      ratchet = true;
    }
    if (h == null) {
      for (byte[] old : s.oldChains) {
        Header o = hdecrypt(s, m, old);
        if (o != null) {
          throw duplicateOrExpired(s, new Index(Bytes.wrap(old), o.n()));
        }
      }
      throw new RatchetException(Reason.BAD_MAC, "header does not decrypt under any header key");
    }
    if (ratchet) {
      checkSkip(s.nr, h.pn(), l);
      checkSkip(0, h.n(), l);
      skip(s, h.pn(), l);
      dhRatchet(s, h.dh());
    }
    skip(s, h.n(), l);
    return step(s, m);
  }

  private static RatchetException duplicateOrExpired(SessionState s, Index index) {
    if (s.expired.contains(index)) {
      return new RatchetException(Reason.EXPIRED, "message key expired or was evicted");
    }
    return new RatchetException(Reason.DUPLICATE, "message key already used");
  }

  /** SkipMessageKeys's bound: {@code until - nr > MAX_SKIP} is refused. */
  private static void checkSkip(int nr, int until, Limits l) {
    if ((long) until - nr > l.maxSkip()) {
      throw new RatchetException(
          Reason.TOO_MANY_SKIPPED, "message is more than " + l.maxSkip() + " ahead in its chain");
    }
  }

  /** SkipMessageKeys(HE). */
  private static void skip(SessionState s, int until, Limits l) {
    checkSkip(s.nr, until, l);
    if (s.ckr == null) {
      return;
    }
    Bytes chain = null;
    while (s.nr < until) {
      if (chain == null) {
        chain = Bytes.of(s.headerEncryption ? s.hkr : s.dhr);
      }
      byte[][] st = Kdf.chain(s.ckr);
      SecretBytes.wipe(s.ckr);
      s.ckr = st[0];
      s.storeSkipped(new Index(chain, s.nr), st[1], l.now(), l.maxSkipped());
      s.nr++;
    }
  }

  /** DHRatchet(HE). */
  private static void dhRatchet(SessionState s, byte[] dh) {
    s.finishChain(s.headerEncryption ? s.hkr : s.dhr);
    s.pn = s.ns;
    s.ns = 0;
    s.nr = 0;
    if (s.headerEncryption) {
      SecretBytes.wipe(s.hks);
      SecretBytes.wipe(s.hkr);
      s.hks = s.nhks;
      s.hkr = s.nhkr;
      s.nhks = null;
      s.nhkr = null;
    }
    s.dhr = dh.clone();
    byte[] out = Kdf.dh(s.dhsPriv, s.dhr);
    byte[][] r = Kdf.root(s.rk, out, s.headerEncryption);
    SecretBytes.wipe(out);
    SecretBytes.wipe(s.rk);
    SecretBytes.wipe(s.ckr);
    s.rk = r[0];
    s.ckr = r[1];
    if (s.headerEncryption) {
      s.nhkr = r[2];
    }
    byte[][] kp = Kdf.generateDh();
    SecretBytes.wipe(s.dhsPriv);
    s.dhsPriv = kp[0];
    s.dhsPub = kp[1];
    out = Kdf.dh(s.dhsPriv, s.dhr);
    r = Kdf.root(s.rk, out, s.headerEncryption);
    SecretBytes.wipe(out);
    SecretBytes.wipe(s.rk);
    SecretBytes.wipe(s.cks);
    s.rk = r[0];
    s.cks = r[1];
    if (s.headerEncryption) {
      s.nhks = r[2];
    }
  }

  /** The symmetric-key step on the receiving chain, then DECRYPT. */
  private static byte[] step(SessionState s, WireMessage m) {
    byte[][] st = Kdf.chain(s.ckr);
    SecretBytes.wipe(s.ckr);
    s.ckr = st[0];
    s.nr++;
    return open(s, m, st[1]);
  }

  /** DECRYPT(mk, ciphertext, CONCAT(AD, header)); wipes {@code mk}. */
  private static byte[] open(SessionState s, WireMessage m, byte[] mk) {
    byte[] km = Kdf.messageKeys(mk);
    SecretBytes.wipe(mk);
    try {
      return openRaw(
          Arrays.copyOf(km, Kdf.KEY),
          Arrays.copyOfRange(km, Kdf.KEY, Kdf.KEY + Kdf.NONCE),
          m.associatedData(s.ad, m.ciphertextOffset),
          m.bytes,
          m.ciphertextOffset);
    } catch (GeneralSecurityException e) {
      throw new RatchetException(Reason.BAD_MAC, "message does not authenticate", e);
    } finally {
      SecretBytes.wipe(km);
    }
  }

  /** HDECRYPT(hk, enc_header): the header, or null when it does not authenticate. */
  private static Header hdecrypt(SessionState s, WireMessage m, byte[] hk) {
    if (hk == null) {
      return null;
    }
    int off = m.headerOffset;
    byte[] nonce = Arrays.copyOfRange(m.bytes, off, off + 24);
    InsecureNonceAead a = null;
    try {
      a = aead(hk);
      byte[] plain =
          a.open(
              nonce,
              m.associatedData(s.ad, off),
              Arrays.copyOfRange(m.bytes, off + 24, off + WireMessage.ENC_HEADER));
      Codec.Reader r = new Codec.Reader(plain, "header");
      Header h = WireMessage.readHeader(r);
      r.end();
      return h;
    } catch (GeneralSecurityException | RatchetException e) {
      return null;
    } finally {
      if (a != null) {
        a.destroy();
      }
    }
  }

  // ------------------------------------------------------------------ AEAD

  private static InsecureNonceAead aead(byte[] key) throws GeneralSecurityException {
    return InsecureNonceAead.create(InsecureNonceAead.Algorithm.XCHACHA20_POLY1305, key);
  }

  private static byte[] seal(byte[] key, byte[] nonce, byte[] ad, byte[] plaintext) {
    InsecureNonceAead a = null;
    try {
      a = aead(key);
      return a.seal(nonce, ad, plaintext);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("XChaCha20-Poly1305 refused a 32-byte key", e);
    } finally {
      if (a != null) {
        a.destroy();
      }
    }
  }

  /** Opens with a single-use {@code key}, which is wiped. */
  private static byte[] openRaw(byte[] key, byte[] nonce, byte[] ad, byte[] msg, int from)
      throws GeneralSecurityException {
    InsecureNonceAead a = null;
    try {
      a = aead(key);
      return a.open(nonce, ad, Arrays.copyOfRange(msg, from, msg.length));
    } finally {
      SecretBytes.wipe(key);
      if (a != null) {
        a.destroy();
      }
    }
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
