package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Sha256;
import chat.agentvault.mls.message.MlsMessage;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A member saved with {@link Group#toRecord()} and restored continues exactly. */
class GroupRecordTest {
  private static GroupTest.World threeMembers(int suite) {
    GroupTest.World w = new GroupTest.World(suite, false);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));
    return w;
  }

  private static Bytes text(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private static Bytes receive(Client to, MlsMessage m) {
    Processed p = to.group.process(m);
    assertThat(p).isInstanceOf(Processed.ApplicationMessage.class);
    return ((Processed.ApplicationMessage) p).data();
  }

  /** Builds the state of test: c has a delayed message of a past epoch, a skipped key, a pending proposal. */
  static final class Scenario {
    final GroupTest.World w;
    final Client a;
    final Client b;
    final Client c;
    final MlsMessage pastEpochMessage;
    final MlsMessage delayed;
    final MlsMessage later;

    Scenario(int suite) {
      w = threeMembers(suite);
      a = w.member(0);
      b = w.member(1);
      c = w.member(2);
      w.everyoneTalks();
      pastEpochMessage = a.group.encrypt(text("old epoch"), Bytes.EMPTY);
      assertThat(receive(b, pastEpochMessage)).isEqualTo(text("old epoch"));
      w.commit(b, List.of(), true, List.of());
      MlsMessage m1 = a.group.encrypt(text("one"), Bytes.EMPTY);
      delayed = a.group.encrypt(text("two"), Bytes.EMPTY);
      MlsMessage m3 = a.group.encrypt(text("three"), Bytes.EMPTY);
      for (Client to : List.of(b, c)) {
        assertThat(receive(to, m1)).isEqualTo(text("one"));
        assertThat(receive(to, m3)).isEqualTo(text("three"));
      }
      assertThat(receive(b, delayed)).isEqualTo(text("two"));
      MlsMessage fromC = c.group.encrypt(text("c speaks"), Bytes.EMPTY);
      assertThat(receive(a, fromC)).isEqualTo(text("c speaks"));
      assertThat(receive(b, fromC)).isEqualTo(text("c speaks"));
      later = a.group.encrypt(text("four"), Bytes.EMPTY); // c gets it only after the restore
      assertThat(receive(b, later)).isEqualTo(text("four"));
      w.broadcastProposal(b, b.group.proposeUpdate());
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void restoredMemberContinuesExactly(int suite) {
    Scenario sc = new Scenario(suite);
    GroupTest.World w = sc.w;
    Client c = sc.c;
    byte[] record = c.group.toRecord();
    Bytes exporterBefore = Bytes.wrap(c.group.exportSecret("x", new byte[0], 32));
    c.group = null; // the live object is gone: only the record remains
    c.group = Group.fromRecord(record, w.config);
    assertThat(c.group.toRecord()).as("round trip").isEqualTo(record);
    assertThat(Bytes.wrap(c.group.exportSecret("x", new byte[0], 32))).isEqualTo(exporterBefore);
    assertThat(c.group.pendingProposals()).hasSize(1);

    // The out-of-order message of this epoch (skipped key) and the late one of the past epoch.
    assertThat(receive(c, sc.delayed)).isEqualTo(text("two"));
    assertThat(receive(c, sc.pastEpochMessage)).isEqualTo(text("old epoch"));
    // Consumed keys stay consumed.
    assertThatThrownBy(() -> c.group.process(sc.delayed)).isInstanceOf(chat.agentvault.MessageRejectedException.class);

    assertThat(receive(c, sc.later)).isEqualTo(text("four"));
    // A commit of another member (it takes b's pending Update by reference), then c's own commit.
    w.commit(sc.a, List.of(), false, List.of());
    w.everyoneTalks();
    w.commit(c, List.of(), true, List.of());
    w.everyoneTalks();
    w.checkAgreement();
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void restoredTwiceGivesEqualMembers(int suite) {
    Scenario sc = new Scenario(suite);
    byte[] record = sc.c.group.toRecord();
    Group one = Group.fromRecord(record, sc.w.config);
    Group two = Group.fromRecord(record, sc.w.config);
    assertThat(one.toRecord()).isEqualTo(two.toRecord()).isEqualTo(record);
    assertThat(one.epochAuthenticator()).isEqualTo(sc.b.group.epochAuthenticator());
    // Each restored copy is independent: consuming a key in one does not consume it in the other.
    assertThat(receive(clientOf(sc, one), sc.delayed)).isEqualTo(text("two"));
    assertThat(receive(clientOf(sc, two), sc.delayed)).isEqualTo(text("two"));
  }

  private static Client clientOf(Scenario sc, Group g) {
    sc.c.group = g;
    return sc.c;
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void everyTruncationAndBitFlipIsRefused(int suite) {
    Scenario sc = new Scenario(suite);
    byte[] record = sc.c.group.toRecord();
    for (int n = 0; n < record.length; n++) {
      byte[] cut = Arrays.copyOf(record, n);
      assertThatThrownBy(() -> Group.fromRecord(cut, sc.w.config)).isInstanceOf(GroupRecordFormatException.class);
    }
    byte[] longer = Arrays.copyOf(record, record.length + 1);
    assertThatThrownBy(() -> Group.fromRecord(longer, sc.w.config)).isInstanceOf(GroupRecordFormatException.class);
    Random rnd = new Random(suite);
    for (int i = 0; i < 400; i++) {
      byte[] flipped = record.clone();
      flipped[rnd.nextInt(flipped.length)] ^= (byte) (1 << rnd.nextInt(8));
      assertThatThrownBy(() -> Group.fromRecord(flipped, sc.w.config)).isInstanceOf(GroupRecordFormatException.class);
    }
  }

  /**
   * Past the checksum: bit flips whose checksum is recomputed (as a writer bug could produce)
   * either load or fail with the typed exception, never anything else.
   */
  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void structureChecksAreTotal(int suite) {
    Scenario sc = new Scenario(suite);
    byte[] record = sc.c.group.toRecord();
    int body = record.length - 32;
    Random rnd = new Random(100 + suite);
    int loaded = 0;
    for (int i = 0; i < 1500; i++) {
      byte[] f = Arrays.copyOf(record, body);
      f[5 + rnd.nextInt(body - 5)] ^= (byte) (1 << rnd.nextInt(8));
      byte[] withSum = Arrays.copyOf(f, record.length);
      System.arraycopy(Sha256.hash(f), 0, withSum, body, 32);
      try {
        Group.fromRecord(withSum, sc.w.config);
        loaded++;
      } catch (GroupRecordFormatException e) {
        assertThat(e.reason()).isEqualTo(GroupRecordFormatException.Reason.CORRUPTED);
      }
    }
    // Truncated bodies with a right checksum.
    for (int n = 5; n < body; n += 7) {
      byte[] f = Arrays.copyOf(record, n);
      byte[] withSum = Arrays.copyOf(f, n + 32);
      System.arraycopy(Sha256.hash(f), 0, withSum, n, 32);
      assertThatThrownBy(() -> Group.fromRecord(withSum, sc.w.config)).isInstanceOf(GroupRecordFormatException.class);
    }
    assertThat(loaded).isLessThan(1500);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void otherVersionAndMagicAreRefused(int suite) {
    Scenario sc = new Scenario(suite);
    byte[] record = sc.c.group.toRecord();
    assertThat(record[4]).isEqualTo((byte) GroupRecord.VERSION);
    for (int version : List.of(0, GroupRecord.VERSION + 1, 255)) {
      byte[] other = record.clone();
      other[4] = (byte) version;
      assertThatThrownBy(() -> Group.fromRecord(other, sc.w.config))
          .isInstanceOfSatisfying(
              GroupRecordFormatException.class,
              e -> assertThat(e.reason()).isEqualTo(GroupRecordFormatException.Reason.UNSUPPORTED_VERSION));
    }
    byte[] magic = record.clone();
    magic[0] = 'X';
    assertThatThrownBy(() -> Group.fromRecord(magic, sc.w.config))
        .isInstanceOfSatisfying(
            GroupRecordFormatException.class, e -> assertThat(e.reason()).isEqualTo(GroupRecordFormatException.Reason.CORRUPTED));
    assertThatThrownBy(() -> Group.fromRecord(new byte[0], sc.w.config)).isInstanceOf(GroupRecordFormatException.class);
  }
  /** c's own commit adding d, made on the scenario's state: pending, not merged. */
  private static Group.CommitOutput pendingAdd(Scenario sc, Client d) {
    return sc.c.group.commit(List.of(sc.w.addOf(d)), true);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void pendingOwnCommitSurvivesTheRecordAndMerges(int suite) {
    Scenario sc = new Scenario(suite);
    GroupTest.World w = sc.w;
    Client c = sc.c;
    Client d = w.newClient();
    Group.CommitOutput out = pendingAdd(sc, d);
    byte[] record = c.group.toRecord(out);
    assertThat(record.length).isGreaterThan(c.group.toRecord().length);
    c.group = null; // restart

    Group.Restored restored = Group.restore(record, w.config);
    Group.CommitOutput pending = restored.pendingCommit();
    assertThat(pending).isNotNull();
    assertThat(pending.commit().toByteArray()).isEqualTo(out.commit().toByteArray());
    assertThat(pending.welcome().toByteArray()).isEqualTo(out.welcome().toByteArray());
    assertThat(pending.added()).isEqualTo(out.added());
    assertThat(pending.removed()).isEqualTo(out.removed());
    assertThat(restored.group().toRecord(pending)).as("round trip").isEqualTo(record);
    assertThat(Group.fromRecord(record, w.config).toRecord()).as("fromRecord drops it").isEqualTo(
        restored.group().toRecord());
    c.group = restored.group();

    // Application messages read while the commit is pending stay consumed after the merge.
    assertThat(receive(c, sc.delayed)).isEqualTo(text("two"));
    c.group.merge(pending.staged());
    assertThatThrownBy(() -> c.group.process(sc.delayed)).isInstanceOf(chat.agentvault.MessageRejectedException.class);
    for (Client m : w.members) {
      if (m != c) {
        m.group.merge(((Processed.CommitApplied) m.group.process(out.commit())).staged());
      }
    }
    d.join(pending.welcome(), w.config);
    w.members.add(d);
    w.checkAgreement();
    w.everyoneTalks();
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void pendingOwnCommitDiscardedAfterARestart(int suite) {
    Scenario sc = new Scenario(suite);
    GroupTest.World w = sc.w;
    Client c = sc.c;
    Group.CommitOutput out = pendingAdd(sc, w.newClient());
    Group.Restored restored = Group.restore(c.group.toRecord(out), w.config);
    // The delivery service ordered a's commit first: c drops its own and follows a's.
    c.group = restored.group();
    Group.Restored again = Group.restore(c.group.toRecord(), w.config);
    assertThat(again.pendingCommit()).isNull();
    c.group = again.group();
    w.commit(sc.a, List.of(), true, List.of());
    w.everyoneTalks();
    // A pending commit of an older state is not written with the current one.
    assertThatThrownBy(() -> c.group.toRecord(restored.pendingCommit())).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void recordsWithAPendingCommitRefuseTruncationsAndFlips(int suite) {
    Scenario sc = new Scenario(suite);
    byte[] record = sc.c.group.toRecord(pendingAdd(sc, sc.w.newClient()));
    for (int n = 0; n < record.length; n += 3) {
      byte[] cut = Arrays.copyOf(record, n);
      assertThatThrownBy(() -> Group.restore(cut, sc.w.config)).isInstanceOf(GroupRecordFormatException.class);
    }
    int body = record.length - 32;
    Random rnd = new Random(200 + suite);
    int loaded = 0;
    for (int i = 0; i < 1500; i++) {
      byte[] f = Arrays.copyOf(record, body);
      // Flip inside the pending commit (the second half of the record).
      f[body / 2 + rnd.nextInt(body - body / 2)] ^= (byte) (1 << rnd.nextInt(8));
      byte[] withSum = Arrays.copyOf(f, record.length);
      System.arraycopy(Sha256.hash(f), 0, withSum, body, 32);
      try {
        Group.restore(withSum, sc.w.config);
        loaded++;
      } catch (GroupRecordFormatException e) {
        assertThat(e.reason()).isEqualTo(GroupRecordFormatException.Reason.CORRUPTED);
      }
    }
    assertThat(loaded).isLessThan(1500);
  }
  /** Regression: at epoch 0 the interim transcript hash is empty (§8.2); such a record loads. */
  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void aNewGroupAtEpochZeroRoundTrips(int suite) {
    GroupTest.World w = new GroupTest.World(suite, true);
    Client a = w.members.get(0);
    assertThat(a.group.epoch()).isZero();
    byte[] record = a.group.toRecord();
    a.group = Group.fromRecord(record, w.config);
    assertThat(a.group.toRecord()).isEqualTo(record);
    Client b = w.newClient();
    Group.CommitOutput out = a.group.commit(List.of(w.addOf(b)), false);
    Group.Restored restored = Group.restore(a.group.toRecord(out), w.config);
    a.group = restored.group();
    a.group.merge(restored.pendingCommit().staged());
    b.join(restored.pendingCommit().welcome(), w.config);
    w.members.add(b);
    w.checkAgreement();
    w.everyoneTalks();
  }
}
