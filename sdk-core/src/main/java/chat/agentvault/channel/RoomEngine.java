package chat.agentvault.channel;

import chat.agentvault.transport.WireMessage;
import java.util.List;

/**
 * The MLS side of rooms as the client runtime uses it (docs/channel.md). One MLS group per relay
 * room; state persisted through the engine's group store. Not thread-safe: the runtime calls it
 * from its one inbound thread, or under its lock for outbound operations.
 */
interface RoomEngine extends AutoCloseable {

  /** {@code n} fresh KeyPackages to publish (public bytes); their private parts are kept. */
  List<byte[]> newKeyPackages(int n);

  /** The last-resort KeyPackage (RFC 9420 §16.8) to publish: never consumed by the relay. */
  byte[] lastResortKeyPackage();

  /** Creates the group of a relay room this device created, then adds {@code members} (Commit, Welcome). */
  void create(String roomId, List<String> memberDeviceIds);

  /** Adds devices to the room's group: their KeyPackages from the relay, one Commit, one Welcome. */
  void add(String roomId, List<String> deviceIds);

  /** Removes devices (Remove proposals and a Commit): they cannot read anything sent after. */
  void remove(String roomId, List<String> deviceIds);

  /** An empty Commit with a path: a new epoch secret (the relay's rekey request, rekey()). */
  void rekey(String roomId);

  /** Drops the local group of a room this device left or was removed from. */
  void forget(String roomId);

  boolean hasGroup(String roomId);

  /** The room's current epoch; -1 without a group. */
  long epoch(String roomId);

  /** Protects an application message for the room: the relay payload and the epoch it belongs to. */
  Sealed seal(String roomId, byte[] envelope);

  /** What {@link #seal} returns. */
  record Sealed(byte[] payload, long epoch) {}

  /**
   * Processes one inbound room message (commit, proposal, welcome, application) in relay order.
   * State changes are held back until {@link #commitState()} so that the runtime can store the
   * decrypted message first (crash safety, docs/channel.md).
   */
  Outcome process(WireMessage message);

  /** Writes the state changes of the last {@link #process} (after the runtime stored its result). */
  void commitState();

  /** Discards the held-back state changes of the last {@link #process}. */
  void rollbackState();

  /** The result of {@link #process}. */
  sealed interface Outcome {
    /** A decrypted application message: the envelope bytes and the sender's device id. */
    record Application(String roomId, String senderDeviceId, long epoch, byte[] envelope) implements Outcome {
      @Override
      public String toString() {
        return "Application[room=" + roomId + ", sender=" + senderDeviceId + ", epoch=" + epoch + "]";
      }
    }

    /** A handshake message applied (or this device joined by Welcome); {@code removedMe} when it removed this device. */
    record Handshake(String roomId, long newEpoch, boolean joined, boolean removedMe) implements Outcome {}

    /** The group could not process the message and was rejoined by external commit ({@code av.resync}). */
    record Resynced(String roomId, long newEpoch, String reason) implements Outcome {}

    /** Not for this device or already applied (e.g. its own commit echoed, a Welcome for someone else). */
    record Ignored(String reason) implements Outcome {}
  }

  @Override
  void close();
}
