package chat.agentvault.langchain4j;

import chat.agentvault.channel.InboundMessage;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A bounded in-memory buffer of the last messages of each room (received and sent by this
 * device), fed by {@code AgentClient.onMessage}. Nothing here is written to disk: after a restart
 * the buffer starts empty. Also remembers the names senders gave themselves, by device id.
 * Thread-safe.
 */
final class RecentMessages {
  /** One line of a room's history. */
  record Entry(String roomId, String senderDeviceId, String senderName, String messageType, String text, Instant at) {}

  private final int perRoom;
  private final Map<String, Deque<Entry>> rooms = new HashMap<>();
  private final Map<String, String> names = new HashMap<>();

  RecentMessages(int perRoom) {
    if (perRoom < 1) {
      throw new IllegalArgumentException("perRoom must be at least 1: " + perRoom);
    }
    this.perRoom = perRoom;
  }

  synchronized void received(InboundMessage m) {
    if (m.senderName() != null && !m.senderName().isBlank()) {
      names.put(m.senderDeviceId(), m.senderName());
    }
    if (m.roomId() != null) {
      add(new Entry(m.roomId(), m.senderDeviceId(), m.senderName(), m.messageType(), m.text(),
          m.serverTime() == null ? Instant.now() : m.serverTime()));
    }
  }

  synchronized void sent(String roomId, String deviceId, String name, String text) {
    add(new Entry(roomId, deviceId, name, "text", text, Instant.now()));
  }

  private void add(Entry e) {
    Deque<Entry> q = rooms.computeIfAbsent(e.roomId(), k -> new ArrayDeque<>());
    q.addLast(e);
    while (q.size() > perRoom) {
      q.removeFirst();
    }
  }

  /** Up to {@code limit} of the latest entries of {@code roomId}, oldest first. */
  synchronized List<Entry> latest(String roomId, int limit) {
    Deque<Entry> q = rooms.get(roomId);
    if (q == null) {
      return List.of();
    }
    List<Entry> all = List.copyOf(q);
    return all.subList(Math.max(0, all.size() - limit), all.size());
  }

  synchronized Optional<String> name(String deviceId) {
    return Optional.ofNullable(names.get(deviceId));
  }
}
