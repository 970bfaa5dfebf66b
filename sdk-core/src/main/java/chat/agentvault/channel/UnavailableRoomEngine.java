package chat.agentvault.channel;

import chat.agentvault.transport.WireMessage;
import java.util.List;

/** The engine while no MLS engine is plugged in: no KeyPackages, no groups, encrypted rooms refused. */
final class UnavailableRoomEngine implements RoomEngine {
  private static UnsupportedOperationException unsupported() {
    return new UnsupportedOperationException("encrypted rooms need the MLS room engine, which is not available");
  }

  @Override
  public List<byte[]> newKeyPackages(int n) {
    return List.of();
  }

  @Override
  public byte[] lastResortKeyPackage() {
    throw unsupported();
  }

  @Override
  public void create(String roomId, List<String> memberDeviceIds) {
    throw unsupported();
  }

  @Override
  public void add(String roomId, List<String> deviceIds) {
    throw unsupported();
  }

  @Override
  public void remove(String roomId, List<String> deviceIds) {
    throw unsupported();
  }

  @Override
  public void rekey(String roomId) {
    throw unsupported();
  }

  @Override
  public void forget(String roomId) {}

  @Override
  public boolean hasGroup(String roomId) {
    return false;
  }

  @Override
  public long epoch(String roomId) {
    return -1;
  }

  @Override
  public Sealed seal(String roomId, byte[] envelope) {
    throw unsupported();
  }

  @Override
  public Outcome process(WireMessage message) {
    return new Outcome.Ignored("no MLS engine");
  }

  @Override
  public void commitState() {}

  @Override
  public void rollbackState() {}

  @Override
  public void close() {}
}
