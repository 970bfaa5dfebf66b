package chat.agentvault.channel;

import java.util.Map;

/**
 * {@code av.room} spans (seed 000 "Telemetry"): one span per room operation ({@code create},
 * {@code join}, {@code leave}, {@code rekey}, {@code message}, {@code invite}) with the
 * operation's attributes. Through the OpenTelemetry API when it is on the classpath (the global
 * {@code OpenTelemetry}); a no-op otherwise: the API is never required at runtime.
 */
interface RoomTelemetry {
  RoomTelemetry NOOP = (operation, roomId, attributes) -> { };

  /**
   * Records one finished span {@code av.room} with {@code av.room.operation}, {@code
   * av.room.id} and {@code attributes} (keys without the {@code av.room.} prefix; values String,
   * Long, Integer or Boolean).
   */
  void record(String operation, String roomId, Map<String, Object> attributes);

  /** The OpenTelemetry-backed telemetry if the API is present, else {@link #NOOP}. */
  static RoomTelemetry create() {
    try {
      Class.forName("io.opentelemetry.api.GlobalOpenTelemetry", false, RoomTelemetry.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      return NOOP;
    }
    return OtelRoomTelemetry.global();
  }
}
