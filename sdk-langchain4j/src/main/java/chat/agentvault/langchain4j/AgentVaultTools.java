package chat.agentvault.langchain4j;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.Room;
import chat.agentvault.channel.SendResult;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * LangChain4j tools over an {@link AgentClient}: pass an instance to {@code
 * AiServices.builder(...).tools(...)}.
 *
 * <pre>{@code
 * AgentVaultTools tools = AgentVaultTools.from(client);   // before client.start(): sees every message
 * Assistant a = AiServices.builder(Assistant.class).chatModel(model).tools(tools).build();
 * }</pre>
 *
 * <p>The tools: {@code send_message} (to the current conversation, by the client's sticky
 * routing), {@code send_to_room} (by room name or id), {@code send_direct_message} (1:1, end-to-end
 * encrypted), {@code list_rooms} (rooms with their members), {@code read_recent_messages} (from a
 * bounded in-memory buffer of each room, fed by {@link AgentClient#onMessage}; it holds what arrived
 * or was sent through these tools since {@link #from} was called, and nothing survives a restart).
 *
 * <p>Every tool returns text for the model. Expected failures (an unknown room, a message the
 * relay refused, no conversation yet) are returned as text starting with {@code "Not sent:"} or
 * {@code "Error:"} so that the model can correct itself; nothing is thrown at it.
 */
public final class AgentVaultTools {
  /** Messages kept per room for {@code read_recent_messages} unless told otherwise. */
  public static final int DEFAULT_RECENT_PER_ROOM = 50;
  static final int DEFAULT_READ = 20;
  private static final String ME = "you";

  private final AgentClient client;
  private final RecentMessages recent;
  private final Map<String, String> roomNames = new ConcurrentHashMap<>();

  private AgentVaultTools(AgentClient client, int recentPerRoom) {
    this.client = Objects.requireNonNull(client, "client");
    this.recent = new RecentMessages(recentPerRoom);
    client.onMessage(recent::received);
  }

  /** Tools over {@code client}, keeping the last {@value #DEFAULT_RECENT_PER_ROOM} messages of each room. */
  public static AgentVaultTools from(AgentClient client) {
    return new AgentVaultTools(client, DEFAULT_RECENT_PER_ROOM);
  }

  /** Tools over {@code client}, keeping the last {@code recentPerRoom} (at least 1) messages of each room. */
  public static AgentVaultTools from(AgentClient client, int recentPerRoom) {
    return new AgentVaultTools(client, recentPerRoom);
  }

  /** The client these tools act on. */
  public AgentClient client() {
    return client;
  }

  @Tool(name = "send_message", value = {
      "Sends a message to the current conversation: the room this agent last received a room message from,",
      "or, if there is none, the private conversation with the agent's owner. Use it to post progress or",
      "results where the conversation is happening. Returns where the message went."})
  public String sendMessage(@P("the message text, in plain language") String text) {
    try {
      SendResult r = client.send(text);
      if (r.stored()) {
        r.room().ifPresent(room -> recordSent(room, text));
      }
      return describe(r);
    } catch (IllegalStateException e) {
      return "Not sent: there is no current conversation yet (no room message received and no owner conversation).";
    } catch (RuntimeException e) {
      return "Not sent: " + e.getMessage();
    }
  }

  @Tool(name = "send_to_room", value = {
      "Sends a message to one specific room, given by its name (as shown by list_rooms) or its room id.",
      "Use it to reach a room other than the current conversation. This agent must be a member of the room."})
  public String sendToRoom(
      @P("the room's name or room id") String room,
      @P("the message text, in plain language") String text) {
    Room target;
    try {
      target = resolve(room);
    } catch (IllegalArgumentException e) {
      return "Error: " + e.getMessage();
    } catch (RuntimeException e) {
      return "Not sent: cannot list rooms: " + e.getMessage();
    }
    try {
      SendResult r = client.sendToRoom(target.roomId(), text);
      if (r.stored()) {
        recordSent(target.roomId(), text);
      }
      return describe(r);
    } catch (RuntimeException e) {
      return "Not sent: " + e.getMessage();
    }
  }

  @Tool(name = "send_direct_message", value = {
      "Sends a private, end-to-end encrypted message to one device (a person's device or another agent),",
      "given by its device id (as shown in list_rooms members or in a message's sender)."})
  public String sendDirectMessage(
      @P("the recipient's device id") String deviceId,
      @P("the message text, in plain language") String text) {
    try {
      return describe(client.sendDirect(deviceId, text));
    } catch (RuntimeException e) {
      return "Not sent: " + e.getMessage();
    }
  }

  @Tool(name = "list_rooms", value = {
      "Lists the rooms this agent is a member of, with each room's name, id, whether it is end-to-end",
      "encrypted, and its members (device id, name when known, role, status). Call it before send_to_room",
      "when unsure of a room's exact name."})
  public String listRooms() {
    List<Room> rooms;
    try {
      rooms = rooms();
    } catch (RuntimeException e) {
      return "Error: cannot list rooms: " + e.getMessage();
    }
    if (rooms.isEmpty()) {
      return "This agent is in no rooms.";
    }
    String me = client.deviceId().orElse("");
    StringBuilder sb = new StringBuilder(rooms.size() + (rooms.size() == 1 ? " room:" : " rooms:"));
    for (Room r : rooms) {
      sb.append("\n- \"").append(r.name()).append("\" (room id ").append(r.roomId()).append(", ")
          .append(r.encrypted() ? "end-to-end encrypted" : "plaintext").append("); members:");
      for (Room.Member m : r.members()) {
        sb.append("\n    ").append(m.deviceId());
        recent.name(m.deviceId()).ifPresent(n -> sb.append(" \"").append(n).append('"'));
        sb.append(" (").append(m.role()).append(", ").append(m.status());
        if (m.deviceId().equals(me)) {
          sb.append(", this agent");
        }
        sb.append(')');
      }
    }
    return sb.toString();
  }

  @Tool(name = "read_recent_messages", value = {
      "Reads the most recent messages of a room, oldest first, with sender and time. Only messages that",
      "arrived or were sent while this agent was running are available."})
  public String readRecentMessages(
      @P("the room's name or room id") String room,
      @P(value = "how many messages at most (default 20)", required = false) Integer limit) {
    int n = limit == null || limit < 1 ? DEFAULT_READ : limit;
    String roomId = room;
    String label = room;
    try {
      Room r = resolve(room);
      roomId = r.roomId();
      label = "\"" + r.name() + "\" (room id " + r.roomId() + ")";
    } catch (IllegalArgumentException e) {
      if (recent.latest(room, 1).isEmpty()) {
        return "Error: " + e.getMessage();
      }
    } catch (RuntimeException e) {
      // the relay is unreachable: still answer from the buffer if the argument is a room id
    }
    List<RecentMessages.Entry> entries = recent.latest(roomId, n);
    if (entries.isEmpty()) {
      return "No messages in " + label + " since this agent started.";
    }
    StringBuilder sb = new StringBuilder("Recent messages in ").append(label).append(", oldest first:");
    for (RecentMessages.Entry e : entries) {
      sb.append("\n[").append(e.at()).append("] ").append(e.senderName() == null ? "?" : e.senderName())
          .append(" (device ").append(e.senderDeviceId()).append(")");
      if (!"text".equals(e.messageType())) {
        sb.append(" [").append(e.messageType()).append(']');
      }
      sb.append(": ").append(e.text());
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ for AgentRunner

  RecentMessages recent() {
    return recent;
  }

  /** Records a message this device sent to a room (for read_recent_messages). */
  void recordSent(String roomId, String text) {
    recent.sent(roomId, client.deviceId().orElse("?"), ME, text);
  }

  /** The room's name if known (asks the relay once on a miss; null when it cannot). */
  String roomName(String roomId) {
    String n = roomNames.get(roomId);
    if (n == null) {
      try {
        rooms();
      } catch (RuntimeException e) {
        return null;
      }
      n = roomNames.get(roomId);
    }
    return n;
  }

  private List<Room> rooms() {
    List<Room> rooms = client.rooms();
    for (Room r : rooms) {
      roomNames.put(r.roomId(), r.name());
    }
    return rooms;
  }

  /** The room with this id, else the one room with this name (case-insensitive). */
  private Room resolve(String room) {
    if (room == null || room.isBlank()) {
      throw new IllegalArgumentException("no room given; call list_rooms to see the rooms");
    }
    String wanted = room.trim();
    List<Room> rooms = rooms();
    for (Room r : rooms) {
      if (r.roomId().equalsIgnoreCase(wanted)) {
        return r;
      }
    }
    List<Room> named = new ArrayList<>();
    for (Room r : rooms) {
      if (r.name().toLowerCase(Locale.ROOT).equals(wanted.toLowerCase(Locale.ROOT))) {
        named.add(r);
      }
    }
    if (named.size() == 1) {
      return named.get(0);
    }
    if (named.isEmpty()) {
      throw new IllegalArgumentException("this agent is in no room named or with id \"" + wanted
          + "\"; call list_rooms to see the rooms");
    }
    throw new IllegalArgumentException(named.size() + " rooms are named \"" + wanted + "\"; give the room id: "
        + named.stream().map(Room::roomId).toList());
  }

  private static String describe(SendResult r) {
    String where = r.room().map(id -> "room " + id).orElseGet(() ->
        r.conversation().map(id -> "private conversation " + id).orElse("the relay"));
    if (!r.stored()) {
      return "Not sent to " + where + ": " + r.failureReason().orElse("the relay did not store it");
    }
    return "Sent to " + where + (r.duplicate() ? " (already sent before)" : "") + ", message id " + r.messageId() + ".";
  }
}
