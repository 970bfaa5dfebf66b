package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;

/** {@code Capabilities} (§7.2); GREASE values (§13.5) are carried like any other. */
public record Capabilities(
    List<Integer> versions,
    List<Integer> cipherSuites,
    List<Integer> extensions,
    List<Integer> proposals,
    List<Integer> credentials) {
  public Capabilities {
    versions = List.copyOf(versions);
    cipherSuites = List.copyOf(cipherSuites);
    extensions = List.copyOf(extensions);
    proposals = List.copyOf(proposals);
    credentials = List.copyOf(credentials);
  }

  public void encode(TlsWriter w) {
    TlsWriter.Encoder<Integer> u16 = (ww, v) -> ww.u16(v);
    w.vector(versions, u16)
        .vector(cipherSuites, u16)
        .vector(extensions, u16)
        .vector(proposals, u16)
        .vector(credentials, u16);
  }

  public static Capabilities decode(TlsReader r) {
    TlsReader.Decoder<Integer> u16 = TlsReader::u16;
    return new Capabilities(
        r.vector(u16), r.vector(u16), r.vector(u16), r.vector(u16), r.vector(u16));
  }
}
