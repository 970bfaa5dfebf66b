package chat.agentvault.channel;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import java.util.Map;

/** {@link RoomTelemetry} over the OpenTelemetry API; loaded only when the API is on the classpath. */
final class OtelRoomTelemetry implements RoomTelemetry {
  static final String INSTRUMENTATION = "chat.agentvault.channel";
  private final OpenTelemetry otel;

  OtelRoomTelemetry(OpenTelemetry otel) {
    this.otel = otel;
  }

  static RoomTelemetry global() {
    return new OtelRoomTelemetry(null);
  }

  private Tracer tracer() {
    // Resolved per call: an application may install its SDK after the client was built.
    return (otel != null ? otel : GlobalOpenTelemetry.get()).getTracer(INSTRUMENTATION);
  }

  @Override
  public void record(String operation, String roomId, Map<String, Object> attributes) {
    AttributesBuilder a = Attributes.builder().put("av.room.operation", operation);
    if (roomId != null) {
      a.put("av.room.id", roomId);
    }
    attributes.forEach((k, v) -> {
      String key = "av.room." + k;
      if (v instanceof Long l) {
        a.put(key, l);
      } else if (v instanceof Integer i) {
        a.put(key, (long) i);
      } else if (v instanceof Boolean b) {
        a.put(key, b);
      } else if (v != null) {
        a.put(key, v.toString());
      }
    });
    Span span = tracer().spanBuilder("av.room").setSpanKind(SpanKind.INTERNAL).setAllAttributes(a.build()).startSpan();
    span.end();
  }
}
