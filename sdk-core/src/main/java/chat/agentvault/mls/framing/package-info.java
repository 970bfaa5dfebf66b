/** Not API. Message framing and protection of RFC 9420 §6: PublicMessage and PrivateMessage. */
package chat.agentvault.mls.framing;
