/**
 * Not API. The MLS group state machine (RFC 9420 §11, §12): creating a group, joining from a
 * Welcome, proposals, creating and processing commits, application messages. Every operation runs
 * on a copy of the {@link chat.agentvault.mls.group.GroupState} and the copy replaces the current
 * state only when the operation fully succeeded, so invalid input changes nothing.
 */
package chat.agentvault.mls.group;
