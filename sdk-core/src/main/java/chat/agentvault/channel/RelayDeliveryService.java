package chat.agentvault.channel;

import chat.agentvault.identity.Fingerprint;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.transport.RelayException;
import chat.agentvault.transport.RelayHttp;
import chat.agentvault.transport.RelaySession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The room engine's {@link DeliveryService} over the relay (docs/protocol.md "The MLS delivery
 * service", "Key directory", GroupInfo). Sends are retried with the same {@code
 * client_message_id} when the relay could not be reached, so a retry is stored once.
 */
final class RelayDeliveryService implements DeliveryService {
  static final String MLS_CONTENT_TYPE = "application/vnd.agentvault.mls+v1";
  static final int TRIES = 3;

  private final RelaySession session;
  private final Map<String, PublicIdentity> identities = new ConcurrentHashMap<>();

  RelayDeliveryService(RelaySession session) {
    this.session = session;
  }

  /** Remembers an identity learned elsewhere (a verified prekey bundle, an initial message). */
  void learned(String deviceId, PublicIdentity identity) {
    identities.put(deviceId, identity);
  }

  @Override
  public long post(String roomId, String messageType, Long epoch, byte[] payload, List<String> recipients)
      throws EpochConflictException {
    ObjectNode body = RelayHttp.object().put("room_id", roomId).put("message_type", messageType)
        .put("content_type", MLS_CONTENT_TYPE).put("client_message_id", UUID.randomUUID().toString())
        .put("payload", RelayHttp.b64(payload));
    if (epoch != null) {
      body.put("epoch", epoch.longValue());
    }
    if (recipients != null && !recipients.isEmpty()) {
      ArrayNode r = body.putArray("recipients");
      recipients.forEach(r::add);
    }
    RelayException last = null;
    for (int i = 0; i < TRIES; i++) {
      try {
        return session.post("/api/v1/messages", body).path("message_id").asLong();
      } catch (RelayException e) {
        if (e.status() == 409 && e.currentEpoch().isPresent()) {
          throw new EpochConflictException(e.currentEpoch().getAsLong());
        }
        if (!e.isRetriable()) {
          throw e;
        }
        last = e;
      }
    }
    throw last;
  }

  @Override
  public Optional<byte[]> keyPackage(String deviceId) {
    try {
      JsonNode r = session.get("/api/v1/devices/" + deviceId + "/key-package");
      return Optional.of(Base64.getDecoder().decode(r.path("key_package").asText()));
    } catch (RelayException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public Optional<byte[]> groupInfo(String roomId) {
    try {
      JsonNode r = session.get("/api/v1/rooms/" + roomId + "/group-info");
      return Optional.of(Base64.getDecoder().decode(r.path("group_info").asText()));
    } catch (RelayException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public void putGroupInfo(String roomId, long epoch, byte[] groupInfo) {
    try {
      session.put("/api/v1/rooms/" + roomId + "/group-info",
          RelayHttp.object().put("epoch", epoch).put("group_info", RelayHttp.b64(groupInfo)));
    } catch (RelayException e) {
      if (e.status() != 409) { // stale: a newer GroupInfo is already there
        throw e;
      }
    }
  }

  /**
   * The device's identity: learned ones first; else the {@code public_identity} of the relay's
   * device object ({@code GET /devices/{id}}), whose binding {@link PublicIdentity#parse} verifies
   * and whose fingerprint must be the one the relay lists for the device (the one the owner
   * approved). Nothing is consumed at the relay.
   */
  @Override
  public Optional<PublicIdentity> deviceIdentity(String deviceId) {
    PublicIdentity known = identities.get(deviceId);
    if (known != null) {
      return Optional.of(known);
    }
    JsonNode d;
    try {
      d = session.get("/api/v1/devices/" + deviceId);
    } catch (RelayException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
    return fromDevice(d).map(id -> {
      identities.put(deviceId, id);
      return id;
    });
  }

  /**
   * The identity a device object carries, when it parses, its binding verifies and its fingerprint
   * is the device's listed one; else empty.
   */
  static Optional<PublicIdentity> fromDevice(JsonNode device) {
    String encoded = device.path("public_identity").asText("");
    if (encoded.isEmpty()) {
      return Optional.empty();
    }
    try {
      PublicIdentity id = PublicIdentity.parse(Base64.getDecoder().decode(encoded));
      Fingerprint listed = Fingerprint.parse(device.path("fingerprint").asText());
      return id.fingerprint().equals(listed) ? Optional.of(id) : Optional.empty();
    } catch (RuntimeException e) { // bad base64, a bad binding, a fingerprint that does not parse
      return Optional.empty();
    }
  }
}
