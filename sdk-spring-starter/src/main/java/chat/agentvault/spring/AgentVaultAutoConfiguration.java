package chat.agentvault.spring;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.KeyProtection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Auto-configuration of an {@link AgentClient} from {@link AgentVaultProperties}: the client and
 * its {@link KeyProtection} (each only when the application defines none), the
 * {@link AgentVaultLifecycle} that starts and closes it with the application context and publishes
 * {@link AgentVaultMessageEvent}s and {@link AgentVaultStateEvent}s, and the registrar of
 * {@link VaultListener} methods.
 *
 * <p>On when the starter is on the classpath, unless {@code agentvault.enabled=false}. When on and
 * the application defines no {@code AgentClient}, the context fails to start with a message that
 * names each missing property.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = AgentVaultProperties.PREFIX + ".enabled", matchIfMissing = true)
@EnableConfigurationProperties(AgentVaultProperties.class)
public class AgentVaultAutoConfiguration {
  /** Name of the auto-configured client bean. */
  public static final String CLIENT_BEAN = "agentVaultClient";
  /** Name of the auto-configured key protection bean. */
  public static final String KEY_PROTECTION_BEAN = "agentVaultKeyProtection";

  /** The client and its key protection; backs off when the application defines an AgentClient. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingBean(AgentClient.class)
  static class ClientConfiguration {

    /** Closed (its copy of the secret wiped) with the context, after the client. */
    @Bean(name = KEY_PROTECTION_BEAN, destroyMethod = "close")
    @ConditionalOnMissingBean(KeyProtection.class)
    KeyProtection agentVaultKeyProtection(AgentVaultProperties properties) {
      properties.requireClientSettings(true);
      if (properties.keyStoreKeyFile() != null) {
        return keyFromFile(properties.keyStoreKeyFile());
      }
      char[] chars = properties.keyStorePassphrase().toCharArray();
      try {
        return KeyProtection.passphrase(chars);
      } finally {
        java.util.Arrays.fill(chars, '\0');
      }
    }

    @Bean(name = CLIENT_BEAN, destroyMethod = "close")
    AgentClient agentVaultClient(AgentVaultProperties properties, ObjectProvider<KeyProtection> keyProtection,
        Environment environment) {
      properties.requireClientSettings(false);
      AgentClient.Builder b = AgentClient.builder()
          .relayUrl(properties.relayUrl())
          .dataDir(properties.dataDir())
          .keyProtection(keyProtection.getObject())
          .pollInterval(properties.pollInterval())
          .approvalPollInterval(properties.approvalPollInterval());
      String name = properties.agentName();
      if (name == null || name.isBlank()) {
        name = environment.getProperty("spring.application.name");
      }
      if (name != null && !name.isBlank()) {
        b.agentName(name);
      }
      if (properties.inviteToken() != null && !properties.inviteToken().isBlank()) {
        b.inviteToken(properties.inviteToken().strip());
      }
      if (properties.ownerDeviceId() != null && !properties.ownerDeviceId().isBlank()) {
        b.ownerDeviceId(properties.ownerDeviceId());
      }
      return b.build();
    }
  }

  /** Starts and stops the one AgentClient (ours or the application's), bridging it to Spring events. */
  @Bean
  @ConditionalOnSingleCandidate(AgentClient.class)
  @ConditionalOnMissingBean
  AgentVaultLifecycle agentVaultLifecycle(AgentClient client, AgentVaultProperties properties,
      ApplicationEventPublisher publisher) {
    return new AgentVaultLifecycle(client, publisher, properties.autoStart(), properties.awaitStart());
  }

  /** Static: a bean post-processor must not pull this configuration in early. */
  @Bean
  @ConditionalOnMissingBean
  static VaultListenerRegistrar vaultListenerRegistrar() {
    return new VaultListenerRegistrar();
  }

  /** A 32-byte key, as 32 raw bytes or base64 text of 32 bytes. */
  static KeyProtection keyFromFile(Path file) {
    byte[] raw;
    try {
      raw = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(AgentVaultProperties.PREFIX + ".key-store-key-file cannot be read: " + file, e);
    }
    byte[] key = raw;
    try {
      if (raw.length != KeyProtection.KEY_LENGTH) {
        String text = new String(raw, StandardCharsets.US_ASCII).strip();
        try {
          key = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
          key = new byte[0];
        }
      }
      if (key.length != KeyProtection.KEY_LENGTH) {
        throw new IllegalStateException(AgentVaultProperties.PREFIX + ".key-store-key-file must hold a "
            + KeyProtection.KEY_LENGTH + "-byte key (raw, or base64): " + file);
      }
      try (SecretBytes secret = SecretBytes.copyOf(key)) {
        return KeyProtection.key(secret);
      }
    } finally {
      SecretBytes.wipe(raw);
      SecretBytes.wipe(key);
    }
  }
}
