package chat.agentvault.ratchet;

import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Not API. Everything kept about one peer: the current session, up to {@link #MAX_ARCHIVED}
 * earlier ones (receive-only: late messages of a replaced session, and the losing side of a
 * simultaneous start), and the base keys of the last {@link #MAX_SEEN} initial messages accepted
 * (so a replayed initial message of a session that is gone is a {@code DUPLICATE}, not a reset;
 * X3DH §4.2). Immutable: changes return a new record.
 *
 * <p>Record, version 1: {@code version (1) = 0x01 || count (4) || [length (4) || session state]*
 * (current first) || count (4) || [base key (32)]*}.
 */
final class SessionRecord {
  static final int VERSION = 1;
  static final int MAX_ARCHIVED = 4;
  static final int MAX_SEEN = 64;

  private final List<SessionState> states;
  private final List<byte[]> seen;

  private SessionRecord(List<SessionState> states, List<byte[]> seen) {
    this.states = Collections.unmodifiableList(states);
    this.seen = Collections.unmodifiableList(seen);
  }

  static SessionRecord of(SessionState s) {
    return new SessionRecord(List.of(s), List.of(s.baseKey));
  }

  SessionState current() {
    return states.get(0);
  }

  List<SessionState> states() {
    return states;
  }

  int indexOf(byte[] baseKey) {
    for (int i = 0; i < states.size(); i++) {
      if (Arrays.equals(states.get(i).baseKey, baseKey)) {
        return i;
      }
    }
    return -1;
  }

  boolean seen(byte[] baseKey) {
    for (byte[] b : seen) {
      if (Arrays.equals(b, baseKey)) {
        return true;
      }
    }
    return false;
  }

  /** This record with state {@code i} replaced by {@code s}. */
  SessionRecord with(int i, SessionState s) {
    List<SessionState> next = new ArrayList<>(states);
    next.set(i, s);
    return new SessionRecord(next, seen);
  }

  /** {@code s} becomes current; the old current is archived. */
  SessionRecord promote(SessionState s) {
    List<SessionState> next = new ArrayList<>(states.size() + 1);
    next.add(s);
    next.addAll(states);
    return new SessionRecord(trim(next), remember(s.baseKey));
  }

  /** {@code s} is kept for receiving only, behind the current session. */
  SessionRecord archive(SessionState s) {
    List<SessionState> next = new ArrayList<>(states.size() + 1);
    next.add(states.get(0));
    next.add(s);
    next.addAll(states.subList(1, states.size()));
    return new SessionRecord(trim(next), remember(s.baseKey));
  }

  private static List<SessionState> trim(List<SessionState> l) {
    while (l.size() > 1 + MAX_ARCHIVED) {
      l.remove(l.size() - 1);
    }
    return l;
  }

  private List<byte[]> remember(byte[] baseKey) {
    ArrayDeque<byte[]> d = new ArrayDeque<>(seen);
    d.addLast(baseKey);
    while (d.size() > MAX_SEEN) {
      d.removeFirst();
    }
    return new ArrayList<>(d);
  }

  byte[] toBytes() {
    int length = 1 + 4 + 4 + 32 * seen.size();
    int[] lengths = new int[states.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = states.get(i).encodedLength();
      length += 4 + lengths[i];
    }
    Codec.Writer w = new Codec.Writer(length);
    w.u8(VERSION).u32(states.size());
    for (int i = 0; i < lengths.length; i++) {
      w.u32(lengths[i]);
      int start = w.position();
      states.get(i).writeTo(w);
      if (w.position() - start != lengths[i]) {
        throw new AssertionError("session state length");
      }
    }
    w.u32(seen.size());
    for (byte[] b : seen) {
      w.raw(b);
    }
    return w.toExactArray();
  }

  static SessionRecord parse(byte[] b) {
    if (b.length == 0) {
      throw new RatchetException(Reason.MALFORMED, "session record is empty");
    }
    if (b[0] != VERSION) {
      throw new RatchetException(Reason.UNSUPPORTED_VERSION, "session record version " + (b[0] & 0xff));
    }
    Codec.Reader r = new Codec.Reader(b, "session record");
    r.u8();
    int n = r.count(1 + MAX_ARCHIVED, 4);
    if (n == 0) {
      throw r.malformed("no session");
    }
    List<SessionState> states = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int len = r.u32();
      if (len < 0 || len > r.remaining()) {
        throw r.malformed("state length out of range");
      }
      int from = r.position();
      r.raw(len); // advance
      states.add(SessionState.parse(b, from, from + len));
    }
    int m = r.count(MAX_SEEN, 32);
    List<byte[]> seen = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      seen.add(r.raw(32));
    }
    r.end();
    return new SessionRecord(states, seen);
  }

  @Override
  public String toString() {
    return "SessionRecord[" + states.size() + " sessions]";
  }
}
