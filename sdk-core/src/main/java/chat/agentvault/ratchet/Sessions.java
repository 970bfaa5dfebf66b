package chat.agentvault.ratchet;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.Fingerprint;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The 1:1 sessions of one device: X3DH to agree a secret, the Double Ratchet with
 * XChaCha20-Poly1305 to protect each message (Signal's X3DH and Double Ratchet, Revision 1).
 *
 * <pre>{@code
 * Sessions bob = Sessions.builder(bobIdentity).build();
 * byte[] published = bob.bundle().toBytes();              // to the relay
 *
 * Sessions alice = Sessions.builder(aliceIdentity).build();
 * PreKeyBundle bundle = PreKeyBundle.parse(published);     // verifies the signatures
 * alice.start(bobAddress, bundle);
 * byte[] wire = alice.encrypt(bobAddress, hello);          // an initial message until Bob replies
 * Decrypted d = bob.decrypt(aliceAddress, wire);           // d.newSession() is true
 * }</pre>
 *
 * <p><b>State and crashes.</b> Every operation computes the new session state on a copy, saves it
 * to the {@link SessionStore}, and only then returns: {@link #encrypt} never returns a ciphertext
 * whose message key a restarted process could use again, and {@link #decrypt} never returns a
 * plaintext whose key is still in the stored state. A refused message ({@link RatchetException})
 * changes neither the stored nor the in-memory state, and if saving fails the call throws and
 * changes nothing either. A one-time prekey is deleted after the session it opened was saved.
 *
 * <p><b>Simultaneous start.</b> When both devices start a session before either received the
 * other's initial message, both keep the session started by the device with the lower identity
 * fingerprint (bytes compared unsigned); the other session is kept for receiving only, so no
 * message sent on it is lost. This assumes the relay delivers one sender's messages in order.
 *
 * <p>Thread-safe: operations on one peer are serialised, different peers run in parallel.
 */
public final class Sessions implements AutoCloseable {
  private final DeviceIdentity identity;
  private final byte[] ownIdentity;
  private final Fingerprint ownFingerprint;
  private final SessionStore store;
  private final PreKeys preKeys;
  private final RatchetConfig config;
  private final Map<PeerAddress, SessionRecord> cache = new ConcurrentHashMap<>();
  private final Map<PeerAddress, Object> locks = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private Sessions(Builder b) {
    this.identity = b.identity;
    this.ownIdentity = identity.publicIdentity().encode();
    this.ownFingerprint = identity.fingerprint();
    this.store = b.sessionStore;
    this.config = b.config;
    this.preKeys = PreKeys.open(identity, b.preKeyStore, config);
  }

  /** A builder for the sessions of {@code identity} (owned by the caller, who closes it). */
  public static Builder builder(DeviceIdentity identity) {
    return new Builder(identity);
  }

  // ------------------------------------------------------------------ prekeys

  /**
   * A bundle to publish, with a one-time prekey never handed out before. Rotates the signed
   * prekey and tops up one-time prekeys when due (see {@link RatchetConfig}).
   */
  public PreKeyBundle bundle() {
    checkOpen();
    return preKeys.bundle(true);
  }

  /** A bundle without a one-time prekey (X3DH §3.3: for when the relay has run out of them). */
  public PreKeyBundle bundleWithoutOneTimePreKey() {
    checkOpen();
    return preKeys.bundle(false);
  }

  // ------------------------------------------------------------------ sessions

  /**
   * Starts a session with {@code peer} from its verified bundle (X3DH §3.3), replacing the current
   * one if any (which is kept for late messages). Messages to the peer are initial messages until
   * its first reply arrives.
   *
   * @throws RatchetException {@code SMALL_ORDER_KEY} when a key of the bundle is of low order
   * @throws IllegalArgumentException when the bundle is not of {@code peer}'s identity, or is this
   *     device's own
   */
  public void start(PeerAddress peer, PreKeyBundle bundle) {
    checkOpen();
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(bundle, "bundle");
    if (!bundle.identity().fingerprint().equals(peer.fingerprint())) {
      throw new IllegalArgumentException("bundle is not of " + peer);
    }
    if (bundle.identity().fingerprint().equals(ownFingerprint)) {
      throw new IllegalArgumentException("bundle is this device's own");
    }
    SessionState s =
        X3dh.initiate(identity, bundle, config.headerEncryption(), config.clock().millis());
    synchronized (lock(peer)) {
      SessionRecord rec = load(peer).orElse(null);
      commit(peer, rec, rec == null ? SessionRecord.of(s) : rec.promote(s));
    }
  }

  /**
   * Encrypts {@code plaintext} for {@code peer}.
   *
   * @throws RatchetException {@code UNKNOWN_SESSION} when there is no session with {@code peer}
   */
  public byte[] encrypt(PeerAddress peer, byte[] plaintext) {
    checkOpen();
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(plaintext, "plaintext");
    synchronized (lock(peer)) {
      SessionRecord rec = load(peer).orElseThrow(() -> unknown(peer));
      SessionState c = rec.current().copy();
      DoubleRatchet.Limits l = DoubleRatchet.Limits.of(config);
      c.purgeExpired(l.now(), l.lifetimeMillis(), l.maxSkipped());
      int capacity = 320; // the largest prefix: PREKEY with an encrypted header is 256 bytes
      Codec.Writer prefix =
          c.pending()
              ? WireMessage.preKeyPrefix(
                  c.headerEncryption, ownIdentity, c.baseKey, c.signedPreKeyId, c.oneTimePreKeyId,
                  capacity)
              : WireMessage.normalPrefix(c.headerEncryption, capacity);
      byte[] out;
      try {
        out = DoubleRatchet.encrypt(c, prefix, plaintext);
      } catch (RuntimeException e) {
        c.wipe();
        throw e;
      }
      commit(peer, rec, rec.with(0, c));
      return out;
    }
  }

  /**
   * Decrypts a message from {@code peer}: an initial message (which may start a session) or a
   * ratchet message of an existing one.
   *
   * @throws RatchetException with the reason: {@code MALFORMED}, {@code UNSUPPORTED_VERSION},
   *     {@code BAD_SIGNATURE}, {@code SMALL_ORDER_KEY}, {@code SIGNED_PREKEY_UNKNOWN}, {@code
   *     ONE_TIME_PREKEY_UNKNOWN_OR_USED}, {@code UNKNOWN_SESSION}, {@code TOO_MANY_SKIPPED}, {@code
   *     BAD_MAC}, {@code DUPLICATE} or {@code EXPIRED}; nothing changed
   */
  public Decrypted decrypt(PeerAddress peer, byte[] message) {
    checkOpen();
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(message, "message");
    WireMessage m = WireMessage.parse(message.clone());
    synchronized (lock(peer)) {
      SessionRecord rec = load(peer).orElse(null);
      DoubleRatchet.Limits l = DoubleRatchet.Limits.of(config);
      if (m.isPreKey()) {
        if (!m.sender.fingerprint().equals(peer.fingerprint())) {
          throw new RatchetException(
              Reason.MALFORMED, "initial message of another identity than " + peer);
        }
        if (rec != null) {
          int i = rec.indexOf(m.baseKey);
          if (i >= 0) {
            return decryptWith(peer, rec, i, m, l);
          }
          if (rec.seen(m.baseKey)) {
            throw new RatchetException(
                Reason.DUPLICATE, "initial message of a session already replaced");
          }
        }
        return accept(peer, rec, m, l);
      }
      if (rec == null) {
        throw unknown(peer);
      }
      RatchetException best = null;
      for (int i = 0; i < rec.states().size(); i++) {
        try {
          return decryptWith(peer, rec, i, m, l);
        } catch (RatchetException e) {
          if (best == null || (best.reason() == Reason.BAD_MAC && e.reason() != Reason.BAD_MAC)) {
            best = e;
          }
        }
      }
      throw best;
    }
  }

  private Decrypted decryptWith(
      PeerAddress peer, SessionRecord rec, int i, WireMessage m, DoubleRatchet.Limits l) {
    SessionState c = rec.states().get(i).copy();
    byte[] plaintext;
    PublicIdentity sender;
    try {
      plaintext = DoubleRatchet.decrypt(c, m, l);
      sender = c.peer(); // parsed once per load: may refuse, so before anything is saved
    } catch (RuntimeException e) {
      c.wipe();
      throw e;
    }
    commit(peer, rec, rec.with(i, c));
    return new Decrypted(plaintext, sender, false);
  }

  /** X3DH §3.4 for an initial message of a session this device does not have yet. */
  private Decrypted accept(PeerAddress peer, SessionRecord rec, WireMessage m, DoubleRatchet.Limits l) {
    preKeys.maintain(); // a signed prekey past its grace period is deleted before it can be used
    int opk = m.oneTimePreKeyId;
    if (opk >= 0) {
      preKeys.reserve(opk); // one session per one-time prekey, even under concurrent accepts
    }
    boolean stored = false;
    try {
      SessionState fresh = X3dh.respond(identity, preKeys, m, l.now());
      byte[] plaintext;
      try {
        plaintext = DoubleRatchet.decrypt(fresh, m, l); // §3.4: on failure, abort and delete SK
      } catch (RuntimeException e) {
        fresh.wipe();
        throw e;
      }
      SessionRecord next;
      if (rec == null) {
        next = SessionRecord.of(fresh);
      } else if (rec.current().pending() && ownWins(peer)) {
        next = rec.archive(fresh); // simultaneous start: ours stays current
      } else {
        next = rec.promote(fresh);
      }
      commit(peer, rec, next);
      stored = true;
      return new Decrypted(plaintext, m.sender, true);
    } finally {
      if (opk >= 0) {
        if (stored) {
          preKeys.consume(opk); // §3.4: deleted once used, after the session is stored
        } else {
          preKeys.release(opk);
        }
      }
    }
  }

  private boolean ownWins(PeerAddress peer) {
    return Arrays.compareUnsigned(ownFingerprint.toByteArray(), peer.fingerprint().toByteArray())
        < 0;
  }

  /** True when a session with {@code peer} exists (in memory or in the store). */
  public boolean hasSession(PeerAddress peer) {
    checkOpen();
    Objects.requireNonNull(peer, "peer");
    synchronized (lock(peer)) {
      return load(peer).isPresent();
    }
  }

  /** Deletes every session with {@code peer}; false if there was none. */
  public boolean deleteSession(PeerAddress peer) {
    checkOpen();
    Objects.requireNonNull(peer, "peer");
    synchronized (lock(peer)) {
      SessionRecord rec = cache.remove(peer);
      boolean existed = store.delete(peer) || rec != null;
      if (rec != null) {
        rec.states().forEach(SessionState::wipe);
      }
      return existed;
    }
  }

  /**
   * Wipes the session and prekey secrets held in memory; the stores keep theirs. Idempotent; any
   * later call throws {@link IllegalStateException}.
   */
  @Override
  public void close() {
    closed = true;
    for (SessionRecord r : cache.values()) {
      r.states().forEach(SessionState::wipe);
    }
    cache.clear();
    preKeys.close();
  }

  // ------------------------------------------------------------------ internals

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("sessions were closed");
    }
  }

  private Object lock(PeerAddress peer) {
    return locks.computeIfAbsent(peer, k -> new Object());
  }

  private Optional<SessionRecord> load(PeerAddress peer) {
    SessionRecord r = cache.get(peer);
    if (r != null) {
      return Optional.of(r);
    }
    Optional<byte[]> saved = store.load(peer);
    if (saved.isEmpty()) {
      return Optional.empty();
    }
    byte[] b = saved.get();
    try {
      r = SessionRecord.parse(b);
    } finally {
      SecretBytes.wipe(b);
    }
    cache.put(peer, r);
    return Optional.of(r);
  }

  /** Saves {@code next}, then makes it the live record and wipes states it no longer holds. */
  private void commit(PeerAddress peer, SessionRecord old, SessionRecord next) {
    byte[] bytes = next.toBytes();
    try {
      store.save(peer, bytes);
    } catch (RuntimeException e) {
      for (SessionState s : next.states()) {
        if (old == null || !containsIdentical(old, s)) {
          s.wipe();
        }
      }
      // The store may or may not hold the new record (a failure after the write): the next
      // operation reads whatever it holds, so memory never runs behind or ahead of it.
      cache.remove(peer);
      throw e;
    } finally {
      SecretBytes.wipe(bytes);
    }
    cache.put(peer, next);
    if (old != null) {
      for (SessionState s : old.states()) {
        if (!containsIdentical(next, s)) {
          s.wipe();
        }
      }
    }
  }

  private static boolean containsIdentical(SessionRecord r, SessionState s) {
    for (SessionState x : r.states()) {
      if (x == s) {
        return true;
      }
    }
    return false;
  }

  private static RatchetException unknown(PeerAddress peer) {
    return new RatchetException(Reason.UNKNOWN_SESSION, "no session with " + peer);
  }

  PreKeys preKeys() {
    return preKeys;
  }

  SessionStore store() {
    return store;
  }

  @Override
  public String toString() {
    return "Sessions[" + ownFingerprint.shortForm() + ", " + cache.size() + " peers loaded]";
  }

  /** Settings for {@link Sessions}; in-memory stores and {@link RatchetConfig#DEFAULT} by default. */
  public static final class Builder {
    private final DeviceIdentity identity;
    private SessionStore sessionStore;
    private PreKeyStore preKeyStore;
    private RatchetConfig config = RatchetConfig.DEFAULT;

    private Builder(DeviceIdentity identity) {
      this.identity = Objects.requireNonNull(identity, "identity");
    }

    public Builder sessionStore(SessionStore store) {
      this.sessionStore = Objects.requireNonNull(store, "sessionStore");
      return this;
    }

    public Builder preKeyStore(PreKeyStore store) {
      this.preKeyStore = Objects.requireNonNull(store, "preKeyStore");
      return this;
    }

    public Builder config(RatchetConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Loads (or creates and saves) the prekeys; sessions are loaded on first use. */
    public Sessions build() {
      if (identity.isClosed()) {
        throw new IllegalStateException("identity was closed");
      }
      if (sessionStore == null) {
        sessionStore = SessionStore.inMemory();
      }
      if (preKeyStore == null) {
        preKeyStore = PreKeyStore.inMemory();
      }
      return new Sessions(this);
    }
  }
}
