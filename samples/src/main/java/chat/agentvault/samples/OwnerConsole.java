package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.Owner;
import chat.agentvault.channel.Room;
import chat.agentvault.channel.RoomOptions;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.KeyProtection;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The owner's command line: one command per run, against the relay, as the owner device whose data
 * directory is given. The first run enrolls the owner with the tenant's bootstrap token
 * ({@code --invite-token}). Every run keeps the room messages it receives in an encrypted history in
 * the data directory (file-store purpose {@value #HISTORY}), which {@code read} shows.
 *
 * <pre>
 * owner-console [--relay-url URL] [--data-dir DIR] [--passphrase P] [--invite-token BOOTSTRAP] COMMAND
 *   whoami                                 this device's id and fingerprint
 *   invite [--role agent] [--ttl 10m]      a one-time enrollment token for a new device
 *   devices                                the tenant's devices with state and fingerprint
 *   approve DEVICE FINGERPRINT             approve a pending device after comparing its fingerprint
 *   rooms                                  rooms with members and epoch
 *   create-room NAME MEMBER... [--plaintext]  an end-to-end encrypted room (MLS) with these devices
 *   read ROOM [--wait 3s]                  a room's messages (by name or id), decrypted
 * </pre>
 *
 * Settings: {@code --relay-url}/{@code AGENTVAULT_RELAY_URL}, {@code --data-dir}/{@code
 * AGENTVAULT_DATA_DIR}, {@code --passphrase}/{@code AGENTVAULT_KEY_STORE_PASSPHRASE} (asked on the
 * terminal when unset), {@code --invite-token}/{@code AGENTVAULT_INVITE_TOKEN} (first run only).
 */
public final class OwnerConsole {
  /** File-store purpose of the console's room history. */
  static final String HISTORY = "owner-console-history";
  static final String USAGE = String.join("\n",
      "usage: owner-console [--relay-url URL] [--data-dir DIR] [--passphrase P] [--invite-token BOOTSTRAP] COMMAND",
      "  whoami | invite [--role agent] [--ttl 10m] | devices | approve DEVICE FINGERPRINT | rooms",
      "  | create-room NAME MEMBER... [--plaintext] | read ROOM [--wait 3s]",
      "  env: AGENTVAULT_RELAY_URL, AGENTVAULT_DATA_DIR, AGENTVAULT_KEY_STORE_PASSPHRASE, AGENTVAULT_INVITE_TOKEN");
  private static final ObjectMapper JSON = new ObjectMapper();

  private OwnerConsole() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err, System.getenv()));
  }

  /** Runs one command; returns the exit status (0 ok, 1 failed, 2 bad command line). */
  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    SampleArgs a = new SampleArgs(args, env);
    List<String> words = a.positional();
    if (words.isEmpty() || a.has("help")) {
      err.println(USAGE);
      return 2;
    }
    String command = words.get(0);
    List<String> rest = words.subList(1, words.size());
    if (!List.of("whoami", "invite", "devices", "approve", "rooms", "create-room", "read").contains(command)) {
      err.println("unknown command: " + command);
      err.println(USAGE);
      return 2;
    }
    if ((command.equals("approve") && rest.size() != 2) || (command.equals("create-room") && rest.size() < 2)
        || (command.equals("read") && rest.size() != 1)) {
      err.println("wrong arguments for " + command);
      err.println(USAGE);
      return 2;
    }
    try (KeyProtection protection = a.keyProtection();
        AgentClient client = a.clientBuilder("owner", protection).pollInterval(Duration.ofMillis(500)).build();
        History history = new History(a.dataDir(), protection)) {
      client.onMessage(history::record);
      client.start();
      if (!client.role().map("owner"::equals).orElse(false)) {
        err.println("this data directory is not an owner device (role " + client.role().orElse("?") + ")");
        return 1;
      }
      Owner owner = client.owner();
      switch (command) {
        case "whoami" -> out.println("device " + client.deviceId().orElseThrow() + "\nfingerprint " + client.fingerprint().full());
        case "invite" -> {
          String role = a.get("role", null).orElse("agent");
          Duration ttl = SampleArgs.duration(a.get("ttl", null).orElse("10m"));
          Owner.Invite invite = owner.createInvite(role, ttl);
          out.println("invite " + invite.inviteId() + " (role " + invite.role() + ", expires " + invite.expiresAt() + ")");
          out.println("token: " + invite.token());
        }
        case "devices" -> {
          out.printf("%-36s  %-12s  %-6s  %-16s  %s%n", "DEVICE", "NAME", "ROLE", "STATE", "FINGERPRINT");
          for (Owner.Device d : owner.devices()) {
            out.printf("%-36s  %-12s  %-6s  %-16s  %s%n", d.deviceId(), d.name(), d.role(), d.state(), d.fingerprint());
          }
        }
        case "approve" -> {
          String device = rest.get(0);
          String typed = rest.get(1);
          Optional<Owner.Device> listed = owner.devices().stream().filter(d -> d.deviceId().equals(device)).findFirst();
          if (listed.isEmpty()) {
            err.println("no device " + device);
            return 1;
          }
          out.println("relay lists  " + listed.get().fingerprint());
          out.println("you compared " + typed);
          Owner.Device d = owner.approve(device, typed);
          out.println("approved " + d.deviceId() + " (" + d.name() + "): " + d.state());
        }
        case "rooms" -> {
          for (Room r : client.rooms()) {
            printRoom(out, r);
          }
        }
        case "create-room" -> {
          String[] members = rest.subList(1, rest.size()).toArray(String[]::new);
          RoomOptions options = (a.has("plaintext") ? RoomOptions.plaintext() : RoomOptions.encrypted()).members(members);
          printRoom(out, client.createRoom(rest.get(0), options));
        }
        case "read" -> {
          Room room = find(client.rooms(), rest.get(0));
          Thread.sleep(SampleArgs.duration(a.get("wait", null).orElse("3s")).toMillis()); // what is pending arrives
          List<Map<String, Object>> lines = history.of(room.roomId());
          out.println("\"" + room.name() + "\" (" + room.roomId() + ", " + (room.encrypted() ? "MLS" : "plaintext")
              + "): " + lines.size() + " message(s)");
          for (Map<String, Object> m : lines) {
            out.println("#" + m.get("id") + " " + m.get("at") + " " + m.get("sender") + " [" + m.get("type") + "] " + m.get("text"));
          }
        }
        default -> throw new IllegalStateException(command);
      }
      return 0;
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } catch (RuntimeException e) {
      err.println(command + " failed: " + e);
      return 1;
    }
  }

  private static void printRoom(PrintStream out, Room r) {
    out.println(r.roomId() + "  \"" + r.name() + "\"  " + (r.encrypted() ? "encrypted (MLS)" : "plaintext")
        + "  epoch " + r.epoch());
    for (Room.Member m : r.members()) {
      out.println("    " + m.deviceId() + "  " + m.role() + "  " + m.status());
    }
  }

  private static Room find(List<Room> rooms, String wanted) {
    for (Room r : rooms) {
      if (r.roomId().equalsIgnoreCase(wanted)) {
        return r;
      }
    }
    List<Room> named = rooms.stream().filter(r -> r.name().equalsIgnoreCase(wanted)).toList();
    if (named.size() != 1) {
      throw new IllegalArgumentException(named.isEmpty() ? "no room " + wanted : named.size() + " rooms are named " + wanted + ": give the id");
    }
    return named.get(0);
  }

  /** The room messages this owner received, per room, encrypted in its data directory. */
  static final class History implements AutoCloseable {
    private final Path dataDir;
    private final KeyProtection protection;
    private DeviceKeyStore keys;
    private EncryptedFileStore files;
    private boolean closed;

    History(Path dataDir, KeyProtection protection) {
      this.dataDir = dataDir;
      this.protection = protection;
    }

    synchronized void record(InboundMessage m) {
      if (closed || m.roomId() == null || m.messageType() == null || m.messageType().equals("event") || m.messageType().startsWith("av.")) {
        return;
      }
      List<Map<String, Object>> l = new ArrayList<>(of(m.roomId()));
      if (l.stream().anyMatch(x -> ((Number) x.get("id")).longValue() == m.messageId())) {
        return;
      }
      l.add(Map.of("id", m.messageId(), "at", String.valueOf(m.serverTime()),
          "sender", m.senderName() == null ? m.senderDeviceId() : m.senderName(),
          "type", m.messageType(), "text", m.text() == null ? "" : m.text()));
      try {
        files().put(name(m.roomId()), JSON.writeValueAsBytes(l));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    synchronized List<Map<String, Object>> of(String roomId) {
      Optional<byte[]> b = files().get(name(roomId));
      if (b.isEmpty()) {
        return List.of();
      }
      try {
        return JSON.readValue(b.get(), new TypeReference<List<Map<String, Object>>>() {});
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private EncryptedFileStore files() {
      if (files == null) {
        keys = DeviceKeyStore.open(dataDir, protection);
        files = keys.fileStore(HISTORY);
      }
      return files;
    }

    private static String name(String roomId) {
      try {
        byte[] h = MessageDigest.getInstance("SHA-256").digest(roomId.getBytes(StandardCharsets.UTF_8));
        return "r-" + HexFormat.of().formatHex(h);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public synchronized void close() {
      closed = true;
      if (keys != null) {
        keys.close();
      }
    }
  }

}
