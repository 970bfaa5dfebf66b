package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import chat.agentvault.identity.DeviceIdentity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;

/** One device in a test: identity, stores, sessions, and its address as others see it. */
final class Party implements AutoCloseable {
  final DeviceIdentity identity;
  final PeerAddress address;
  final SessionStore sessions;
  final PreKeyStore preKeys;
  final RatchetConfig config;
  Sessions api;

  Party(RatchetConfig config) {
    this(DeviceIdentity.generate(), config, SessionStore.inMemory(), PreKeyStore.inMemory());
  }

  Party(DeviceIdentity identity, RatchetConfig config, SessionStore sessions, PreKeyStore preKeys) {
    this.identity = identity;
    this.address = new PeerAddress(identity.fingerprint(), 1);
    this.sessions = sessions;
    this.preKeys = preKeys;
    this.config = config;
    this.api = Sessions.builder(identity).sessionStore(sessions).preKeyStore(preKeys).config(config).build();
  }

  static Party create() {
    return new Party(RatchetConfig.DEFAULT);
  }

  static Party create(boolean headerEncryption) {
    return new Party(RatchetConfig.builder().headerEncryption(headerEncryption).build());
  }

  /** Simulates a restart: a new Sessions over the same stores. */
  void restart() {
    api = Sessions.builder(identity).sessionStore(sessions).preKeyStore(preKeys).config(config).build();
  }

  byte[] send(Party to, String text) {
    return api.encrypt(to.address, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  String receive(Party from, byte[] wire) {
    return new String(api.decrypt(from.address, wire).plaintext(), java.nio.charset.StandardCharsets.UTF_8);
  }

  RatchetException refuse(Party from, byte[] wire) {
    return catchThrowableOfType(() -> api.decrypt(from.address, wire), RatchetException.class);
  }

  /** The stored record bytes for {@code peer} (what a crash would leave). */
  byte[] stored(Party peer) {
    return sessions.load(peer.address).orElseThrow();
  }

  SessionRecord record(Party peer) {
    return SessionRecord.parse(stored(peer));
  }

  /** Asserts {@code wire} from {@code from} is refused with {@code reason} and changes nothing. */
  void assertRefused(Party from, byte[] wire, RatchetException.Reason reason) {
    byte[] before = sessions.load(from.address).orElse(null);
    RatchetException e = refuse(from, wire);
    assertThat(e).as("refusal").isNotNull();
    assertThat(e.reason()).isEqualTo(reason);
    byte[] after = sessions.load(from.address).orElse(null);
    assertThat(Arrays.equals(before, after)).as("stored state unchanged").isTrue();
  }

  @Override
  public void close() {
    api.close();
    identity.close();
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
