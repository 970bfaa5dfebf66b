package chat.agentvault.ratchet;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.HashSet;

/**
 * Not API. A device's own prekeys (X3DH §3.2), persisted after every change through a {@link
 * PreKeyStore}.
 *
 * <ul>
 *   <li>Signed prekeys: the newest is current and goes into bundles; it is replaced after {@code
 *       signedPreKeyRotation}, and a replaced one stays usable for {@code signedPreKeyGrace} after
 *       its successor appeared (for initial messages in transit), then its private key is deleted.
 *   <li>One-time prekeys: made in batches; each is handed out in at most one bundle ("issued") and
 *       its private key is deleted when an initial message used it ({@link #consume}), so a second
 *       use is refused. When fewer than {@code oneTimePreKeyMinimum} remain unissued, a batch is
 *       added.
 * </ul>
 *
 * Record, version 1: {@code version (1) || identity fingerprint (32) || next signed id (4) || next
 * one-time id (4) || count (4) || [id (4) || private (32) || public (32) || signature (64) ||
 * created ms (8)]* || count (4) || [id (4) || private (32) || public (32) || issued (1)]*}.
 * Thread-safe.
 */
final class PreKeys {
  static final int VERSION = 1;

  private static final class Signed {
    final int id;
    final byte[] priv;
    final byte[] pub;
    final byte[] sig;
    final long createdAt;

    Signed(int id, byte[] priv, byte[] pub, byte[] sig, long createdAt) {
      this.id = id;
      this.priv = priv;
      this.pub = pub;
      this.sig = sig;
      this.createdAt = createdAt;
    }
  }

  private static final class OneTime {
    final int id;
    final byte[] priv;
    final byte[] pub;
    boolean issued;

    OneTime(int id, byte[] priv, byte[] pub, boolean issued) {
      this.id = id;
      this.priv = priv;
      this.pub = pub;
      this.issued = issued;
    }
  }

  private final DeviceIdentity identity;
  private final PreKeyStore store;
  private final RatchetConfig config;
  private final List<Signed> signed = new ArrayList<>(); // oldest first, last is current
  private final Map<Integer, OneTime> oneTime = new LinkedHashMap<>();
  /** One-time prekeys an initial message is being accepted with, until consumed or released. */
  private final Set<Integer> reserved = new HashSet<>();
  private int nextSignedId;
  private int nextOneTimeId;

  private PreKeys(DeviceIdentity identity, PreKeyStore store, RatchetConfig config) {
    this.identity = identity;
    this.store = store;
    this.config = config;
  }

  /** Loads the record from {@code store}, or makes and saves a first signed prekey and batch. */
  static PreKeys open(DeviceIdentity identity, PreKeyStore store, RatchetConfig config) {
    PreKeys p = new PreKeys(identity, store, config);
    Optional<byte[]> saved = store.load();
    if (saved.isPresent()) {
      byte[] b = saved.get();
      try {
        p.read(b);
      } finally {
        SecretBytes.wipe(b);
      }
    }
    p.maintain();
    return p;
  }

  /**
   * Rotates the signed prekey when due, deletes previous ones past their grace, tops up one-time
   * prekeys; saves when anything changed.
   */
  synchronized void maintain() {
    long now = config.clock().millis();
    boolean changed = false;
    if (signed.isEmpty()
        || now - current().createdAt >= config.signedPreKeyRotation().toMillis()) {
      addSigned(now);
      changed = true;
    }
    // a previous key stays for the grace period after its successor was created
    long grace = config.signedPreKeyGrace().toMillis();
    while (signed.size() > 1 && now - signed.get(1).createdAt >= grace) {
      Signed old = signed.remove(0);
      SecretBytes.wipe(old.priv);
      changed = true;
    }
    if (unissued() < config.oneTimePreKeyMinimum()) {
      addBatch();
      changed = true;
    }
    if (changed) {
      save();
    }
  }

  private Signed current() {
    return signed.get(signed.size() - 1);
  }

  private void addSigned(long now) {
    byte[][] kp = Kdf.generateDh();
    int id = nextSignedId++;
    byte[] sig = identity.sign(PreKeyBundle.signedMessage(id, kp[1]));
    signed.add(new Signed(id, kp[0], kp[1], sig, now));
  }

  private void addBatch() {
    for (int i = 0; i < config.oneTimePreKeyBatch(); i++) {
      byte[][] kp = Kdf.generateDh();
      int id = nextOneTimeId++;
      oneTime.put(id, new OneTime(id, kp[0], kp[1], false));
    }
  }

  private OneTime firstUnissued() {
    for (OneTime o : oneTime.values()) {
      if (!o.issued) {
        return o;
      }
    }
    return null;
  }

  private int unissued() {
    int n = 0;
    for (OneTime o : oneTime.values()) {
      if (!o.issued) {
        n++;
      }
    }
    return n;
  }

  /** One-time prekeys not yet handed out. */
  synchronized int unissuedOneTimePreKeys() {
    return unissued();
  }

  /**
   * A bundle with the current signed prekey and, when {@code withOneTime}, a one-time prekey never
   * handed out before (marked issued and saved before the bundle is returned).
   */
  synchronized PreKeyBundle bundle(boolean withOneTime) {
    maintain();
    Signed s = current();
    OneTime chosen = null;
    if (withOneTime) {
      chosen = firstUnissued();
      if (chosen == null) {
        addBatch();
        chosen = firstUnissued();
      }
      chosen.issued = true;
      if (unissued() < config.oneTimePreKeyMinimum()) {
        addBatch();
      }
      save();
    }
    return new PreKeyBundle(
        identity.publicIdentity(),
        s.id,
        s.pub,
        s.sig,
        chosen == null ? -1 : chosen.id,
        chosen == null ? null : chosen.pub);
  }

