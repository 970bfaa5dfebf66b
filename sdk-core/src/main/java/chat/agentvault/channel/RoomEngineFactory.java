package chat.agentvault.channel;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.EncryptedFileStore;

/**
 * Opens the device's {@link RoomEngine} once its relay device id is known (the MLS credential
 * identity is the device id, so KeyPackages are published after the first login, not at
 * enrollment). {@link #UNAVAILABLE} until the MLS engine is plugged in.
 */
@FunctionalInterface
interface RoomEngineFactory {
  RoomEngine open(DeviceIdentity identity, String deviceId, EncryptedFileStore groupFiles, DeliveryService delivery);

  /** No MLS: plaintext rooms and ratchet conversations only. */
  RoomEngineFactory UNAVAILABLE = (identity, deviceId, files, delivery) -> new UnavailableRoomEngine();

  /** Whether engines of this factory do MLS (encrypted rooms, KeyPackages). */
  default boolean available() {
    return this != UNAVAILABLE;
  }
}
