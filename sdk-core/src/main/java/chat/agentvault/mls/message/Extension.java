package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code Extension} (§7.2): type and opaque data, unknown types preserved as they are. */
public record Extension(int type, Bytes data) {
  public Extension {
    Objects.requireNonNull(data, "data");
  }

  public void encode(TlsWriter w) {
    w.u16(type).opaque(data);
  }

  public static Extension decode(TlsReader r) {
    return new Extension(r.u16(), r.opaque());
  }

  public static void encodeList(TlsWriter w, List<Extension> list) {
    w.vector(list, (ww, e) -> e.encode(ww));
  }

  public static List<Extension> decodeList(TlsReader r) {
    return r.vector(Extension::decode);
  }
}
