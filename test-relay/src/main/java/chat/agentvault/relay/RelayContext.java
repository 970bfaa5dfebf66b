package chat.agentvault.relay;

import chat.agentvault.relay.auth.Jwt;
import chat.agentvault.relay.db.Database;
import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.message.MessageApi;
import java.time.Clock;
import java.util.UUID;

/** The services one relay instance's handlers share. */
public final class RelayContext {
  private final RelayConfig config;
  private final Database db;
  private final Jwt jwt;
  private final Fanout fanout;
  private final String instanceId = UUID.randomUUID().toString();
  private volatile MessageApi messages;
  private volatile chat.agentvault.relay.message.MessageRetention retention;

  RelayContext(RelayConfig config, Database db, Jwt jwt, Fanout fanout) {
    this.config = config;
    this.db = db;
    this.jwt = jwt;
    this.fanout = fanout;
  }

  public RelayConfig config() { return config; }
  public Database db() { return db; }
  public Jwt jwt() { return jwt; }
  public Fanout fanout() { return fanout; }
  public Clock clock() { return config.clock(); }
  public String instanceId() { return instanceId; }
  public MessageApi messages() { return messages; }

  /** The sweep of delivered messages. */
  public chat.agentvault.relay.message.MessageRetention retention() {
    return retention;
  }

  void retention(chat.agentvault.relay.message.MessageRetention retention) {
    this.retention = retention;
  }

  void messages(MessageApi messages) {
    this.messages = messages;
  }
}
