package chat.agentvault.channel;

import chat.agentvault.identity.PublicIdentity;
import java.util.List;
import java.util.Optional;

/**
 * What the room engine needs from the relay (the MLS delivery service and the directories),
 * implemented over the relay client; tests of the engine alone may use an in-memory one.
 */
interface DeliveryService {

  /**
   * Posts a message to a room; returns the relay's message id.
   *
   * @param recipients only for {@code mls_welcome}: the devices it is for; else empty
   * @throws EpochConflictException when the relay already ordered another commit for that epoch
   */
  long post(String roomId, String messageType, Long epoch, byte[] payload, List<String> recipients)
      throws EpochConflictException;

  /** Consumes one KeyPackage of {@code deviceId} from the relay's directory. */
  Optional<byte[]> keyPackage(String deviceId);

  /** The room's latest GroupInfo (for an external commit). */
  Optional<byte[]> groupInfo(String roomId);

  /** Publishes the room's GroupInfo after a commit of this device. */
  void putGroupInfo(String roomId, long epoch, byte[] groupInfo);

  /** A device's enrolled public identity (its Ed25519 key authenticates its MLS credential). */
  Optional<PublicIdentity> deviceIdentity(String deviceId);

  /** The relay refused a commit or proposal because the room is at another epoch. */
  final class EpochConflictException extends Exception {
    private static final long serialVersionUID = 1L;
    private final long currentEpoch;

    EpochConflictException(long currentEpoch) {
      super("epoch conflict: the room is at epoch " + currentEpoch, null, false, false);
      this.currentEpoch = currentEpoch;
    }

    long currentEpoch() {
      return currentEpoch;
    }
  }
}
