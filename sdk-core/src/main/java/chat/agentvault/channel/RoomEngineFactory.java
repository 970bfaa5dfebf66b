package chat.agentvault.channel;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.mls.GroupStore;

/**
 * Opens the device's {@link RoomEngine} once its relay device id is known (the MLS credential
 * identity is the device id, so KeyPackages are published after the first login, not at
 * enrollment). The client's default is {@link #MLS}; {@link #UNAVAILABLE} leaves plaintext rooms
 * and ratchet conversations only.
 */
@FunctionalInterface
interface RoomEngineFactory {
  /**
   * @param stores the data directory's encrypted stores for group states and KeyPackage secrets
   * @param catchUp processes what is pending at the relay through the client's inbound pipeline
   *     (the engine runs it before rebuilding a commit the relay answered with 409)
   */
  RoomEngine open(DeviceIdentity identity, String deviceId, Stores stores, DeliveryService delivery, Runnable catchUp);

  /** Where an engine keeps its state (both encrypted with the data directory's key). */
  record Stores(EncryptedFileStore groups, EncryptedFileStore keyPackages) {}

  /** The MLS engine ({@link MlsRoomEngine}): encrypted rooms and KeyPackages. */
  RoomEngineFactory MLS = (identity, deviceId, stores, delivery, catchUp) ->
      new MlsRoomEngine(deviceId, identity, delivery, GroupStore.encrypted(stores.groups()), stores.keyPackages(),
          catchUp);

  /** No MLS: plaintext rooms and ratchet conversations only. */
  RoomEngineFactory UNAVAILABLE = (identity, deviceId, stores, delivery, catchUp) -> new UnavailableRoomEngine();

  /** Whether engines of this factory do MLS (encrypted rooms, KeyPackages). */
  default boolean available() {
    return this != UNAVAILABLE;
  }
}