  /**
   * A copy of the private key of signed prekey {@code id}.
   *
   * @throws RatchetException {@code SIGNED_PREKEY_UNKNOWN}
   */
  synchronized byte[] signedPrivate(int id) {
    for (Signed s : signed) {
      if (s.id == id) {
        return s.priv.clone();
      }
    }
    throw new RatchetException(Reason.SIGNED_PREKEY_UNKNOWN, "no signed prekey " + id);
  }

  synchronized byte[] signedPublic(int id) {
    for (Signed s : signed) {
      if (s.id == id) {
        return s.pub.clone();
      }
    }
    throw new RatchetException(Reason.SIGNED_PREKEY_UNKNOWN, "no signed prekey " + id);
  }

  /**
   * A copy of the private key of one-time prekey {@code id}.
   *
   * @throws RatchetException {@code ONE_TIME_PREKEY_UNKNOWN_OR_USED}
   */
  synchronized byte[] oneTimePrivate(int id) {
    OneTime o = oneTime.get(id);
    if (o == null) {
      throw new RatchetException(
          Reason.ONE_TIME_PREKEY_UNKNOWN_OR_USED, "one-time prekey " + id + " unknown or used");
    }
    return o.priv.clone();
  }

  /**
   * Claims one-time prekey {@code id} for one initial message until {@link #consume} or {@link
   * #release}: a second initial message naming it meanwhile (another address of the same identity,
   * so another lock in {@link Sessions}) is refused as if it were used already.
   *
   * @throws RatchetException {@code ONE_TIME_PREKEY_UNKNOWN_OR_USED}
   */
  synchronized void reserve(int id) {
    if (!oneTime.containsKey(id) || !reserved.add(id)) {
      throw new RatchetException(
          Reason.ONE_TIME_PREKEY_UNKNOWN_OR_USED, "one-time prekey " + id + " unknown or in use");
    }
  }

  /** Gives back a claim of {@link #reserve} whose initial message was refused. */
  synchronized void release(int id) {
    reserved.remove(id);
  }

  /** Deletes one-time prekey {@code id} for good (X3DH §3.4) and saves. */
  synchronized void consume(int id) {
    reserved.remove(id);
    OneTime o = oneTime.remove(id);
    if (o != null) {
      SecretBytes.wipe(o.priv);
      if (unissued() < config.oneTimePreKeyMinimum()) {
        addBatch();
      }
      save();
    }
  }

  /** Ids of the signed prekeys whose private keys are kept, oldest first. */
  synchronized List<Integer> signedIds() {
    List<Integer> ids = new ArrayList<>();
    for (Signed s : signed) {
      ids.add(s.id);
    }
    return ids;
  }

  synchronized boolean hasOneTime(int id) {
    return oneTime.containsKey(id);
  }

  private void save() {
    Codec.Writer w = new Codec.Writer(64 + signed.size() * 140 + oneTime.size() * 69);
    w.u8(VERSION).raw(identity.fingerprint().toByteArray()).u32(nextSignedId).u32(nextOneTimeId);
    w.u32(signed.size());
    for (Signed s : signed) {
      w.u32(s.id).raw(s.priv).raw(s.pub).raw(s.sig).u64(s.createdAt);
    }
    w.u32(oneTime.size());
    for (OneTime o : oneTime.values()) {
      w.u32(o.id).raw(o.priv).raw(o.pub).bool(o.issued);
    }
    byte[] record = w.toByteArray();
    try {
      store.save(record);
    } finally {
      SecretBytes.wipe(record);
      w.wipe();
    }
  }

  private void read(byte[] b) {
    if (b.length == 0 || b[0] != VERSION) {
      throw new RatchetException(
          b.length == 0 ? Reason.MALFORMED : Reason.UNSUPPORTED_VERSION, "prekey record version");
    }
    Codec.Reader r = new Codec.Reader(b, "prekey record");
    r.u8();
    if (!Arrays.equals(r.raw(32), identity.fingerprint().toByteArray())) {
      throw new IllegalStateException("the prekey record belongs to another identity");
    }
    nextSignedId = r.u31();
    nextOneTimeId = r.u31();
    int ns = r.count(1_000_000, 140);
    for (int i = 0; i < ns; i++) {
      signed.add(new Signed(r.u31(), r.raw(32), r.raw(32), r.raw(64), r.u64()));
    }
    int no = r.count(10_000_000, 69);
    for (int i = 0; i < no; i++) {
      OneTime o = new OneTime(r.u31(), r.raw(32), r.raw(32), r.bool());
      oneTime.put(o.id, o);
    }
    r.end();
  }

  /** Wipes the private keys held in memory. */
  synchronized void close() {
    for (Signed s : signed) {
      SecretBytes.wipe(s.priv);
    }
    for (Iterator<OneTime> it = oneTime.values().iterator(); it.hasNext(); ) {
      SecretBytes.wipe(it.next().priv);
    }
  }

  @Override
  public String toString() {
    return "PreKeys[signed=" + signed.size() + ", oneTime=" + oneTime.size() + "]";
  }
}
