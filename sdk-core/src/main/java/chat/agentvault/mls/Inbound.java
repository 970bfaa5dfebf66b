package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.mls.group.Processed;
import java.util.ArrayList;
import java.util.List;

/** What {@link MlsGroup#process} made of an inbound message. */
public sealed interface Inbound permits Inbound.Application, Inbound.ProposalReceived, Inbound.StagedCommit {

  /** Decrypted application data from {@code sender}. */
  record Application(MlsGroup.Member sender, long epoch, Bytes data) implements Inbound {}

  /** A valid proposal, kept until a commit of this epoch includes it. */
  record ProposalReceived(MlsGroup.Member sender, int proposalType) implements Inbound {}

  /**
   * A valid commit, not applied yet: inspect it, then {@link MlsGroup#merge} it. {@code removesMe}
   * means this member is no longer in the group after the merge. Members are of the new epoch
   * (added, updated) or of the current one (removed, committer).
   */
  final class StagedCommit implements Inbound {
    private final long newEpoch;
    private final MlsGroup.Member committer;
    private final List<MlsGroup.Member> added;
    private final List<MlsGroup.Member> removed;
    private final boolean removesMe;
    final Processed.StagedCommit staged;

    StagedCommit(
        long newEpoch,
        MlsGroup.Member committer,
        List<MlsGroup.Member> added,
        List<MlsGroup.Member> removed,
        boolean removesMe,
        Processed.StagedCommit staged) {
      this.newEpoch = newEpoch;
      this.committer = committer;
      this.added = List.copyOf(added);
      this.removed = List.copyOf(removed);
      this.removesMe = removesMe;
      this.staged = staged;
    }

    public long newEpoch() {
      return newEpoch;
    }

    public MlsGroup.Member committer() {
      return committer;
    }

    public List<MlsGroup.Member> added() {
      return added;
    }

    public List<MlsGroup.Member> removed() {
      return removed;
    }

    public boolean removesMe() {
      return removesMe;
    }

    /**
     * The members of the new epoch, by leaf index, with their credential identities and signature
     * keys: the leaves the commit adds or changes (an update path's new leaf) included, so that the
     * application can authenticate every leaf before it merges.
     */
    public List<MlsGroup.Member> members() {
      List<MlsGroup.Member> out = new ArrayList<>();
      for (int leaf : staged.membersAfter()) {
        out.add(MlsGroup.memberOf(leaf, staged.leafAfter(leaf)));
      }
      return out;
    }

    @Override
    public String toString() {
      return "StagedCommit[epoch " + newEpoch + ", by " + committer + ", +" + added.size() + " -" + removed.size()
          + (removesMe ? ", removes me" : "") + "]";
    }
  }
}
