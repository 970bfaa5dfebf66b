package chat.agentvault.ratchet;

import chat.agentvault.identity.PublicIdentity;

/**
 * A decrypted message: its plaintext, the sender's identity, and whether this message started a
 * new session (an initial message: the channel layer may treat the peer as reconnected).
 */
public final class Decrypted {
  private final byte[] plaintext;
  private final PublicIdentity sender;
  private final boolean newSession;

  Decrypted(byte[] plaintext, PublicIdentity sender, boolean newSession) {
    this.plaintext = plaintext;
    this.sender = sender;
    this.newSession = newSession;
  }

  /** A copy of the plaintext. */
  public byte[] plaintext() {
    return plaintext.clone();
  }

  /** The sender's verified public identity. */
  public PublicIdentity sender() {
    return sender;
  }

  /** True when this message was an initial message that set up a new session. */
  public boolean newSession() {
    return newSession;
  }

  @Override
  public String toString() {
    return "Decrypted[" + plaintext.length + " bytes from " + sender.fingerprint().shortForm()
        + (newSession ? ", new session" : "") + "]";
  }
}
