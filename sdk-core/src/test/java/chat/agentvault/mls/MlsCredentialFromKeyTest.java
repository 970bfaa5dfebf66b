package chat.agentvault.mls;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The public API for credentials bound to the leaf signature key: {@link
 * MlsKeyPackage#generate(int, java.util.function.Function, boolean)}, {@link
 * MlsKeyPackage#signatureKeyOf}, {@link MlsGroup.Member#signatureKey()}, {@link
 * Inbound.StagedCommit#members()}, {@link MlsGroup#rejoinExternal(MlsKeyPackage, Bytes, boolean,
 * java.util.function.Predicate)}.
 */
class MlsCredentialFromKeyTest {
  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A stand-in for an endorsement: the name, then the signature key. */
  private static MlsKeyPackage keyPackage(String name) {
    return MlsKeyPackage.generate(3, key -> b(name + ":").concat(key), false);
  }

  @Test
  void identityIsComputedFromTheFreshSignatureKeyAndMembersExposeIt() {
    List<Bytes> seen = new ArrayList<>();
    MlsKeyPackage alice = MlsKeyPackage.generate(3, key -> {
      seen.add(key);
      return b("alice:").concat(key);
    }, true);
    assertThat(seen).singleElement().satisfies(k -> assertThat(k.length()).isEqualTo(32));
    assertThat(alice.isLastResort()).isTrue();
    assertThat(alice.identity()).isEqualTo(b("alice:").concat(seen.get(0)));
    assertThat(MlsKeyPackage.signatureKeyOf(alice.toBytes())).isEqualTo(seen.get(0));
    // The record round trip keeps it (the KeyPackage is signed over the computed identity).
    MlsKeyPackage restored = MlsKeyPackage.fromPrivateRecord(alice.toPrivateRecord());
    assertThat(restored.identity()).isEqualTo(alice.identity());

    MlsKeyPackage bob = keyPackage("bob");
    Bytes bobKey = MlsKeyPackage.signatureKeyOf(bob.toBytes());
    MlsGroup a = MlsGroup.create(alice, b("g"), false);
    assertThat(a.self().signatureKey()).isEqualTo(seen.get(0));
    MlsGroup.PendingCommit add = a.addMembers(List.of(bob.toBytes()));
    a.mergePendingCommit();
    MlsGroup bg = MlsGroup.join(bob, add.welcome().orElseThrow(), false);
    assertThat(bg.members())
        .extracting(MlsGroup.Member::identity, MlsGroup.Member::signatureKey)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(alice.identity(), seen.get(0)),
            org.assertj.core.groups.Tuple.tuple(bob.identity(), bobKey));

    // A received commit lists the new epoch's members with their keys, the added one included.
    MlsKeyPackage carol = keyPackage("carol");
    MlsGroup.PendingCommit addCarol = a.addMembers(List.of(carol.toBytes()));
    a.mergePendingCommit();
    Inbound.StagedCommit staged = (Inbound.StagedCommit) bg.process(addCarol.message());
    assertThat(staged.added()).singleElement()
        .satisfies(m -> assertThat(m.signatureKey()).isEqualTo(MlsKeyPackage.signatureKeyOf(carol.toBytes())));
    assertThat(staged.members()).extracting(MlsGroup.Member::identity)
        .containsExactly(alice.identity(), bob.identity(), carol.identity());
    assertThat(bg.members()).hasSize(2); // not merged yet
    bg.merge(staged);
    assertThat(bg.members()).isEqualTo(a.members());

    // The two-argument Member is the old one, without a key.
    assertThat(new MlsGroup.Member(1, b("x")).signatureKey()).isNull();
  }

  @Test
  void rejoinRemovesTheOldLeafThePredicateNames() {
    MlsKeyPackage alice = keyPackage("alice");
    MlsKeyPackage bob = keyPackage("bob");
    MlsGroup a = MlsGroup.create(alice, b("g"), false);
    MlsGroup.PendingCommit add = a.addMembers(List.of(bob.toBytes()));
    a.mergePendingCommit();
    MlsGroup.join(bob, add.welcome().orElseThrow(), false);

    // Bob's new KeyPackage has another identity (its key differs): matched by the name part.
    MlsKeyPackage bob2 = keyPackage("bob");
    assertThat(bob2.identity()).isNotEqualTo(bob.identity());
    MlsGroup.ExternalJoin j = MlsGroup.rejoinExternal(bob2, a.groupInfo(), false, id -> id.hex().startsWith(b("bob:").hex()));
    Inbound.StagedCommit staged = (Inbound.StagedCommit) a.process(j.commit());
    assertThat(staged.removed()).extracting(MlsGroup.Member::identity).containsExactly(bob.identity());
    a.merge(staged);
    assertThat(a.members()).extracting(MlsGroup.Member::identity).containsExactly(alice.identity(), bob2.identity());

    // The old form matches by equal identity only: here it would leave the old leaf in.
    MlsKeyPackage bob3 = keyPackage("bob");
    MlsGroup.ExternalJoin j3 = MlsGroup.rejoinExternal(bob3, a.groupInfo(), false);
    assertThat(j3.group().members()).hasSize(3);
  }
}
