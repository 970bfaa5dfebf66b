package chat.agentvault.mls.codec;

import chat.agentvault.VaultException;

/** Malformed TLS-encoded input: truncated, non-minimal, out of range, or with trailing bytes. */
public final class DecodeException extends VaultException {
  private static final long serialVersionUID = 1L;

  public DecodeException(String message) {
    super(message);
  }
}
