package chat.agentvault.channel;

import chat.agentvault.ratchet.PeerAddress;
import chat.agentvault.ratchet.PreKeyStore;
import chat.agentvault.ratchet.SessionStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Wraps the ratchet's session and prekey stores so that, between {@link #begin()} and {@link
 * #commit()} on the inbound thread, their saves are held back: the runtime first writes the
 * decrypted message to the inbox, then the advanced session state (docs/channel.md "Crash
 * safety"). Saves on other threads, and outside a deferral, go straight through. While deferred,
 * loads on the deferring thread see the held-back records.
 */
final class DeferredStores {
  private final SessionStore sessions;
  private final PreKeyStore preKeys;
  private final ThreadLocal<Pending> pending = new ThreadLocal<>();

  private static final class Pending {
    final Map<PeerAddress, byte[]> sessions = new LinkedHashMap<>();
    final List<PeerAddress> deleted = new ArrayList<>();
    byte[] preKeys;
  }

  DeferredStores(SessionStore sessions, PreKeyStore preKeys) {
    this.sessions = sessions;
    this.preKeys = preKeys;
  }

  void begin() {
    pending.set(new Pending());
  }

  /** Writes what was held back (the session records, then the prekeys). */
  void commit() {
    Pending p = pending.get();
    pending.remove();
    if (p == null) {
      return;
    }
    p.sessions.forEach(sessions::save);
    p.deleted.forEach(sessions::delete);
    if (p.preKeys != null) {
      preKeys.save(p.preKeys);
    }
  }

  /** Drops what was held back. */
  void discard() {
    pending.remove();
  }

  SessionStore sessionStore() {
    return new SessionStore() {
      @Override
      public void save(PeerAddress peer, byte[] record) {
        Pending p = pending.get();
        if (p == null) {
          sessions.save(peer, record);
        } else {
          p.deleted.remove(peer);
          p.sessions.put(peer, record.clone());
        }
      }

      @Override
      public Optional<byte[]> load(PeerAddress peer) {
        Pending p = pending.get();
        if (p != null && p.sessions.containsKey(peer)) {
          return Optional.of(p.sessions.get(peer).clone());
        }
        return sessions.load(peer);
      }

      @Override
      public boolean delete(PeerAddress peer) {
        Pending p = pending.get();
        if (p == null) {
          return sessions.delete(peer);
        }
        p.sessions.remove(peer);
        p.deleted.add(peer);
        return true;
      }

      @Override
      public List<PeerAddress> list() {
        return sessions.list();
      }
    };
  }

  PreKeyStore preKeyStore() {
    return new PreKeyStore() {
      @Override
      public void save(byte[] record) {
        Pending p = pending.get();
        if (p == null) {
          preKeys.save(record);
        } else {
          p.preKeys = record.clone();
        }
      }

      @Override
      public Optional<byte[]> load() {
        Pending p = pending.get();
        if (p != null && p.preKeys != null) {
          return Optional.of(p.preKeys.clone());
        }
        return preKeys.load();
      }
    };
  }
}
