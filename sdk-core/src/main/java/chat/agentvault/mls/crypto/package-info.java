/**
 * Not API. MLS cipher suites (RFC 9420 §5.1) behind one interface, and the labeled functions of
 * §5: RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret, SignWithLabel / VerifyWithLabel,
 * EncryptWithLabel / DecryptWithLabel. Protocol code sees only {@link
 * chat.agentvault.mls.crypto.CipherSuite}, so a further suite (0x0002, a post-quantum hybrid) is a
 * new implementation, not a change to the protocol.
 */
package chat.agentvault.mls.crypto;
