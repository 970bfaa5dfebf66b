package chat.agentvault.samples;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.channel.InboundMessage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the whole demo (scripted model) and checks the transcript's key facts. */
class DemoTest {

  @Test
  void projectAlphaTranscript() throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream both = new PrintStream(new Tee(captured, System.out), true, StandardCharsets.UTF_8);
    Demo.Result r = Demo.run(new Demo.Options(both, true));
    String out = captured.toString(StandardCharsets.UTF_8);

    // the conversation, in order, with who sent what
    assertThat(r.lines()).extracting(Demo.Line::sender)
        .containsExactly("owner", "planner", "analyst", "planner", "reviewer", "owner");
    assertThat(r.lines()).extracting(Demo.Line::messageType)
        .containsExactly("text", "text", "text", "decision_request", "decision_response", "text");
    assertThat(r.lines().get(0).text()).isEqualTo(Demo.KICKOFF);
    assertThat(r.lines().get(1).text()).isEqualTo(PlainJavaAgent.PLAN);
    assertThat(r.lines().get(2).text()).startsWith("Risk check (read the last ");
    assertThat(r.lines().get(3).text()).isEqualTo(PlainJavaAgent.DECISION);
    assertThat(r.lines().get(4).text()).isEqualTo(SpringAgentApplication.APPROVAL);
    assertThat(r.lines().get(5).text()).isEqualTo(Demo.AFTER_REMOVAL);

    // each message decrypted, identical, by exactly the members it was meant for
    for (Demo.Line l : r.lines()) {
      assertThat(l.decryptedBy().keySet()).as("recipients of %d", l.messageId())
          .containsExactlyInAnyOrderElementsOf(l.expected());
      assertThat(l.decryptedBy().values()).as("texts of %d", l.messageId()).containsOnly(l.text());
    }
    assertThat(texts(r.received().get("planner"))).contains(Demo.KICKOFF, Demo.AFTER_REMOVAL);
    assertThat(texts(r.received().get("analyst"))).contains(PlainJavaAgent.PLAN, Demo.AFTER_REMOVAL);
    assertThat(texts(r.received().get("reviewer"))).contains(PlainJavaAgent.DECISION).doesNotContain(Demo.AFTER_REMOVAL);
    InboundMessage decision = r.received().get("owner").stream()
        .filter(m -> "decision_response".equals(m.messageType())).findFirst().orElseThrow();
    assertThat(decision.data()).containsEntry("choice", "approve");

    // the removed agent got nothing after its removal; removal and rekey moved the epoch
    assertThat(r.removedAgentGotAfterRemoval()).isEmpty();
    long afterRemoval = r.lines().get(5).messageId();
    assertThat(r.received().get("reviewer")).allMatch(m -> m.messageId() < afterRemoval);

    // what the relay stores: no plaintext, in an MLS room
    assertThat(r.leaks()).isEmpty();
    for (Demo.Line l : r.lines()) {
      assertThat(Demo.indexOf(l.stored().payload(), l.text().getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
      assertThat(l.stored().contentType()).isEqualTo("application/vnd.agentvault.mls+v1");
    }
    assertThat(r.encrypted()).isTrue();
    assertThat(r.epochAfterRekey()).isGreaterThan(r.epochBeforeRemoval());
    assertThat(r.failures()).isEmpty();
    assertThat(out).contains("agent's terminal shows", "relay lists to the owner", "DEMO OK")
        .doesNotContain("PLAINTEXT");
  }

  private static List<String> texts(List<InboundMessage> ms) {
    return ms.stream().map(InboundMessage::text).toList();
  }

  /** Writes to both streams. */
  private static final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
