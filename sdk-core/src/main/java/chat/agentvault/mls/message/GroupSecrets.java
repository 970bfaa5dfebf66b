package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code GroupSecrets} (§12.4.3.1); {@code pathSecret} null when absent. Holds secrets: never log. */
public record GroupSecrets(Bytes joinerSecret, Bytes pathSecret, List<PreSharedKeyId> psks) {
  public GroupSecrets {
    Objects.requireNonNull(joinerSecret, "joinerSecret");
    psks = List.copyOf(psks);
  }

  public void encode(TlsWriter w) {
    w.opaque(joinerSecret);
    w.optional(pathSecret, (ww, p) -> ww.opaque(p));
    w.vector(psks, (ww, p) -> p.encode(ww));
  }

  public static GroupSecrets decode(TlsReader r) {
    return new GroupSecrets(r.opaque(), r.optional(TlsReader::opaque), r.vector(PreSharedKeyId::decode));
  }

  @Override
  public String toString() {
    return "GroupSecrets[redacted, psks=" + psks.size() + "]";
  }
}
