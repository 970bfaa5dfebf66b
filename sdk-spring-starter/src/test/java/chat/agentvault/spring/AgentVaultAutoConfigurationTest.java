package chat.agentvault.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import chat.agentvault.identity.Fingerprint;
import chat.agentvault.identity.KeyProtection;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/** The auto-configuration in application contexts without a relay. */
class AgentVaultAutoConfigurationTest {
  static final String PASSPHRASE = "correct horse battery staple";
  static final String INVITE = "inv_secret_token_123";

  @TempDir Path dir;

  final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(AgentVaultAutoConfiguration.class, AgentVaultHealthAutoConfiguration.class));

  ApplicationContextRunner configured() {
    return runner.withPropertyValues(
        "agentvault.relay-url=http://127.0.0.1:1",
        "agentvault.data-dir=" + dir.resolve("data"),
        "agentvault.key-store-passphrase=" + PASSPHRASE,
        "agentvault.invite-token=" + INVITE,
        "agentvault.agent-name=analyst",
        "agentvault.auto-start=false");
  }

  @Test
  void beansAreCreatedFromProperties() {
    configured().run(ctx -> {
      assertThat(ctx).hasNotFailed();
      assertThat(ctx).hasSingleBean(AgentClient.class).hasBean(AgentVaultAutoConfiguration.CLIENT_BEAN);
      assertThat(ctx).hasSingleBean(KeyProtection.class).hasSingleBean(AgentVaultLifecycle.class)
          .hasSingleBean(VaultListenerRegistrar.class).hasSingleBean(AgentVaultHealthIndicator.class)
          .hasBean(AgentVaultHealthAutoConfiguration.BEAN);
      AgentClient client = ctx.getBean(AgentClient.class);
      assertThat(client.state()).isEqualTo(ClientState.CREATED); // auto-start=false
      assertThat(client.toString()).contains("analyst");
      assertThat(ctx.getBean(AgentVaultLifecycle.class).isAutoStartup()).isFalse();
      assertThat(ctx.getBean(AgentVaultLifecycle.class).isRunning()).isFalse();
      AgentVaultProperties p = ctx.getBean(AgentVaultProperties.class);
      assertThat(p.relayUrl()).isEqualTo("http://127.0.0.1:1");
      assertThat(p.pollInterval()).isEqualTo(Duration.ofSeconds(15));
      assertThat(p.approvalPollInterval()).isEqualTo(Duration.ofSeconds(5));
      assertThat(p.awaitStart()).isZero();
      // secrets never in toString, of the properties, the key protection or the client
      for (Object o : List.of(p, ctx.getBean(KeyProtection.class), client)) {
        assertThat(o.toString()).doesNotContain(PASSPHRASE).doesNotContain(INVITE);
      }
      assertThat(p.toString()).contains("keyStorePassphrase=[set]", "inviteToken=[set]");
    });
  }

  @Test
  void agentNameDefaultsToTheApplicationName() {
    runner.withPropertyValues("agentvault.relay-url=https://relay.example.com", "agentvault.data-dir=" + dir,
        "agentvault.key-store-passphrase=x", "agentvault.auto-start=false", "spring.application.name=billing-bot")
        .run(ctx -> assertThat(ctx.getBean(AgentClient.class).toString()).contains("billing-bot"));
  }

  @Test
  void clientAndKeyProtectionBackOffWhenTheApplicationDefinesAClient() {
    runner.withUserConfiguration(OwnClient.class).withPropertyValues("agentvault.auto-start=false").run(ctx -> {
      // no relay-url, data-dir or passphrase needed: the application's client is used as it is
      assertThat(ctx).hasNotFailed();
      assertThat(ctx).hasSingleBean(AgentClient.class).hasBean("ownClient")
          .doesNotHaveBean(AgentVaultAutoConfiguration.CLIENT_BEAN).doesNotHaveBean(KeyProtection.class);
      assertThat(ctx.getBean(AgentVaultLifecycle.class).client()).isSameAs(ctx.getBean("ownClient"));
      assertThat(ctx).hasSingleBean(AgentVaultHealthIndicator.class);
    });
  }

  @Test
  void anApplicationKeyProtectionIsUsedAndNoPassphraseIsNeeded() {
    runner.withUserConfiguration(OwnKeyProtection.class)
        .withPropertyValues("agentvault.relay-url=http://127.0.0.1:1", "agentvault.data-dir=" + dir, "agentvault.auto-start=false")
        .run(ctx -> {
          assertThat(ctx).hasNotFailed();
          assertThat(ctx).hasSingleBean(KeyProtection.class).hasBean("ownKeys").hasSingleBean(AgentClient.class);
        });
  }

  @Test
  void missingRelayUrlFailsWithAClearMessage() {
    runner.withPropertyValues("agentvault.data-dir=" + dir, "agentvault.key-store-passphrase=x").run(ctx -> {
      assertThat(ctx).hasFailed();
      assertThat(rootMessage(ctx.getStartupFailure()))
          .contains("AgentVault is not configured", "agentvault.relay-url is not set", "agentvault.enabled=false")
          .doesNotContain("data-dir");
    });
  }

  @Test
  void everyMissingSettingIsNamedAtOnce() {
    runner.run(ctx -> {
      assertThat(ctx).hasFailed();
      assertThat(rootMessage(ctx.getStartupFailure())).contains("agentvault.relay-url", "agentvault.data-dir",
          "exactly one of agentvault.key-store-passphrase and agentvault.key-store-key-file");
    });
  }

  @Test
  void passphraseAndKeyFileTogetherAreRefused() {
    runner.withPropertyValues("agentvault.relay-url=http://127.0.0.1:1", "agentvault.data-dir=" + dir,
        "agentvault.key-store-passphrase=" + PASSPHRASE, "agentvault.key-store-key-file=" + dir.resolve("k"))
        .run(ctx -> assertThat(rootMessage(ctx.getStartupFailure())).contains("not both").doesNotContain(PASSPHRASE));
  }

  @Test
  void aRelayUrlWithoutSchemeIsRefused() {
    runner.withPropertyValues("agentvault.relay-url=relay.example.com", "agentvault.data-dir=" + dir,
        "agentvault.key-store-passphrase=x")
        .run(ctx -> assertThat(rootMessage(ctx.getStartupFailure())).contains("must start with http:// or https://"));
  }

  @Test
  void keyFileAsRawBytesOrBase64() throws Exception {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (i * 7);
    }
    Path raw = Files.write(dir.resolve("raw.key"), key);
    Path b64 = Files.writeString(dir.resolve("b64.key"), Base64.getEncoder().encodeToString(key) + "\n");
    Path bad = Files.writeString(dir.resolve("bad.key"), "not a key");
    for (Path ok : List.of(raw, b64)) {
      runner.withPropertyValues("agentvault.relay-url=http://127.0.0.1:1", "agentvault.data-dir=" + dir,
          "agentvault.key-store-key-file=" + ok, "agentvault.auto-start=false")
          .run(ctx -> assertThat(ctx.getBean(KeyProtection.class).toString()).isEqualTo("KeyProtection[32-byte key]"));
    }
    runner.withPropertyValues("agentvault.relay-url=http://127.0.0.1:1", "agentvault.data-dir=" + dir,
        "agentvault.key-store-key-file=" + bad)
        .run(ctx -> assertThat(rootMessage(ctx.getStartupFailure())).contains("must hold a 32-byte key"));
  }

  @Test
  void disabledConfiguresNothing() {
    runner.withPropertyValues("agentvault.enabled=false").run(ctx -> {
      assertThat(ctx).hasNotFailed();
      assertThat(ctx).doesNotHaveBean(AgentClient.class).doesNotHaveBean(AgentVaultLifecycle.class)
          .doesNotHaveBean(AgentVaultProperties.class).doesNotHaveBean(AgentVaultHealthIndicator.class);
    });
  }

  @Test
  void noHealthIndicatorWithoutSpringBootHealthOrWhenTurnedOff() {
    configured().withClassLoader(new FilteredClassLoader(HealthIndicator.class)).run(ctx -> {
      assertThat(ctx).hasNotFailed().hasSingleBean(AgentClient.class).doesNotHaveBean(AgentVaultHealthIndicator.class);
    });
    configured().withPropertyValues("management.health.agentvault.enabled=false")
        .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(AgentVaultHealthIndicator.class));
  }

  @Test
  void healthFollowsTheClientState() {
    AgentClient client = mock(AgentClient.class);
    Fingerprint fp = mock(Fingerprint.class);
    when(fp.full()).thenReturn("abcd:ef01");
    when(client.fingerprint()).thenReturn(fp);
    when(client.deviceId()).thenReturn(Optional.of("3f6c1d2e-0000-4000-8000-000000000001"));
    when(client.role()).thenReturn(Optional.of("agent"));
    runner.withBean(AgentClient.class, () -> client).withPropertyValues("agentvault.auto-start=false").run(ctx -> {
      AgentVaultHealthIndicator health = ctx.getBean(AgentVaultHealthIndicator.class);
      List<Status> seen = new ArrayList<>();
      for (ClientState s : ClientState.values()) {
        when(client.state()).thenReturn(s);
        Health h = health.health();
        seen.add(h.getStatus());
        assertThat(h.getDetails()).containsEntry("state", s.name()).containsEntry("fingerprint", "abcd:ef01")
            .containsEntry("deviceId", "3f6c1d2e-0000-4000-8000-000000000001").containsEntry("role", "agent")
            .doesNotContainKey("error");
      }
      // CREATED, ENROLLING, PENDING_APPROVAL, CONNECTING, ONLINE, OFFLINE, SUSPENDED, REVOKED, CLOSED
      assertThat(seen).containsExactly(Status.UNKNOWN, Status.UNKNOWN, Status.OUT_OF_SERVICE, Status.UNKNOWN, Status.UP,
          Status.DOWN, Status.OUT_OF_SERVICE, Status.DOWN, Status.DOWN);
    });
  }

  @Test
  void aFailedStartDoesNotFailTheContextAndShowsAsDown() {
    // no invite on the first run: start() fails on the agentvault-start thread
    runner.withPropertyValues("agentvault.relay-url=http://127.0.0.1:1", "agentvault.data-dir=" + dir.resolve("fresh"),
        "agentvault.key-store-passphrase=" + PASSPHRASE).run(ctx -> {
          assertThat(ctx).hasNotFailed();
          AgentVaultLifecycle lifecycle = ctx.getBean(AgentVaultLifecycle.class);
          assertThat(lifecycle.isRunning()).isTrue();
          AgentVaultHealthIndicator health = ctx.getBean(AgentVaultHealthIndicator.class);
          long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          while (lifecycle.startFailure().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          assertThat(lifecycle.startFailure()).get().extracting(Throwable::getMessage).asString()
              .contains("inviteToken is required");
          Health h = health.health();
          assertThat(h.getStatus()).isEqualTo(Status.DOWN);
          assertThat(h.getDetails()).containsEntry("error", IllegalStateException.class.getName())
              .containsKey("fingerprint"); // the identity was created before the invite was missed
          assertThat(h.getDetails().values().toString()).doesNotContain(PASSPHRASE);
        });
  }

  @Test
  void awaitStartFailsTheContextWhenTheClientDoesNotLogIn() {
    runner.withPropertyValues("agentvault.relay-url=http://127.0.0.1:1", "agentvault.data-dir=" + dir.resolve("fresh"),
        "agentvault.key-store-passphrase=" + PASSPHRASE, "agentvault.await-start=30s").run(ctx -> {
          assertThat(ctx).hasFailed();
          assertThat(rootMessage(ctx.getStartupFailure())).contains("inviteToken is required");
        });
  }

  @Test
  void stoppingTheContextClosesTheClient() {
    List<ClientState> states = new CopyOnWriteArrayList<>();
    AgentClient[] client = new AgentClient[1];
    configured().withBean(StateRecorder.class, () -> new StateRecorder(states)).run(ctx -> {
      client[0] = ctx.getBean(AgentClient.class);
      ctx.getBean(AgentVaultLifecycle.class).start(); // auto-start=false: started by hand
      assertThat(ctx.getBean(AgentVaultLifecycle.class).isRunning()).isTrue();
    });
    assertThat(client[0].state()).isEqualTo(ClientState.CLOSED);
    assertThat(states).contains(ClientState.CLOSED);
  }

  @Test
  void configurationMetadataIsGeneratedAtBuildTime() throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("spring-configuration-metadata.json on the classpath").isNotNull();
      JsonNode root = new ObjectMapper().readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      List<String> names = new ArrayList<>();
      root.path("properties").forEach(p -> names.add(p.path("name").asText()));
      assertThat(names).contains("agentvault.relay-url", "agentvault.data-dir", "agentvault.invite-token",
          "agentvault.agent-name", "agentvault.key-store-passphrase", "agentvault.key-store-key-file",
          "agentvault.auto-start", "agentvault.await-start", "management.health.agentvault.enabled");
      root.path("properties").forEach(p -> assertThat(p.path("description").asText()).as(p.path("name").asText()).isNotBlank());
    }
  }

  static String rootMessage(Throwable t) {
    assertThat(t).as("a startup failure").isNotNull();
    Throwable c = t;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return c.getMessage();
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnClient {
    @Bean
    AgentClient ownClient(@org.springframework.beans.factory.annotation.Value("${java.io.tmpdir}") Path tmp) {
      return AgentClient.builder().relayUrl("http://127.0.0.1:1").dataDir(tmp.resolve("unused"))
          .keyProtection(KeyProtection.passphrase("x".toCharArray())).build();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnKeyProtection {
    @Bean
    KeyProtection ownKeys() {
      return KeyProtection.passphrase("from a secrets manager".toCharArray());
    }
  }

  record StateRecorder(List<ClientState> states) {
    @EventListener
    void on(AgentVaultStateEvent e) {
      states.add(e.state());
    }
  }
}
