package chat.agentvault.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.channel.InboundMessage;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RecentMessagesTest {
  private static InboundMessage inRoom(String room, String text) {
    return new InboundMessage(1, room, null, "dev-1", "alice", "text", text, null, "s", null, Instant.EPOCH, false);
  }

  @Test
  void keepsTheLatestPerRoomOldestFirst() {
    RecentMessages r = new RecentMessages(3);
    for (int i = 0; i < 5; i++) {
      r.received(inRoom("a", "m" + i));
    }
    r.received(inRoom("b", "other"));
    r.sent("a", "me", "you", "mine");
    assertThat(r.latest("a", 10)).extracting(RecentMessages.Entry::text).containsExactly("m3", "m4", "mine");
    assertThat(r.latest("a", 2)).extracting(RecentMessages.Entry::text).containsExactly("m4", "mine");
    assertThat(r.latest("b", 10)).extracting(RecentMessages.Entry::text).containsExactly("other");
    assertThat(r.latest("c", 10)).isEmpty();
    assertThat(r.name("dev-1")).contains("alice");
  }

  @Test
  void directMessagesTeachNamesButAreNotBuffered() {
    RecentMessages r = new RecentMessages(3);
    r.received(new InboundMessage(2, null, "conv", "dev-2", "bob", "text", "hi", null, "s", null, Instant.EPOCH, true));
    assertThat(r.name("dev-2")).contains("bob");
    assertThat(r.latest("conv", 10)).isEmpty();
    assertThatThrownBy(() -> new RecentMessages(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
