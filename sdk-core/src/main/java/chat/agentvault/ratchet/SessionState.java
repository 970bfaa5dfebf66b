package chat.agentvault.ratchet;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Not API. The state of one Double Ratchet session (§3.2, §4.3) plus what X3DH fixed for it.
 * Mutable; {@link DoubleRatchet} advances a {@link #copy()} and the caller keeps the copy only
 * after success, so a failed decryption changes nothing.
 *
 * <p>Record, version 1 (all integers big-endian):
 *
 * <pre>
 * version (1) = 0x01 || flags (1: bit 0 initiator, bit 1 header encryption, bit 2 received)
 * || peer PublicIdentity (129) || AD (130) || base key (32) || signed prekey id (4)
 * || one-time prekey id (4, 0xFFFFFFFF none) || created ms (8)
 * || DHs private (32) || DHs public (32) || opt DHr || RK (32) || opt CKs || opt CKr
 * || Ns (4) || Nr (4) || PN (4) || opt HKs || opt HKr || opt NHKs || opt NHKr
 * || count (4) || [chain (32) || N (4) || MK (32) || stored ms (8)]*       skipped message keys
 * || count (4) || [chain (32)]*                                           finished receiving chains
 * || count (4) || [chain (32) || N (4)]*                                  expired or evicted keys
 * opt X = 0x00, or 0x01 || X (32)
 * </pre>
 *
 * A chain is named by its ratchet public key, or with header encryption by its header key
 * (§4.3). Finished chains and expired keys carry no message keys: they only let a late duplicate
 * be told from a forgery ({@code DUPLICATE}, {@code EXPIRED}).
 */
final class SessionState {
  static final int VERSION = 1;
  static final int AD_LENGTH = 33 + 33 + 32 + 32;
  /** Finished receiving chains remembered to recognise duplicates. */
  static final int MAX_OLD_CHAINS = 16;

  /**
   * A skipped message key's index: chain and message number. With header encryption the chain is
   * named by a header key, a secret, so {@code toString} shows only the number.
   */
  record Index(Bytes chain, int n) {
    @Override
    public String toString() {
      return "Index[n=" + n + "]";
    }
  }

  /** A skipped message key and when it was stored. */
  static final class Skipped {
    final byte[] mk;
    final long storedAt;

    Skipped(byte[] mk, long storedAt) {
      this.mk = mk;
      this.storedAt = storedAt;
    }
  }

  // fixed by X3DH
  byte[] peerIdentity;
  PublicIdentity peerId; // parsed (and verified) once per load
  byte[] ad;
  byte[] baseKey;
  boolean initiator;
  boolean headerEncryption;
  int signedPreKeyId;
  int oneTimePreKeyId;
  long createdAt;
  // evolving
  boolean received;
  byte[] dhsPriv;
  byte[] dhsPub;
  byte[] dhr;
  byte[] rk;
  byte[] cks;
  byte[] ckr;
  int ns;
  int nr;
  int pn;
  byte[] hks;
  byte[] hkr;
  byte[] nhks;
  byte[] nhkr;
  LinkedHashMap<Index, Skipped> skipped = new LinkedHashMap<>();
  ArrayDeque<byte[]> oldChains = new ArrayDeque<>();
  LinkedHashSet<Index> expired = new LinkedHashSet<>();

  SessionState() {}

  /** The peer's identity (parsed again; it was verified when the session was made). */
  PublicIdentity peer() {
    if (peerId == null) {
      peerId = PreKeyBundle.identity(peerIdentity);
    }
    return peerId;
  }

  /** True while this is an own session nobody has answered yet (its messages carry X3DH). */
  boolean pending() {
    return initiator && !received;
  }

  /** A deep copy: no array is shared, so wiping either side leaves the other intact. */
  SessionState copy() {
    SessionState c = new SessionState();
    c.peerIdentity = peerIdentity;
    c.peerId = peerId;
    c.ad = ad;
    c.baseKey = baseKey; // the three above are never modified or wiped
    c.initiator = initiator;
    c.headerEncryption = headerEncryption;
    c.signedPreKeyId = signedPreKeyId;
    c.oneTimePreKeyId = oneTimePreKeyId;
    c.createdAt = createdAt;
    c.received = received;
    c.dhsPriv = clone(dhsPriv);
    c.dhsPub = dhsPub; // public, replaced, never modified
    c.dhr = dhr;
    c.rk = clone(rk);
    c.cks = clone(cks);
    c.ckr = clone(ckr);
    c.ns = ns;
    c.nr = nr;
    c.pn = pn;
    c.hks = clone(hks);
    c.hkr = clone(hkr);
    c.nhks = clone(nhks);
    c.nhkr = clone(nhkr);
    if (!skipped.isEmpty()) {
      for (Map.Entry<Index, Skipped> e : skipped.entrySet()) {
        c.skipped.put(e.getKey(), new Skipped(e.getValue().mk.clone(), e.getValue().storedAt));
      }
    }
    if (!oldChains.isEmpty()) {
      for (byte[] o : oldChains) {
        c.oldChains.add(headerEncryption ? o.clone() : o); // ratchet public keys are never wiped
      }
    }
    if (!expired.isEmpty()) {
      c.expired.addAll(expired);
    }
    return c;
  }

  private static byte[] clone(byte[] b) {
    return b == null ? null : b.clone();
  }

  /** Overwrites every secret with zeros. */
  void wipe() {
    SecretBytes.wipe(dhsPriv);
    SecretBytes.wipe(rk);
    SecretBytes.wipe(cks);
    SecretBytes.wipe(ckr);
    SecretBytes.wipe(hks);
    SecretBytes.wipe(hkr);
    SecretBytes.wipe(nhks);
    SecretBytes.wipe(nhkr);
    for (Skipped s : skipped.values()) {
      SecretBytes.wipe(s.mk);
    }
    if (headerEncryption) {
      for (byte[] o : oldChains) {
        SecretBytes.wipe(o);
      }
    }
  }

  // ------------------------------------------------------------------ skipped keys

  /**
   * Deletes skipped keys stored at or before {@code now - lifetime} (Double Ratchet §6.4),
   * remembering their indices as expired.
   */
  void purgeExpired(long now, long lifetimeMillis, int maxSkipped) {
    if (skipped.isEmpty()) {
      return;
    }
    Iterator<Map.Entry<Index, Skipped>> it = skipped.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Index, Skipped> e = it.next();
      if (now - e.getValue().storedAt < lifetimeMillis) {
        break; // stored in time order
      }
      SecretBytes.wipe(e.getValue().mk);
      it.remove();
      markExpired(e.getKey(), maxSkipped);
    }
  }

  void storeSkipped(Index index, byte[] mk, long now, int maxSkipped) {
    skipped.put(index, new Skipped(mk, now));
    while (skipped.size() > maxSkipped) {
      Iterator<Map.Entry<Index, Skipped>> it = skipped.entrySet().iterator();
      Map.Entry<Index, Skipped> eldest = it.next();
      SecretBytes.wipe(eldest.getValue().mk);
      it.remove();
      markExpired(eldest.getKey(), maxSkipped);
    }
  }

  private void markExpired(Index index, int bound) {
    expired.add(index);
    while (expired.size() > bound) {
      Iterator<Index> it = expired.iterator();
      it.next();
      it.remove();
    }
  }

  void finishChain(byte[] chain) {
    if (chain == null) {
      return;
    }
    oldChains.addLast(chain.clone());
    while (oldChains.size() > MAX_OLD_CHAINS) {
      byte[] dropped = oldChains.removeFirst();
      if (headerEncryption) {
        SecretBytes.wipe(dropped); // a header key; ratchet public keys may be shared by copies
      }
    }
  }

  boolean isOldChain(byte[] chain) {
    for (byte[] o : oldChains) {
      if (Arrays.equals(o, chain)) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ record

  byte[] toBytes() {
    Codec.Writer w = new Codec.Writer(encodedLength());
    writeTo(w);
    return w.toExactArray();
  }

  /** The exact length of {@link #toBytes()}. */
  int encodedLength() {
    int n = 2 + PublicIdentity.ENCODED_LENGTH + AD_LENGTH + 32 + 4 + 4 + 8 + 32 + 32 + 32;
    for (byte[] o : new byte[][] {dhr, cks, ckr, hks, hkr, nhks, nhkr}) {
      n += o == null ? 1 : 33;
    }
    n += 12 + 4 + skipped.size() * 76 + 4 + oldChains.size() * 32 + 4 + expired.size() * 36;
    return n;
  }

  void writeTo(Codec.Writer w) {
    int flags = (initiator ? 1 : 0) | (headerEncryption ? 2 : 0) | (received ? 4 : 0);
    w.u8(VERSION).u8(flags).raw(peerIdentity).raw(ad).raw(baseKey);
    w.u32(signedPreKeyId).u32(oneTimePreKeyId).u64(createdAt);
    w.raw(dhsPriv).raw(dhsPub).optional(dhr).raw(rk).optional(cks).optional(ckr);
    w.u32(ns).u32(nr).u32(pn);
    w.optional(hks).optional(hkr).optional(nhks).optional(nhkr);
    w.u32(skipped.size());
    for (Map.Entry<Index, Skipped> e : skipped.entrySet()) {
      w.raw(e.getKey().chain().unsafeArray()).u32(e.getKey().n());
      w.raw(e.getValue().mk).u64(e.getValue().storedAt);
    }
    w.u32(oldChains.size());
    for (byte[] o : oldChains) {
      w.raw(o);
    }
    w.u32(expired.size());
    for (Index i : expired) {
      w.raw(i.chain().unsafeArray()).u32(i.n());
    }
  }

  static SessionState parse(byte[] b, int from, int to) {
    Codec.Reader r = new Codec.Reader(b, from, to, "session state");
    int version = r.u8();
    if (version != VERSION) {
      throw new RatchetException(Reason.UNSUPPORTED_VERSION, "session state version " + version);
    }
    SessionState s = new SessionState();
    int flags = r.u8();
    if ((flags & ~7) != 0) {
      throw r.malformed("unknown flags");
    }
    s.initiator = (flags & 1) != 0;
    s.headerEncryption = (flags & 2) != 0;
    s.received = (flags & 4) != 0;
    s.peerIdentity = r.raw(PublicIdentity.ENCODED_LENGTH);
    s.ad = r.raw(AD_LENGTH);
    s.baseKey = r.raw(32);
    s.signedPreKeyId = r.u31();
    s.oneTimePreKeyId = r.u32();
    if (s.oneTimePreKeyId < -1) {
      throw r.malformed("one-time prekey id out of range");
    }
    s.createdAt = r.u64();
    s.dhsPriv = r.raw(32);
    s.dhsPub = r.raw(32);
    s.dhr = r.optional(32);
    s.rk = r.raw(32);
    s.cks = r.optional(32);
    s.ckr = r.optional(32);
    s.ns = r.u31();
    s.nr = r.u31();
    s.pn = r.u31();
    s.hks = r.optional(32);
    s.hkr = r.optional(32);
    s.nhks = r.optional(32);
    s.nhkr = r.optional(32);
    s.checkConsistent(r);
    int n = r.count(10_000_000, 76);
    for (int i = 0; i < n; i++) {
      Index idx = new Index(Bytes.wrap(r.raw(32)), r.u31());
      s.skipped.put(idx, new Skipped(r.raw(32), r.u64()));
    }
    n = r.count(MAX_OLD_CHAINS, 32);
    for (int i = 0; i < n; i++) {
      s.oldChains.add(r.raw(32));
    }
    n = r.count(10_000_000, 36);
    for (int i = 0; i < n; i++) {
      s.expired.add(new Index(Bytes.wrap(r.raw(32)), r.u31()));
    }
    r.end();
    return s;
  }

  /**
   * The relations between fields that every state made by X3DH and the ratchet keeps, so a decoded
   * state can never fail later in another way than a refused message: a sending chain always
   * (Alice has one from the start, Bob from his first DH ratchet step, before any state is kept),
   * a receiving chain only with the ratchet key it belongs to, and header keys exactly as header
   * encryption says (§4.3: HKs with CKs, HKr with CKr, both next header keys always).
   */
  private void checkConsistent(Codec.Reader r) {
    boolean ok = cks != null && (ckr == null || dhr != null);
    if (headerEncryption) {
      ok &= nhks != null && nhkr != null && (hks == null) == (cks == null)
          && (hkr == null) == (ckr == null);
    } else {
      ok &= hks == null && hkr == null && nhks == null && nhkr == null;
    }
    if (!ok) {
      throw r.malformed("fields contradict each other or the flags");
    }
  }

  @Override
  public String toString() {
    return "SessionState[initiator=" + initiator + ", ns=" + ns + ", nr=" + nr + ", skipped="
        + skipped.size() + "]";
  }
}
