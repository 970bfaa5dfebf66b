package chat.agentvault.mls.crypto;

import chat.agentvault.VaultException;

/** A cipher suite this engine does not implement (only 0x0001 and 0x0003 are). */
public final class UnsupportedCipherSuiteException extends VaultException {
  private static final long serialVersionUID = 1L;
  private final int suite;

  public UnsupportedCipherSuiteException(int suite) {
    super(String.format("unsupported MLS cipher suite 0x%04x (supported: 0x0001, 0x0003)", suite));
    this.suite = suite;
  }

  public int suite() {
    return suite;
  }
}
