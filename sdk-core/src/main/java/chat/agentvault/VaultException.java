package chat.agentvault;

/**
 * The one unchecked root of every exception the SDK throws on purpose.
 *
 * <p>Subclasses are named for what the caller does next (reject a message, re-verify an identity,
 * retry a transport call, repair a store). Messages never carry key, nonce or plaintext bytes.
 * Misuse of the API stays an {@link IllegalArgumentException}, {@link IllegalStateException} or
 * {@link NullPointerException} naming the argument or the state.
 */
public class VaultException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public VaultException(String message) {
    super(message);
  }

  public VaultException(String message, Throwable cause) {
    super(message, cause);
  }
}
