package chat.agentvault.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.MessageType;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;

/** {@link VaultListener} methods: discovery, filters, placeholders, signature checks, failure isolation. */
class VaultListenerTest {
  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(AgentVaultAutoConfiguration.class))
      .withBean(AgentClient.class, () -> mock(AgentClient.class))
      .withPropertyValues("agentvault.auto-start=false");

  static InboundMessage message(long id, String room, String type) {
    return new InboundMessage(id, room, room == null ? "conv-1" : null, "sender", "owner", type, "text " + id, null,
        "span-" + id, null, Instant.EPOCH, true);
  }

  static class Listeners {
    final List<String> got = new CopyOnWriteArrayList<>();

    @VaultListener
    void all(InboundMessage m) {
      got.add("all:" + m.messageId());
    }

    @VaultListener(room = "room-a")
    void roomA(InboundMessage m) {
      got.add("roomA:" + m.messageId());
    }

    @VaultListener(messageType = MessageType.DECISION_REQUEST)
    void decisions(InboundMessage m) {
      got.add("decisions:" + m.messageId());
    }

    @VaultListener(room = "${test.ops-room}", messageType = MessageType.TEXT)
    void opsText(InboundMessage m) {
      got.add("opsText:" + m.messageId());
    }

    @VaultListener(room = "room-a")
    void failing(InboundMessage m) {
      throw new IllegalStateException("listener bug");
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class ListenerConfig {
    @Bean
    Listeners listeners() {
      return new Listeners();
    }
  }

  @Test
  void matchingMethodsReceiveEachMessage() {
    runner.withUserConfiguration(ListenerConfig.class).withPropertyValues("test.ops-room=ops").run(ctx -> {
      assertThat(ctx).hasNotFailed();
      assertThat(ctx.getBean(VaultListenerRegistrar.class).endpoints()).hasSize(5);
      AgentClient client = ctx.getBean(AgentClient.class);
      ctx.publishEvent(new AgentVaultMessageEvent(client, message(1, "room-a", MessageType.TEXT)));
      ctx.publishEvent(new AgentVaultMessageEvent(client, message(2, null, MessageType.DECISION_REQUEST)));
      ctx.publishEvent(new AgentVaultMessageEvent(client, message(3, "ops", MessageType.TEXT)));
      ctx.publishEvent(new AgentVaultMessageEvent(client, message(4, "ops", MessageType.REACTION)));
      assertThat(ctx.getBean(Listeners.class).got).containsExactly(
          "all:1", "roomA:1", // "failing" threw on 1: logged, the others still ran
          "all:2", "decisions:2",
          "all:3", "opsText:3",
          "all:4");
    });
  }

  static class BadSignature {
    @VaultListener
    String reply(InboundMessage m) {
      return "no";
    }
  }

  static class NoParameter {
    @VaultListener
    void nothing() {}
  }

  @Test
  void aWrongSignatureFailsTheContextNamingTheMethod() {
    runner.withBean(BadSignature.class).run(ctx -> assertThat(AgentVaultAutoConfigurationTest.rootMessage(ctx.getStartupFailure()))
        .contains("BadSignature.reply", "must be a void instance method taking one InboundMessage"));
    runner.withBean(NoParameter.class).run(ctx -> assertThat(AgentVaultAutoConfigurationTest.rootMessage(ctx.getStartupFailure()))
        .contains("NoParameter.nothing"));
  }

  @Configuration(proxyBeanMethods = false)
  static class PrototypeConfig {
    @Bean
    @Scope("prototype")
    Listeners prototypeListeners() {
      return new Listeners();
    }
  }

  @Test
  void prototypeBeansAreRefused() {
    runner.withUserConfiguration(PrototypeConfig.class).run(ctx -> {
      assertThat(ctx).hasNotFailed(); // nothing asked for the prototype yet
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> ctx.getBean(Listeners.class))
          .rootCause().hasMessageContaining("need a singleton bean");
    });
  }
}
