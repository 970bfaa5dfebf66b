package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Sender;
import java.util.List;
import java.util.Objects;

/** What {@link Group#process} made of an inbound message. */
public sealed interface Processed
    permits Processed.ApplicationMessage,
        Processed.ProposalStored,
        Processed.CommitApplied,
        Processed.Removed {

  /** Decrypted application data from the member at {@code senderLeaf}, in epoch {@code epoch}. */
  record ApplicationMessage(int senderLeaf, long epoch, Bytes data, Bytes authenticatedData)
      implements Processed {}

  /** A valid proposal, kept for a later commit of this epoch under {@code ref}. */
  record ProposalStored(Bytes ref, Proposal proposal, Sender sender) implements Processed {}

  /**
   * A valid commit by {@code committer}, staged: the group moves to {@code newEpoch} only when the
   * caller passes {@code staged} to {@link Group#merge}. Leaf indices of the new epoch's tree.
   */
  record CommitApplied(
      long newEpoch,
      int committer,
      List<Integer> added,
      List<Integer> removed,
      List<Integer> updated,
      StagedCommit staged)
      implements Processed {
    public CommitApplied {
      added = List.copyOf(added);
      removed = List.copyOf(removed);
      updated = List.copyOf(updated);
      Objects.requireNonNull(staged, "staged");
    }
  }

  /** A valid commit by {@code committer} that removes this member; merging makes the group inactive. */
  record Removed(long newEpoch, int committer, StagedCommit staged) implements Processed {}

  /** The state a commit leads to, opaque to callers: merged with {@link Group#merge}. */
  final class StagedCommit {
    final GroupState next;
    final GroupState base;

    StagedCommit(GroupState base, GroupState next) {
      this.base = base;
      this.next = next;
    }

    /** The leaf at {@code leafIndex} in the tree of the new epoch, or null when blank. */
    public chat.agentvault.mls.message.LeafNode leafAfter(int leafIndex) {
      return next.tree.leaf(leafIndex);
    }

    /** Leaf indices of the members of the new epoch, ascending. */
    public List<Integer> membersAfter() {
      return next.members();
    }

    @Override
    public String toString() {
      return "StagedCommit[epoch " + Long.toUnsignedString(next.context.epoch()) + "]";
    }
  }
}
