package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.identity.KeyProtection;
import java.io.Console;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Command-line flags ({@code --name value} or {@code --name=value}) with environment fallbacks, and
 * the settings every sample shares:
 *
 * <table>
 *   <caption>Shared settings</caption>
 *   <tr><td>{@code --relay-url}</td><td>{@code AGENTVAULT_RELAY_URL}</td><td>the relay's base URL</td></tr>
 *   <tr><td>{@code --data-dir}</td><td>{@code AGENTVAULT_DATA_DIR}</td><td>the device's data directory (keep it)</td></tr>
 *   <tr><td>{@code --invite-token}</td><td>{@code AGENTVAULT_INVITE_TOKEN}</td><td>first run only</td></tr>
 *   <tr><td>{@code --passphrase}</td><td>{@code AGENTVAULT_KEY_STORE_PASSPHRASE}</td><td>protects the data directory's keys; asked on the terminal when unset</td></tr>
 *   <tr><td>{@code --name}</td><td>{@code AGENTVAULT_AGENT_NAME}</td><td>the name the owner sees</td></tr>
 *   <tr><td>{@code --poll-interval}</td><td>{@code AGENTVAULT_POLL_INTERVAL}</td><td>e.g. {@code 2s}: polling while the WebSocket is down</td></tr>
 * </table>
 */
final class SampleArgs {
  private final Map<String, String> flags = new HashMap<>();
  private final List<String> positional = new ArrayList<>();
  private final Map<String, String> env;

  SampleArgs(String[] args, Map<String, String> env) {
    this.env = env;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--") && a.length() > 2) {
        int eq = a.indexOf('=');
        if (eq > 0) {
          flags.put(a.substring(2, eq), a.substring(eq + 1));
        } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
          flags.put(a.substring(2), args[++i]);
        } else {
          flags.put(a.substring(2), "true");
        }
      } else {
        positional.add(a);
      }
    }
  }

  static SampleArgs of(String[] args) {
    return new SampleArgs(args, System.getenv());
  }

  /** The flag's value, else the environment variable's (blank counts as unset). */
  Optional<String> get(String flag, String envVar) {
    String v = flags.get(flag);
    if (v == null && envVar != null) {
      v = env.get(envVar);
    }
    return Optional.ofNullable(v).map(String::strip).filter(s -> !s.isEmpty());
  }

  String require(String flag, String envVar) {
    return get(flag, envVar).orElseThrow(() -> new IllegalArgumentException(
        "missing --" + flag + (envVar == null ? "" : " (or the environment variable " + envVar + ")")));
  }

  boolean has(String flag) {
    return flags.containsKey(flag);
  }

  List<String> positional() {
    return positional;
  }

  String env(String name) {
    return env.get(name);
  }

  Path dataDir() {
    return Path.of(require("data-dir", "AGENTVAULT_DATA_DIR"));
  }

  /** The passphrase from the flag or environment, else read from the terminal. */
  KeyProtection keyProtection() {
    Optional<String> p = get("passphrase", "AGENTVAULT_KEY_STORE_PASSPHRASE");
    char[] chars;
    if (p.isPresent()) {
      chars = p.get().toCharArray();
    } else {
      Console c = System.console();
      if (c == null) {
        throw new IllegalArgumentException("missing --passphrase (or AGENTVAULT_KEY_STORE_PASSPHRASE)");
      }
      chars = c.readPassword("Passphrase of %s: ", dataDir());
    }
    try {
      return KeyProtection.passphrase(chars);
    } finally {
      java.util.Arrays.fill(chars, '\0');
    }
  }

  /** A client builder from the shared settings (the caller keeps and closes {@code protection}). */
  AgentClient.Builder clientBuilder(String defaultName, KeyProtection protection) {
    AgentClient.Builder b = AgentClient.builder()
        .relayUrl(require("relay-url", "AGENTVAULT_RELAY_URL"))
        .dataDir(dataDir())
        .agentName(get("name", "AGENTVAULT_AGENT_NAME").orElse(defaultName))
        .keyProtection(protection)
        .pollInterval(duration(get("poll-interval", "AGENTVAULT_POLL_INTERVAL").orElse("2s")))
        .approvalPollInterval(Duration.ofSeconds(2));
    get("invite-token", "AGENTVAULT_INVITE_TOKEN").ifPresent(b::inviteToken);
    return b;
  }

  /** {@code 500ms}, {@code 2s}, {@code 10m}, or an ISO-8601 duration. */
  static Duration duration(String s) {
    String v = s.strip().toLowerCase(java.util.Locale.ROOT);
    if (v.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
    }
    if (v.endsWith("s")) {
      return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    if (v.endsWith("m")) {
      return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    if (v.endsWith("h")) {
      return Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    return Duration.parse(s.strip());
  }
}
