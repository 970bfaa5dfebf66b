package chat.agentvault.mls.schedule;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.message.FramedContent;

/** The confirmed and interim transcript hashes (RFC 9420 §8.2). */
public final class TranscriptHashes {
  private TranscriptHashes() {}

  /**
   * confirmed[n] = Hash(interim[n-1] || ConfirmedTranscriptHashInput{wire_format, content,
   * signature}).
   */
  public static byte[] confirmed(
      CipherSuite cs, byte[] interimBefore, int wireFormat, FramedContent commitContent, Bytes signature) {
    TlsWriter w = new TlsWriter(512);
    w.raw(interimBefore).u16(wireFormat);
    commitContent.encode(w);
    w.opaque(signature);
    return cs.hash(w.toByteArray());
  }

  /** interim[n] = Hash(confirmed[n] || InterimTranscriptHashInput{confirmation_tag}). */
  public static byte[] interim(CipherSuite cs, byte[] confirmed, Bytes confirmationTag) {
    TlsWriter w = new TlsWriter(confirmed.length + confirmationTag.length() + 4);
    w.raw(confirmed).opaque(confirmationTag);
    return cs.hash(w.toByteArray());
  }

  /** confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash) (§6.1). */
  public static byte[] confirmationTag(CipherSuite cs, byte[] confirmationKey, byte[] confirmed) {
    return cs.mac(confirmationKey, confirmed);
  }
}
