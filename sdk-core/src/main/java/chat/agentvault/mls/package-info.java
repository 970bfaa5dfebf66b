/**
 * MLS groups (RFC 9420) for end-to-end encrypted group messaging: {@link
 * chat.agentvault.mls.MlsKeyPackage} (what a member publishes so others can add it, with its private
 * keys) and {@link chat.agentvault.mls.MlsGroup} (one member's view of one group). Wire messages are
 * {@link chat.agentvault.Bytes} of serialized {@code MLSMessage}s; the subpackages are not API.
 *
 * <p>Commits are staged: {@link chat.agentvault.mls.MlsGroup#process} returns a {@link
 * chat.agentvault.mls.Inbound.StagedCommit} that the application inspects and then merges; a
 * rejected message throws {@link chat.agentvault.MessageRejectedException} and changes nothing.
 */
package chat.agentvault.mls;
