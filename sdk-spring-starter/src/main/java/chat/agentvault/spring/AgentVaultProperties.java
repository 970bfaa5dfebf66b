package chat.agentvault.spring;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the auto-configured {@link chat.agentvault.channel.AgentClient}, under {@value #PREFIX}.
 *
 * <p>Required when the starter is enabled and no {@code AgentClient} bean is defined by the
 * application: {@code relay-url}, {@code data-dir}, and exactly one of {@code key-store-passphrase}
 * or {@code key-store-key-file}. {@link #toString()} never shows the passphrase or the invite token.
 *
 * @param enabled Whether to configure an AgentVault client at all.
 * @param relayUrl Base URL of the relay, e.g. https://relay.example.com.
 * @param dataDir The device's data directory (keys, sessions, inbox; all encrypted). Keep it between runs.
 * @param inviteToken Invite for the first run (ignored once enrolled). A secret: prefer the
 *     environment variable AGENTVAULT_INVITE_TOKEN.
 * @param agentName Name shown to the owner and sent as the sender name. Defaults to
 *     spring.application.name, else "agent".
 * @param keyStorePassphrase Passphrase protecting the data directory's keys (stretched with
 *     Argon2id). A secret: prefer the environment variable AGENTVAULT_KEY_STORE_PASSPHRASE.
 * @param keyStoreKeyFile File holding a 32-byte key protecting the data directory's keys, as 32
 *     raw bytes or as base64 text. An alternative to the passphrase.
 * @param autoStart Whether the client starts (in the background) with the application context.
 * @param awaitStart How long the context's start waits for the client to be logged in. 0 waits not
 *     at all, so that an agent waiting for its owner's approval does not hold up the application; a
 *     positive value fails the context's start when the client is not logged in by then.
 * @param ownerDeviceId Owner device that AgentClient.send uses before any owner message arrived.
 * @param pollInterval How often to poll the relay for messages while the WebSocket is down.
 * @param approvalPollInterval How often to retry the login while waiting for the owner's approval.
 */
@ConfigurationProperties(AgentVaultProperties.PREFIX)
public record AgentVaultProperties(
    @DefaultValue("true") boolean enabled,
    String relayUrl,
    Path dataDir,
    String inviteToken,
    String agentName,
    String keyStorePassphrase,
    Path keyStoreKeyFile,
    @DefaultValue("true") boolean autoStart,
    @DefaultValue("0s") Duration awaitStart,
    String ownerDeviceId,
    @DefaultValue("15s") Duration pollInterval,
    @DefaultValue("5s") Duration approvalPollInterval) {

  /** The prefix of every property of the starter. */
  public static final String PREFIX = "agentvault";

  /**
   * Checks the settings the auto-configured client needs and names every missing or conflicting
   * property at once.
   *
   * @param withKeyStore whether the key store settings are needed (no {@code KeyProtection} bean defined)
   * @throws IllegalStateException naming the properties to set
   */
  void requireClientSettings(boolean withKeyStore) {
    List<String> problems = new ArrayList<>();
    if (blank(relayUrl)) {
      problems.add(PREFIX + ".relay-url is not set (the relay's base URL, e.g. https://relay.example.com)");
    } else if (!relayUrl.startsWith("http://") && !relayUrl.startsWith("https://")) {
      problems.add(PREFIX + ".relay-url must start with http:// or https://, not '" + relayUrl + "'");
    }
    if (dataDir == null) {
      problems.add(PREFIX + ".data-dir is not set (a directory kept between runs: it holds the device's keys)");
    }
    if (withKeyStore) {
      boolean passphrase = !blank(keyStorePassphrase);
      if (passphrase == (keyStoreKeyFile != null)) {
        problems.add("exactly one of " + PREFIX + ".key-store-passphrase and " + PREFIX + ".key-store-key-file must be set"
            + (passphrase ? ", not both" : ""));
      }
    }
    if (awaitStart != null && awaitStart.isNegative()) {
      problems.add(PREFIX + ".await-start must not be negative");
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("AgentVault is not configured: " + String.join("; ", problems)
          + ". Set these properties, define your own AgentClient bean, or turn the starter off with "
          + PREFIX + ".enabled=false.");
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  /** The settings without the passphrase and the invite token (shown only as set or not). */
  @Override
  public String toString() {
    return "AgentVaultProperties[enabled=" + enabled + ", relayUrl=" + relayUrl + ", dataDir=" + dataDir
        + ", inviteToken=" + (inviteToken == null ? "unset" : "[set]")
        + ", agentName=" + agentName
        + ", keyStorePassphrase=" + (keyStorePassphrase == null ? "unset" : "[set]")
        + ", keyStoreKeyFile=" + keyStoreKeyFile + ", autoStart=" + autoStart + ", awaitStart=" + awaitStart
        + ", ownerDeviceId=" + ownerDeviceId + ", pollInterval=" + pollInterval
        + ", approvalPollInterval=" + approvalPollInterval + "]";
  }
}
