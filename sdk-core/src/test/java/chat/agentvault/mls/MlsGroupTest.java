package chat.agentvault.mls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The public surface end to end: create, add with Welcome, talk, update, remove, reject. */
class MlsGroupTest {
  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private static void deliver(Bytes commit, MlsGroup... to) {
    for (MlsGroup g : to) {
      Inbound in = g.process(commit);
      assertThat(in).isInstanceOf(Inbound.StagedCommit.class);
      g.merge((Inbound.StagedCommit) in);
    }
  }

  @ParameterizedTest(name = "suite {0} encrypted handshakes {1}")
  @CsvSource({"1, false", "1, true", "3, false", "3, true"})
  void threeAgentsTalk(int suite, boolean enc) {
    MlsKeyPackage alice = MlsKeyPackage.generate(suite, b("alice"));
    MlsKeyPackage bob = MlsKeyPackage.generate(suite, b("bob"));
    MlsKeyPackage carol = MlsKeyPackage.generate(suite, b("carol"));
    assertThat(alice.toString()).doesNotContain(alice.toBytes().hex());

    MlsGroup a = MlsGroup.create(alice, b("room-1"), enc);
    MlsGroup.PendingCommit add = a.addMembers(List.of(bob.toBytes(), carol.toBytes()));
    assertThatThrownBy(() -> a.encrypt(b("too early"))).isInstanceOf(IllegalStateException.class);
    a.mergePendingCommit();
    MlsGroup bg = MlsGroup.join(bob, add.welcome().orElseThrow(), enc);
    MlsGroup cg = MlsGroup.join(carol, add.welcome().orElseThrow(), enc);
    assertThat(bg.members()).extracting(MlsGroup.Member::identity).containsExactly(b("alice"), b("bob"), b("carol"));
    assertThat(bg.epochAuthenticator()).isEqualTo(a.epochAuthenticator()).isEqualTo(cg.epochAuthenticator());

    Bytes hello = a.encrypt(b("hello"));
    Inbound.Application got = (Inbound.Application) bg.process(hello);
    assertThat(got.data()).isEqualTo(b("hello"));
    assertThat(got.sender().identity()).isEqualTo(b("alice"));
    assertThat(((Inbound.Application) cg.process(hello)).data()).isEqualTo(b("hello"));
    assertThatThrownBy(() -> bg.process(hello))
        .isInstanceOfSatisfying(
            MessageRejectedException.class, e -> assertThat(e.reason()).isEqualTo(MessageRejectedException.Reason.DUPLICATE));

    // Bob updates his keys; everyone follows.
    MlsGroup.PendingCommit upd = bg.update();
    bg.mergePendingCommit();
    deliver(upd.message(), a, cg);
    assertThat(a.epoch()).isEqualTo(2);
    assertThat(a.epochAuthenticator()).isEqualTo(bg.epochAuthenticator()).isEqualTo(cg.epochAuthenticator());

    // Carol removes Bob.
    MlsGroup.PendingCommit rm = cg.removeMembers(List.of(bg.self().leafIndex()));
    cg.mergePendingCommit();
    Inbound.StagedCommit forBob = (Inbound.StagedCommit) bg.process(rm.message());
    assertThat(forBob.removesMe()).isTrue();
    bg.merge(forBob);
    assertThat(bg.isActive()).isFalse();
    Inbound.StagedCommit forAlice = (Inbound.StagedCommit) a.process(rm.message());
    assertThat(forAlice.removed()).extracting(MlsGroup.Member::identity).containsExactly(b("bob"));
    a.merge(forAlice);
    assertThat(a.members()).hasSize(2);
    assertThat(new String(a.exportSecret("x", new byte[0], 16), StandardCharsets.ISO_8859_1))
        .isEqualTo(new String(cg.exportSecret("x", new byte[0], 16), StandardCharsets.ISO_8859_1));

    // Dave joins by external commit from a GroupInfo Carol published.
    MlsKeyPackage dave = MlsKeyPackage.generate(suite, b("dave"));
    MlsGroup.ExternalJoin dj = MlsGroup.joinExternal(dave, cg.groupInfo(), enc);
    Inbound.StagedCommit ext = (Inbound.StagedCommit) a.process(dj.commit());
    assertThat(ext.added()).extracting(MlsGroup.Member::identity).containsExactly(b("dave"));
    a.merge(ext);
    deliver(dj.commit(), cg);
    MlsGroup dg = dj.group();
    assertThat(dg.epochAuthenticator()).isEqualTo(a.epochAuthenticator()).isEqualTo(cg.epochAuthenticator());
    assertThat(((Inbound.Application) a.process(dg.encrypt(b("hi from dave")))).sender().identity()).isEqualTo(b("dave"));

    // Garbage and a Welcome for someone else are rejected.
    assertThatThrownBy(() -> a.process(b("not mls"))).isInstanceOf(MessageRejectedException.class);
    MlsKeyPackage eve = MlsKeyPackage.generate(suite, b("eve"));
    assertThatThrownBy(() -> MlsGroup.join(eve, add.welcome().orElseThrow(), enc))
        .isInstanceOf(MessageRejectedException.class);
  }
}
