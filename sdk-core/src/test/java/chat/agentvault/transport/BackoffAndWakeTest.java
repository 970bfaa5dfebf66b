package chat.agentvault.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BackoffAndWakeTest {
  @Test
  void backoffDoublesUpToTheCapWithJitterInTheUpperHalf() {
    Backoff low = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> 0.0);
    Backoff high = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> 0.999999);
    assertThat(low.delay(0)).isEqualTo(Duration.ofMillis(250));
    assertThat(high.delay(0)).isBetween(Duration.ofMillis(499), Duration.ofMillis(500));
    assertThat(low.delay(1)).isEqualTo(Duration.ofMillis(500));
    assertThat(low.delay(3)).isEqualTo(Duration.ofMillis(2000));
    assertThat(high.delay(10)).isBetween(Duration.ofMillis(29_999), Duration.ofSeconds(30));
    assertThat(low.delay(10)).isEqualTo(Duration.ofSeconds(15));
    assertThat(high.delay(1000)).isLessThanOrEqualTo(Duration.ofSeconds(30)); // no overflow
    assertThat(low.delay(63)).isEqualTo(Duration.ofSeconds(15));
    assertThatThrownBy(() -> low.delay(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), () -> 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void wakeDetectorReportsAGapLongerThanTheThresholdOnce() {
    AtomicLong now = new AtomicLong(1_000);
    WakeDetector w = new WakeDetector(now::get, Duration.ofSeconds(120));
    for (int i = 0; i < 200; i++) {
      now.addAndGet(Duration.ofSeconds(1).toNanos());
      assertThat(w.tick()).isFalse();
    }
    now.addAndGet(Duration.ofSeconds(120).toNanos()); // exactly the gap: not a sleep
    assertThat(w.tick()).isFalse();
    now.addAndGet(Duration.ofSeconds(121).toNanos()); // the scheduler was frozen: the machine slept
    assertThat(w.tick()).isTrue();
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(w.tick()).isFalse();
  }

  @Test
  void relayExceptionSaysWhatToRetry() {
    assertThat(new RelayException(0, "refused", null, null).isRetriable()).isTrue();
    assertThat(new RelayException(503, "database unavailable", null, null).isRetriable()).isTrue();
    assertThat(new RelayException(429, "rate limit", null, null).isRetriable()).isTrue();
    RelayException conflict = new RelayException(409, "epoch conflict", 7L, null);
    assertThat(conflict.isRetriable()).isFalse();
    assertThat(conflict.currentEpoch()).hasValue(7);
    assertThat(new RelayException(403, "device revoked", null, null).currentEpoch()).isEmpty();
  }

  @Test
  void relayMessagesParseIntoWireMessages() throws Exception {
    WireMessage m = RelayHttp.message(RelayHttp.MAPPER.readTree("{\"message_id\":42,\"sender_device_id\":\"s\","
        + "\"room_id\":null,\"conversation_id\":\"c\",\"message_type\":\"text\",\"content_type\":\"text/plain\","
        + "\"client_message_id\":\"x\",\"epoch\":null,\"payload\":\"aGk=\",\"created_at\":\"2025-01-01T00:00:00Z\"}"));
    assertThat(m.messageId()).isEqualTo(42);
    assertThat(m.roomId()).isNull();
    assertThat(m.conversationId()).isEqualTo("c");
    assertThat(m.epoch()).isNull();
    assertThat(new String(m.payload(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("hi");
  }

  @Test
  void loginMessageLayout() {
    java.util.UUID t = java.util.UUID.randomUUID();
    java.util.UUID d = java.util.UUID.randomUUID();
    byte[] m = RelaySession.signedMessage(t, d, new byte[32]);
    assertThat(m).hasSize(19 + 32 + 32);
    assertThat(new String(m, 0, 18, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("agentvault-auth-v1");
    assertThat(m[18]).isZero();
  }
}
