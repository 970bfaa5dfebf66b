package chat.agentvault.channel;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** Options of {@link AgentClient#sendToRoom}: immutable; {@link #DEFAULT} is a text message. */
public final class SendOptions {
  public static final SendOptions DEFAULT = builder().build();

  private final String messageType;
  private final String parentSpanId;
  private final boolean updateStickyRoom;
  private final Map<String, Object> data;
  private final String clientMessageId;

  private SendOptions(Builder b) {
    this.messageType = b.messageType;
    this.parentSpanId = b.parentSpanId;
    this.updateStickyRoom = b.updateStickyRoom;
    this.data = b.data == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(b.data));
    this.clientMessageId = b.clientMessageId;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String messageType() {
    return messageType;
  }

  public Optional<String> parentSpanId() {
    return Optional.ofNullable(parentSpanId);
  }

  /** Whether this send makes the room the sticky target of {@link AgentClient#send} (default no). */
  public boolean updateStickyRoom() {
    return updateStickyRoom;
  }

  /** The structured body (decision request, reaction...), inside the envelope. */
  public Optional<Map<String, Object>> data() {
    return Optional.ofNullable(data);
  }

  /** The idempotency key given by the caller (a retry with the same key is stored once). */
  public Optional<String> clientMessageId() {
    return Optional.ofNullable(clientMessageId);
  }

  /** A copy with {@code id} as the idempotency key (retries of one send under one key). */
  SendOptions withClientMessageId(String id) {
    Builder b = builder().messageType(messageType).updateStickyRoom(updateStickyRoom).clientMessageId(id);
    if (parentSpanId != null) {
      b.parentSpanId(parentSpanId);
    }
    if (data != null) {
      b.data(data);
    }
    return b.build();
  }

  @Override
  public String toString() {
    return "SendOptions[type=" + messageType + ", parentSpanId=" + parentSpanId + ", sticky=" + updateStickyRoom
        + ", data=" + (data == null ? "none" : data.size() + " fields") + "]";
  }

  /** Builds {@link SendOptions}. */
  public static final class Builder {
    private String messageType = MessageType.TEXT;
    private String parentSpanId;
    private boolean updateStickyRoom;
    private Map<String, Object> data;
    private String clientMessageId;

    private Builder() {}

    public Builder messageType(String type) {
      this.messageType = MessageType.check(type);
      return this;
    }

    public Builder parentSpanId(String spanId) {
      this.parentSpanId = Objects.requireNonNull(spanId, "parentSpanId");
      return this;
    }

    public Builder updateStickyRoom(boolean update) {
      this.updateStickyRoom = update;
      return this;
    }

    /** A JSON-compatible map (strings, numbers, booleans, lists, maps). */
    public Builder data(Map<String, ?> data) {
      Objects.requireNonNull(data, "data");
      this.data = new LinkedHashMap<>(data);
      return this;
    }

    /** 1 to 128 characters, unique per sender; a retry with the same id is stored once. */
    public Builder clientMessageId(String id) {
      Objects.requireNonNull(id, "clientMessageId");
      if (id.isEmpty() || id.length() > 128) {
        throw new IllegalArgumentException("clientMessageId must be 1 to 128 characters");
      }
      this.clientMessageId = id;
      return this;
    }

    public SendOptions build() {
      return new SendOptions(this);
    }
  }
}
