package chat.agentvault.mls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MlsKeyPackageRecordTest {
  private static final Bytes ALICE = Bytes.wrap("alice".getBytes(StandardCharsets.UTF_8));

  @Test
  void privateRecordRoundTripsAndJoinsAfterwards() {
    MlsKeyPackage kp = MlsKeyPackage.generate(3, ALICE);
    MlsKeyPackage restored = MlsKeyPackage.fromPrivateRecord(kp.toPrivateRecord());
    assertThat(restored.toBytes()).isEqualTo(kp.toBytes());
    assertThat(restored.ref()).isEqualTo(kp.ref());
    assertThat(MlsKeyPackage.identityOf(kp.toBytes())).isEqualTo(ALICE);
    assertThat(restored.isLastResort()).isFalse();
    assertThat(MlsKeyPackage.generate(1, ALICE, true).isLastResort()).isTrue();

    MlsGroup bob = MlsGroup.create(MlsKeyPackage.generate(3, Bytes.wrap("bob".getBytes(StandardCharsets.UTF_8))),
        Bytes.wrap("g".getBytes(StandardCharsets.UTF_8)));
    MlsGroup.PendingCommit add = bob.addMembers(java.util.List.of(kp.toBytes()));
    bob.mergePendingCommit();
    Bytes welcome = add.welcome().orElseThrow();
    assertThat(MlsGroup.welcomeKeyPackageRefs(welcome)).containsExactly(kp.ref());
    MlsGroup alice = MlsGroup.join(restored, welcome, false);
    assertThat(alice.epoch()).isEqualTo(1);
    Bytes ct = alice.encrypt(Bytes.wrap(new byte[] {1, 2, 3}));
    assertThat(MlsGroup.epochOf(ct)).hasValue(1);
    assertThat(((Inbound.Application) bob.process(ct)).data()).isEqualTo(Bytes.wrap(new byte[] {1, 2, 3}));
  }

  @Test
  void tamperedRecordIsRefused() {
    byte[] record = MlsKeyPackage.generate(3, ALICE).toPrivateRecord();
    byte[] otherKey = MlsKeyPackage.generate(3, ALICE).toPrivateRecord();
    // Swap in another KeyPackage's last private key (the init key): no longer matches.
    System.arraycopy(otherKey, otherKey.length - 32, record, record.length - 32, 32);
    assertThatThrownBy(() -> MlsKeyPackage.fromPrivateRecord(record)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MlsKeyPackage.fromPrivateRecord(new byte[] {2})).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejoinExternalReplacesTheOldLeaf() {
    MlsKeyPackage a = MlsKeyPackage.generate(3, ALICE);
    MlsGroup bob = MlsGroup.create(MlsKeyPackage.generate(3, Bytes.wrap("bob".getBytes(StandardCharsets.UTF_8))),
        Bytes.wrap("g".getBytes(StandardCharsets.UTF_8)));
    bob.addMembers(java.util.List.of(a.toBytes()));
    bob.mergePendingCommit();
    MlsGroup.ExternalJoin j = MlsGroup.rejoinExternal(MlsKeyPackage.generate(3, ALICE), bob.groupInfo(), false);
    Inbound.StagedCommit staged = (Inbound.StagedCommit) bob.process(j.commit());
    bob.merge(staged);
    assertThat(bob.members()).hasSize(2);
    assertThat(bob.epoch()).isEqualTo(j.group().epoch()).isEqualTo(2);
  }
}
