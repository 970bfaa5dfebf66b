package chat.agentvault.channel;

/** Test hook: where the inbound pipeline simulates a crash (docs/channel.md "Crash safety"). */
enum CrashPoint {
  /** Decrypted, nothing stored: the state stays old, the message comes again and is decrypted again. */
  AFTER_DECRYPT,
  /** The decrypted message and the advanced state are stored, not dispatched, not acknowledged. */
  AFTER_INBOX
}
