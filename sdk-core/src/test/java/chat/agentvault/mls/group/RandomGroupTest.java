package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.message.Proposal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random operation sequences over our own engine: proposals by reference from random members
 * (Add, Update, Remove), by-value Adds and Removes, empty and path-forcing commits by random
 * committers, application messages; after every commit all members must agree (epoch, GroupContext,
 * epoch authenticator, exporter) and talk. Seeds are fixed so failures reproduce.
 */
class RandomGroupTest {
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
  void randomOperations(long seed) {
    Random rnd = new Random(seed);
    int suite = rnd.nextBoolean() ? 1 : 3;
    GroupTest.World w = new GroupTest.World(suite, rnd.nextBoolean());
    List<Client> joiners = new ArrayList<>(); // added by pending proposals, carried over skipped rounds
    for (int step = 0; step < 25; step++) {
      List<Proposal> byValue = new ArrayList<>();
      // Some proposals by reference from random members.
      int proposals = rnd.nextInt(3);
      java.util.Set<Integer> touched = new java.util.HashSet<>();
      for (int i = 0; i < proposals; i++) {
        Client from = w.members.get(rnd.nextInt(w.members.size()));
        int kind = rnd.nextInt(3);
        if (kind == 0 && w.members.size() < 10) {
          Client j = w.newClient();
          joiners.add(j);
          w.broadcastProposal(from, from.group.propose(w.addOf(j)));
        } else if (kind == 1 && touched.add(from.group.ownLeaf())) {
          w.broadcastProposal(from, from.group.proposeUpdate());
        } else if (w.members.size() > 2) {
          Client victim = w.members.get(rnd.nextInt(w.members.size()));
          if (victim != from && touched.add(victim.group.ownLeaf())) {
            w.broadcastProposal(from, from.group.propose(new Proposal.Remove(victim.group.ownLeaf())));
          }
        }
      }
      // The committer must not be removed by a pending proposal, nor have its own Update pending
      // (that one is skipped by commit(), and its leaf then changes through the path anyway).
      List<Client> candidates = new ArrayList<>();
      for (Client c : w.members) {
        if (!touched.contains(c.group.ownLeaf()) || rnd.nextInt(4) == 0) {
          candidates.add(c);
        }
      }
      if (candidates.isEmpty()) {
        continue; // no committer this round: proposals stay pending for the next one
      }
      Client committer = candidates.get(rnd.nextInt(candidates.size()));
      if (rnd.nextInt(3) == 0 && w.members.size() < 10) {
        Client j = w.newClient();
        joiners.add(j);
        byValue.add(w.addOf(j));
      }
      if (Boolean.getBoolean("debug.random")) {
        System.out.println("step " + step + " committer " + committer.group.ownLeaf() + " pending "
            + committer.group.pendingProposals().values() .stream().map(p -> p.getClass().getSimpleName()
                + (p instanceof Proposal.Remove r ? r.removed() : "")).toList()
            + " byValue " + byValue.size() + " members " + w.members.stream().map(c -> c.group.ownLeaf()).toList());
      }
      w.commit(committer, byValue, rnd.nextInt(4) == 0, joiners);
      joiners.clear();
      w.everyoneTalks();
    }
    assertThat(w.members.get(0).group.epoch()).isPositive();
  }
}
