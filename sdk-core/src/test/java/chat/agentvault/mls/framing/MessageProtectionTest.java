package chat.agentvault.mls.framing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.mls.codec.ByteMutation;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.FuzzTries;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.AuthenticatedContent;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.FramedContentAuthData;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.schedule.SecretTree;
import chat.agentvault.mls.schedule.SecretTree.KeyAndNonce;
import chat.agentvault.mls.schedule.SecretTree.Limits;
import chat.agentvault.mls.schedule.SecretTree.RatchetType;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Message protection (RFC 9420 §6) for cipher suites 1 and 3 with real Ed25519 keys and a 4-leaf
 * secret tree: round trips, then every way a message can be bad, each of which must be a {@link
 * MessageRejectedException} with the right reason and must leave the receiver able to process the
 * genuine message afterwards (§6.3: the ratchet advances only for authenticated messages).
 */
@AddLifecycleHook(FuzzTries.class)
class MessageProtectionTest {
  private static final int LEAVES = 4;
  private static final int BLANK_LEAF = 3;
  private static final int ALICE = 1;
  private static final int BOB = 2;

  /** A group at one epoch: context, epoch secrets and members' signature keys (leaf 3 blank). */
  static final class Group {
    final CipherSuite cs;
    final GroupContext ctx;
    final byte[] encryptionSecret;
    final byte[] senderDataSecret;
    final byte[] membershipKey;
    final byte[][] sigPriv = new byte[LEAVES][];
    final byte[][] sigPub = new byte[LEAVES][];
    final Limits limits;

    Group(int suite, Limits limits) {
      this.cs = CipherSuites.forId(suite);
      this.limits = limits;
      int nh = cs.hashLength();
      ctx =
          new GroupContext(
              Codes.MLS10,
              suite,
              Bytes.wrap(Csprng.randomBytes(16)),
              42,
              Bytes.wrap(Csprng.randomBytes(nh)),
              Bytes.wrap(Csprng.randomBytes(nh)),
              List.of());
      encryptionSecret = Csprng.randomBytes(nh);
      senderDataSecret = Csprng.randomBytes(nh);
      membershipKey = Csprng.randomBytes(nh);
      for (int leaf = 0; leaf < LEAVES; leaf++) {
        try (Ed25519PrivateKey k = Ed25519PrivateKey.generate();
            SecretBytes seed = k.seed()) {
          sigPriv[leaf] = seed.copyOfSecret();
          sigPub[leaf] = k.publicKey().toByteArray();
        }
      }
    }

    SecretTree newTree() {
      return new SecretTree(cs, encryptionSecret, LEAVES, limits);
    }

    /** The receiver's view of the leaves: leaf 3 is blank. */
    byte[] key(int leaf) {
      return leaf >= 0 && leaf < LEAVES && leaf != BLANK_LEAF ? sigPub[leaf] : null;
    }

    FramedContent application(int leaf, String text) {
      return new FramedContent(
          ctx.groupId(), ctx.epoch(), Sender.member(leaf), Bytes.wrap("aad:".getBytes(StandardCharsets.UTF_8)),
          Codes.CONTENT_APPLICATION, Bytes.wrap(text.getBytes(StandardCharsets.UTF_8)), null, null);
    }

    FramedContent proposal(int leaf) {
      return new FramedContent(
          ctx.groupId(), ctx.epoch(), Sender.member(leaf), Bytes.EMPTY, Codes.CONTENT_PROPOSAL, null,
          new Proposal.Remove(BOB), null);
    }

    FramedContent commit(int leaf) {
      Commit c = new Commit(List.of(Commit.ProposalOrRef.of(new Proposal.Remove(BOB))), null);
      return new FramedContent(
          ctx.groupId(), ctx.epoch(), Sender.member(leaf), Bytes.of((byte) 7), Codes.CONTENT_COMMIT, null,
          null, c);
    }

    Bytes confirmationTagFor(FramedContent c) {
      return c.contentType() == Codes.CONTENT_COMMIT ? Bytes.wrap(cs.mac(membershipKey, new byte[] {1})) : null;
    }

    PrivateMessage sendPrivate(SecretTree senderTree, FramedContent c, int padding) {
      return MessageProtection.protectPrivate(
          cs, ctx, c, sigPriv[c.sender().index()], confirmationTagFor(c), senderTree, senderDataSecret, padding);
    }

    PublicMessage sendPublic(FramedContent c) {
      return MessageProtection.protectPublic(
          cs, ctx, c, sigPriv[c.sender().index()], membershipKey, confirmationTagFor(c));
    }

    AuthenticatedContent receivePrivate(SecretTree tree, PrivateMessage m) {
      return receivePrivate(tree, m, ctx, this::key);
    }

    AuthenticatedContent receivePrivate(
        SecretTree tree, PrivateMessage m, GroupContext context, IntFunction<byte[]> keys) {
      return MessageProtection.unprotectPrivate(cs, context, m, tree, senderDataSecret, keys);
    }

    AuthenticatedContent receivePublic(PublicMessage m) {
      return MessageProtection.unprotectPublic(
          cs, ctx, m, key(m.content().sender().index()), membershipKey);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  private static void assertRejected(Reason reason, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            MessageRejectedException.class, e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason));
  }

  /** Through the wire: MLSMessage encoding, then parsing. */
  private static PrivateMessage wire(PrivateMessage m) {
    return (PrivateMessage) MlsMessage.parse(new MlsMessage(m).toByteArray()).body();
  }

  private static PublicMessage wire(PublicMessage m) {
    return (PublicMessage) MlsMessage.parse(new MlsMessage(m).toByteArray()).body();
  }

  private static Bytes flip(Bytes b, int bit) {
    byte[] a = b.toByteArray();
    a[bit / 8] ^= (byte) (1 << (bit % 8));
    return Bytes.wrap(a);
  }

  private static PrivateMessage with(
      PrivateMessage m, Bytes groupId, long epoch, int type, Bytes aad, Bytes esd, Bytes ct) {
    return new PrivateMessage(groupId, epoch, type, aad, esd, ct);
  }

  /** PrivateMessageContent (§6.3.1) with the given padding bytes, which need not be zero. */
  private static byte[] plaintext(FramedContent c, FramedContentAuthData auth, byte[] padding) {
    TlsWriter w = new TlsWriter();
    switch (c.contentType()) {
      case Codes.CONTENT_APPLICATION -> w.opaque(c.applicationData());
      case Codes.CONTENT_PROPOSAL -> c.proposal().encode(w);
      default -> c.commit().encode(w);
    }
    auth.encode(w, c.contentType());
    w.raw(padding);
    return w.toByteArray();
  }

  /**
   * A PrivateMessage built by hand from the same primitives as {@link MessageProtection}: the
   * content key of the next generation of {@code keyLeaf} in {@code keySource}, and sender data
   * {@code (keyLeaf, generation, guard)} passed through {@code editSenderData} before encryption.
   */
  private static PrivateMessage craft(
      Group g,
      SecretTree keySource,
      int keyLeaf,
      int contentType,
      Bytes aad,
      byte[] plaintext,
      UnaryOperator<byte[]> editSenderData)
      throws GeneralSecurityException {
    CipherSuite cs = g.cs;
    byte[] guard = Csprng.randomBytes(4);
    RatchetType type = contentType == Codes.CONTENT_APPLICATION ? RatchetType.APPLICATION : RatchetType.HANDSHAKE;
    byte[] ct;
    int generation;
    try (KeyAndNonce kn = keySource.nextForSending(keyLeaf, type)) {
      generation = kn.generation();
      byte[] nonce = kn.nonce().clone();
      for (int i = 0; i < 4; i++) {
        nonce[i] ^= guard[i];
      }
      byte[] contentAad =
          new TlsWriter().opaque(g.ctx.groupId()).u64(g.ctx.epoch()).u8(contentType).opaque(aad).toByteArray();
      ct = cs.aead(kn.key()).seal(nonce, contentAad, plaintext);
    }
    byte[] senderData =
        editSenderData.apply(new TlsWriter().u32(keyLeaf).u32(Integer.toUnsignedLong(generation)).raw(guard).toByteArray());
    byte[] esd;
    try (KeyAndNonce sd = SecretTree.senderDataKeyAndNonce(cs, g.senderDataSecret, ct)) {
      byte[] sdAad = new TlsWriter().opaque(g.ctx.groupId()).u64(g.ctx.epoch()).u8(contentType).toByteArray();
      InsecureNonceAead aead = cs.aead(sd.key());
      esd = aead.seal(sd.nonce(), sdAad, senderData);
    }
    return new PrivateMessage(g.ctx.groupId(), g.ctx.epoch(), contentType, aad, Bytes.wrap(esd), Bytes.wrap(ct));
  }

  private static PrivateMessage craftWithPadding(Group g, SecretTree keySource, FramedContent c, byte[] padding)
      throws GeneralSecurityException {
    FramedContentAuthData auth =
        MessageProtection.sign(
            g.cs, Codes.WIRE_PRIVATE_MESSAGE, c, g.ctx, g.sigPriv[c.sender().index()], g.confirmationTagFor(c));
    return craft(
        g, keySource, c.sender().index(), c.contentType(), c.authenticatedData(), plaintext(c, auth, padding),
        UnaryOperator.identity());
  }

  // ---------------------------------------------------------------------------------------------
  // Round trips.

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void privateMessagesRoundTripForEveryContentType(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      for (int padding : new int[] {0, 1, 255, 4096}) {
        for (FramedContent c : List.of(g.application(ALICE, "hi " + padding), g.proposal(ALICE), g.commit(ALICE))) {
          PrivateMessage m = g.sendPrivate(alice, c, padding);
          AuthenticatedContent got = g.receivePrivate(bob, wire(m));
          assertThat(got.wireFormat()).isEqualTo(Codes.WIRE_PRIVATE_MESSAGE);
          assertThat(got.content()).isEqualTo(c);
          assertThat(got.auth().confirmationTag()).isEqualTo(g.confirmationTagFor(c));
          MessageProtection.verify(g.cs, got, g.ctx, g.sigPub[ALICE]);
        }
      }
      // Members other than the sender use the same tree: Bob to Alice too.
      FramedContent back = g.application(BOB, "reply");
      assertThat(g.receivePrivate(alice, wire(g.sendPrivate(bob, back, 0))).content()).isEqualTo(back);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void publicMessagesRoundTripForProposalAndCommit(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    for (FramedContent c : List.of(g.proposal(ALICE), g.commit(BOB))) {
      PublicMessage m = g.sendPublic(c);
      AuthenticatedContent got = g.receivePublic(wire(m));
      assertThat(got.wireFormat()).isEqualTo(Codes.WIRE_PUBLIC_MESSAGE);
      assertThat(got.content()).isEqualTo(c);
      assertThat(got.auth()).isEqualTo(m.auth());
      // Public messages carry no ratchet state: the same one verifies again.
      assertThat(g.receivePublic(wire(m)).content()).isEqualTo(c);
    }
    assertThatThrownBy(() -> g.sendPublic(g.application(ALICE, "no")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void applicationDataInAPublicMessageIsMalformed(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    FramedContent app = g.application(ALICE, "in the clear");
    FramedContentAuthData auth =
        MessageProtection.sign(g.cs, Codes.WIRE_PUBLIC_MESSAGE, app, g.ctx, g.sigPriv[ALICE], null);
    byte[] tbm = new TlsWriter().raw(MessageProtection.framedContentTbs(Codes.WIRE_PUBLIC_MESSAGE, app, g.ctx))
        .toByteArray();
    TlsWriter w = new TlsWriter().raw(tbm);
    auth.encode(w, app.contentType());
    PublicMessage m = new PublicMessage(app, auth, Bytes.wrap(g.cs.mac(g.membershipKey, w.toByteArray())));
    assertRejected(Reason.MALFORMED, () -> g.receivePublic(wire(m)));
  }

  // ---------------------------------------------------------------------------------------------
  // PrivateMessage failures: reason, and no state change.

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void everyFlippedBitIsRejectedAndChangesNothing(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      for (FramedContent c : List.of(g.application(ALICE, "flip me"), g.commit(ALICE))) {
        PrivateMessage m = g.sendPrivate(alice, c, 3);
        int flips = 0;
        for (int bit = 0; bit < m.encryptedSenderData().length() * 8; bit++, flips++) {
          PrivateMessage t = with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(),
              flip(m.encryptedSenderData(), bit), m.ciphertext());
          assertRejected(Reason.DECRYPT_FAILED, () -> g.receivePrivate(bob, wire(t)));
        }
        for (int bit = 0; bit < m.ciphertext().length() * 8; bit++, flips++) {
          PrivateMessage t = with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(),
              m.encryptedSenderData(), flip(m.ciphertext(), bit));
          assertRejected(Reason.DECRYPT_FAILED, () -> g.receivePrivate(bob, wire(t)));
        }
        for (int bit = 0; bit < m.authenticatedData().length() * 8; bit++, flips++) {
          PrivateMessage t = with(m, m.groupId(), m.epoch(), m.contentType(), flip(m.authenticatedData(), bit),
              m.encryptedSenderData(), m.ciphertext());
          assertRejected(Reason.DECRYPT_FAILED, () -> g.receivePrivate(bob, wire(t)));
        }
        assertThat(flips).isGreaterThan(500);
        // Lengths changed rather than bits: a byte more or less anywhere.
        for (PrivateMessage t : List.of(
            with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData().concat(Bytes.of((byte) 0)),
                m.encryptedSenderData(), m.ciphertext()),
            with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(), Bytes.EMPTY, m.ciphertext()),
            with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(),
                m.encryptedSenderData().concat(Bytes.of((byte) 0)), m.ciphertext()),
            with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(), m.encryptedSenderData(),
                Bytes.of(m.ciphertext().unsafeArray(), 0, m.ciphertext().length() - 1)),
            with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(), m.encryptedSenderData(),
                Bytes.of(m.ciphertext().unsafeArray(), 0, 15)),
            with(m, m.groupId(), m.epoch(), m.contentType(), m.authenticatedData(), m.encryptedSenderData(),
                Bytes.EMPTY))) {
          assertRejected(Reason.DECRYPT_FAILED, () -> g.receivePrivate(bob, wire(t)));
        }
        // Another content type: the sender data AAD no longer matches.
        for (int type = Codes.CONTENT_APPLICATION; type <= Codes.CONTENT_COMMIT; type++) {
          if (type != m.contentType()) {
            PrivateMessage t = with(m, m.groupId(), m.epoch(), type, m.authenticatedData(),
                m.encryptedSenderData(), m.ciphertext());
            assertRejected(Reason.DECRYPT_FAILED, () -> g.receivePrivate(bob, wire(t)));
          }
        }
        // Nothing above moved Bob's ratchet: the genuine message decrypts.
        assertThat(g.receivePrivate(bob, wire(m)).content()).isEqualTo(c);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void wrongSignatureKeyIsBadSignatureAndChangesNothing(int suite) throws GeneralSecurityException {
    Group g = new Group(suite, Limits.DEFAULT);
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      FramedContent c = g.application(ALICE, "signed by alice");
      PrivateMessage m = g.sendPrivate(alice, c, 0);
      // The receiver holds another key for leaf 1 (e.g. after a forged Update).
      assertRejected(
          Reason.BAD_SIGNATURE, () -> g.receivePrivate(bob, wire(m), g.ctx, leaf -> g.sigPub[BOB]));
      // A member who knows the epoch's keys (Bob) encrypts as Alice but can only sign as Bob.
      try (SecretTree forger = g.newTree()) {
        FramedContentAuthData bobSigned =
            MessageProtection.sign(g.cs, Codes.WIRE_PRIVATE_MESSAGE, c, g.ctx, g.sigPriv[BOB], null);
        PrivateMessage forged =
            craft(g, forger, ALICE, c.contentType(), c.authenticatedData(), plaintext(c, bobSigned, new byte[0]),
                UnaryOperator.identity());
        assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePrivate(bob, wire(forged)));
        // Signature bytes flipped inside a correctly encrypted message.
        FramedContentAuthData good =
            MessageProtection.sign(g.cs, Codes.WIRE_PRIVATE_MESSAGE, c, g.ctx, g.sigPriv[ALICE], null);
        FramedContentAuthData bad = new FramedContentAuthData(flip(good.signature(), 9), null);
        try (SecretTree forger2 = g.newTree()) {
          PrivateMessage corrupted =
              craft(g, forger2, ALICE, c.contentType(), c.authenticatedData(), plaintext(c, bad, new byte[0]),
                  UnaryOperator.identity());
          assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePrivate(bob, wire(corrupted)));
        }
      }
      assertThat(g.receivePrivate(bob, wire(m)).content()).isEqualTo(c);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void wrongEpochOrGroupIsWrongEpochAndChangesNothing(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    GroupContext c = g.ctx;
    GroupContext nextEpoch = new GroupContext(c.version(), c.cipherSuite(), c.groupId(), c.epoch() + 1,
        c.treeHash(), c.confirmedTranscriptHash(), c.extensions());
    GroupContext otherGroup = new GroupContext(c.version(), c.cipherSuite(), flip(c.groupId(), 0), c.epoch(),
        c.treeHash(), c.confirmedTranscriptHash(), c.extensions());
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      FramedContent content = g.application(ALICE, "epoch 42");
      PrivateMessage m = g.sendPrivate(alice, content, 0);
      for (GroupContext wrong : List.of(nextEpoch, otherGroup)) {
        assertRejected(Reason.WRONG_EPOCH, () -> g.receivePrivate(bob, wire(m), wrong, g::key));
      }
      // The message claims another epoch or group (fields rewritten on the wire).
      assertRejected(Reason.WRONG_EPOCH, () -> g.receivePrivate(bob, wire(with(m, m.groupId(), m.epoch() - 1,
          m.contentType(), m.authenticatedData(), m.encryptedSenderData(), m.ciphertext()))));
      assertRejected(Reason.WRONG_EPOCH, () -> g.receivePrivate(bob, wire(with(m, Bytes.EMPTY, m.epoch(),
          m.contentType(), m.authenticatedData(), m.encryptedSenderData(), m.ciphertext()))));
      assertThat(g.receivePrivate(bob, wire(m)).content()).isEqualTo(content);

      PublicMessage p = g.sendPublic(g.proposal(ALICE));
      for (GroupContext wrong : List.of(nextEpoch, otherGroup)) {
        assertRejected(Reason.WRONG_EPOCH,
            () -> MessageProtection.unprotectPublic(g.cs, wrong, wire(p), g.sigPub[ALICE], g.membershipKey));
      }
      assertThat(g.receivePublic(wire(p)).content()).isEqualTo(p.content());
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void replayIsDuplicate(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      PrivateMessage first = g.sendPrivate(alice, g.application(ALICE, "once"), 0);
      PrivateMessage commit = g.sendPrivate(alice, g.commit(ALICE), 0);
      g.receivePrivate(bob, wire(first));
      g.receivePrivate(bob, wire(commit));
      assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(first)));
      assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(commit)));
      PrivateMessage second = g.sendPrivate(alice, g.application(ALICE, "twice"), 0);
      g.receivePrivate(bob, wire(second));
      assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(first)));
      assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(second)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void blankSenderLeafIsMalformedAndChangesNothing(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    try (SecretTree ghost = g.newTree();
        SecretTree bob = g.newTree()) {
      FramedContent c = g.application(BLANK_LEAF, "from an empty seat");
      PrivateMessage m = g.sendPrivate(ghost, c, 0);
      assertRejected(Reason.MALFORMED, () -> g.receivePrivate(bob, wire(m)));
      // Had the leaf been filled, the same message would decrypt: the rejection consumed nothing.
      assertThat(g.receivePrivate(bob, wire(m), g.ctx, leaf -> g.sigPub[leaf]).content()).isEqualTo(c);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void senderDataThatIsOutsideTheTreeOrMisSizedIsMalformed(int suite) throws GeneralSecurityException {
    Group g = new Group(suite, Limits.DEFAULT);
    FramedContent c = g.application(ALICE, "sender data games");
    FramedContentAuthData auth =
        MessageProtection.sign(g.cs, Codes.WIRE_PRIVATE_MESSAGE, c, g.ctx, g.sigPriv[ALICE], null);
    byte[] pt = plaintext(c, auth, new byte[0]);
    List<UnaryOperator<byte[]>> edits = new ArrayList<>();
    for (long leaf : new long[] {LEAVES, 5, 0x7fffffffL, 0x80000000L, 0xffffffffL}) {
      edits.add(sd -> {
        byte[] out = sd.clone();
        byte[] l = new TlsWriter().u32(leaf).toByteArray();
        System.arraycopy(l, 0, out, 0, 4);
        return out;
      });
    }
    edits.add(sd -> Arrays.copyOf(sd, 11));
    edits.add(sd -> Arrays.copyOf(sd, 13));
    edits.add(sd -> new byte[0]);
    try (SecretTree bob = g.newTree()) {
      for (UnaryOperator<byte[]> edit : edits) {
        try (SecretTree alice = g.newTree()) {
          PrivateMessage m = craft(g, alice, ALICE, c.contentType(), c.authenticatedData(), pt, edit);
          assertRejected(Reason.MALFORMED, () -> g.receivePrivate(bob, wire(m)));
        }
      }
      // Sender data naming another (valid) leaf: that leaf's key does not open the content.
      try (SecretTree alice = g.newTree()) {
        PrivateMessage m = craft(g, alice, ALICE, c.contentType(), c.authenticatedData(), pt, sd -> {
          byte[] out = sd.clone();
          out[3] = BOB;
          return out;
        });
        assertRejected(Reason.DECRYPT_FAILED, () -> g.receivePrivate(bob, wire(m)));
      }
      // Identity edit with the same primitives: accepted, which shows the crafting is faithful.
      try (SecretTree alice = g.newTree()) {
        PrivateMessage m = craft(g, alice, ALICE, c.contentType(), c.authenticatedData(), pt, UnaryOperator.identity());
        assertThat(g.receivePrivate(bob, wire(m)).content()).isEqualTo(c);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void nonZeroPaddingIsMalformedAndChangesNothing(int suite) throws GeneralSecurityException {
    Group g = new Group(suite, Limits.DEFAULT);
    for (FramedContent c : List.of(g.application(ALICE, "padded"), g.proposal(ALICE), g.commit(ALICE))) {
      try (SecretTree bob = g.newTree();
          SecretTree alice = g.newTree()) {
        for (byte[] padding : List.of(new byte[] {1}, new byte[] {0, 0, 0, (byte) 0x80}, filled(300, (byte) 0xff),
            withLastByte(1000, (byte) 1))) {
          try (SecretTree forger = g.newTree()) {
            PrivateMessage bad = craftWithPadding(g, forger, c, padding);
            assertRejected(Reason.MALFORMED, () -> g.receivePrivate(bob, wire(bad)));
          }
        }
        // Zero padding through the same hand-built path is accepted...
        try (SecretTree forger = g.newTree()) {
          PrivateMessage ok = craftWithPadding(g, forger, c, new byte[64]);
          assertThat(g.receivePrivate(bob, wire(ok)).content()).isEqualTo(c);
        }
        // ...and the rejected ones consumed nothing before it: the next genuine one is generation 1.
        g.sendPrivate(alice, c, 0); // generation 0, already received above
        PrivateMessage next = g.sendPrivate(alice, c, 0);
        assertThat(g.receivePrivate(bob, wire(next)).content()).isEqualTo(c);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void undecodablePlaintextIsMalformedAndChangesNothing(int suite) throws GeneralSecurityException {
    Group g = new Group(suite, Limits.DEFAULT);
    try (SecretTree bob = g.newTree()) {
      for (int type = Codes.CONTENT_APPLICATION; type <= Codes.CONTENT_COMMIT; type++) {
        for (byte[] pt : List.of(new byte[0], new byte[] {(byte) 0xc0}, new byte[] {(byte) 0xbf, (byte) 0xff,
            (byte) 0xff, (byte) 0xff, 0}, new byte[] {0x05, 1, 2})) {
          try (SecretTree forger = g.newTree()) {
            PrivateMessage bad = craft(g, forger, ALICE, type, Bytes.EMPTY, pt, UnaryOperator.identity());
            assertRejected(Reason.MALFORMED, () -> g.receivePrivate(bob, wire(bad)));
          }
        }
      }
      try (SecretTree alice = g.newTree()) {
        FramedContent c = g.application(ALICE, "still fine");
        assertThat(g.receivePrivate(bob, wire(g.sendPrivate(alice, c, 0))).content()).isEqualTo(c);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void generationBeyondMaxForwardDistanceIsTooFarAheadAndChangesNothing(int suite) {
    Group g = new Group(suite, new Limits(4, 10));
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      List<PrivateMessage> sent = new ArrayList<>();
      for (int gen = 0; gen <= 11; gen++) {
        sent.add(g.sendPrivate(alice, g.application(ALICE, "gen " + gen), 0));
      }
      assertRejected(Reason.TOO_FAR_AHEAD, () -> g.receivePrivate(bob, wire(sent.get(11))));
      assertThat(g.receivePrivate(bob, wire(sent.get(0))).content().applicationData().unsafeArray())
          .asString(StandardCharsets.UTF_8).isEqualTo("gen 0");
      // Generation 11 is now 10 ahead of the ratchet: allowed.
      assertThat(g.receivePrivate(bob, wire(sent.get(11))).content()).isEqualTo(g.application(ALICE, "gen 11"));
      // 1..10 were skipped; the window keeps only the last 4 of them.
      for (int gen = 1; gen <= 6; gen++) {
        int x = gen;
        assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(sent.get(x))));
      }
      for (int gen = 10; gen >= 7; gen--) {
        assertThat(g.receivePrivate(bob, wire(sent.get(gen))).content()).isEqualTo(g.application(ALICE, "gen " + gen));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void outOfOrderWithinTheWindowWorksBeyondItIsDuplicate(int suite) {
    Group g = new Group(suite, new Limits(4, 10));
    try (SecretTree alice = g.newTree();
        SecretTree bob = g.newTree()) {
      List<PrivateMessage> app = new ArrayList<>();
      for (int gen = 0; gen <= 5; gen++) {
        app.add(g.sendPrivate(alice, g.application(ALICE, "app " + gen), 0));
      }
      PrivateMessage proposal = g.sendPrivate(alice, g.proposal(ALICE), 0);
      // Handshake and application ratchets are independent.
      assertThat(g.receivePrivate(bob, wire(proposal)).content()).isEqualTo(g.proposal(ALICE));
      g.receivePrivate(bob, wire(app.get(5)));
      for (int gen = 4; gen >= 1; gen--) {
        assertThat(g.receivePrivate(bob, wire(app.get(gen))).content()).isEqualTo(g.application(ALICE, "app " + gen));
      }
      // Generation 0 was the fifth skipped key with a window of 4: dropped.
      assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(app.get(0))));
      for (PrivateMessage m : app.subList(1, 6)) {
        assertRejected(Reason.DUPLICATE, () -> g.receivePrivate(bob, wire(m)));
      }
      PrivateMessage later = g.sendPrivate(alice, g.application(ALICE, "app 6"), 0);
      assertThat(g.receivePrivate(bob, wire(later)).content()).isEqualTo(g.application(ALICE, "app 6"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // PublicMessage failures.

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void tamperedPublicMessagesAreBadSignature(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    for (FramedContent c : List.of(g.proposal(ALICE), g.commit(ALICE))) {
      PublicMessage m = g.sendPublic(c);
      for (int bit = 0; bit < m.membershipTag().length() * 8; bit++) {
        PublicMessage t = new PublicMessage(m.content(), m.auth(), flip(m.membershipTag(), bit));
        assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePublic(wire(t)));
      }
      for (int bit = 0; bit < m.auth().signature().length() * 8; bit += 7) {
        PublicMessage t = new PublicMessage(
            m.content(), new FramedContentAuthData(flip(m.auth().signature(), bit), m.auth().confirmationTag()),
            m.membershipTag());
        assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePublic(wire(t)));
      }
      PublicMessage otherAad = new PublicMessage(
          new FramedContent(c.groupId(), c.epoch(), c.sender(), Bytes.of((byte) 1, (byte) 2), c.contentType(),
              c.applicationData(), c.proposal(), c.commit()),
          m.auth(), m.membershipTag());
      assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePublic(wire(otherAad)));
      // Wrong membership key, wrong signature key.
      assertRejected(Reason.BAD_SIGNATURE, () -> MessageProtection.unprotectPublic(
          g.cs, g.ctx, wire(m), g.sigPub[ALICE], Csprng.randomBytes(g.cs.hashLength())));
      assertRejected(Reason.BAD_SIGNATURE, () -> MessageProtection.unprotectPublic(
          g.cs, g.ctx, wire(m), g.sigPub[BOB], g.membershipKey));
      // An insider with the membership key re-tags a message whose signature it cannot make.
      FramedContentAuthData forgedAuth =
          new FramedContentAuthData(flip(m.auth().signature(), 3), m.auth().confirmationTag());
      TlsWriter tbm = new TlsWriter().raw(MessageProtection.framedContentTbs(Codes.WIRE_PUBLIC_MESSAGE, c, g.ctx));
      forgedAuth.encode(tbm, c.contentType());
      PublicMessage retagged =
          new PublicMessage(c, forgedAuth, Bytes.wrap(g.cs.mac(g.membershipKey, tbm.toByteArray())));
      assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePublic(wire(retagged)));
      assertThat(g.receivePublic(wire(m)).content()).isEqualTo(c);
    }
  }

  /** A PublicMessage from a non-member sender, signed with {@code priv}. */
  private static PublicMessage publicFrom(Group g, Sender sender, int contentType, Proposal proposal, byte[] priv) {
    FramedContent c = new FramedContent(
        g.ctx.groupId(), g.ctx.epoch(), sender, Bytes.EMPTY, contentType, null,
        contentType == Codes.CONTENT_PROPOSAL ? proposal : null,
        contentType == Codes.CONTENT_COMMIT ? new Commit(List.of(), null) : null);
    return MessageProtection.protectPublic(g.cs, g.ctx, c, priv, g.membershipKey, g.confirmationTagFor(c));
  }

  private static Proposal.Add someAdd(Group g) {
    chat.agentvault.mls.message.LeafNode leaf = new chat.agentvault.mls.message.LeafNode(
        Bytes.wrap(new byte[32]), Bytes.wrap(g.sigPub[0]),
        chat.agentvault.mls.message.Credential.basic(Bytes.of((byte) 'n')),
        new chat.agentvault.mls.message.Capabilities(List.of(1), List.of(g.cs.id()), List.of(), List.of(), List.of(1)),
        Codes.LEAF_SOURCE_KEY_PACKAGE, new chat.agentvault.mls.message.Lifetime(0, -1), null, List.of(),
        Bytes.wrap(new byte[64]));
    return new Proposal.Add(new chat.agentvault.mls.message.KeyPackage(
        Codes.MLS10, g.cs.id(), Bytes.wrap(new byte[32]), leaf, List.of(), Bytes.wrap(new byte[64])));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void publicMessageFromABlankOrUnknownSenderIsMalformed(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    // A member sender at a blank leaf (the caller finds no key there), with a valid membership tag.
    PublicMessage blank = g.sendPublic(g.proposal(BLANK_LEAF));
    assertRejected(Reason.MALFORMED, () -> g.receivePublic(wire(blank)));
    // An external sender index the group does not have.
    PublicMessage external =
        publicFrom(g, new Sender(Codes.SENDER_EXTERNAL, 9), Codes.CONTENT_PROPOSAL, new Proposal.Remove(BOB), g.sigPriv[0]);
    assertRejected(Reason.MALFORMED, () -> MessageProtection.unprotectPublic(
        g.cs, g.ctx, wire(external), null, g.membershipKey));
  }

  /** §6.1: what each non-member sender type may send, and the signature over it. */
  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void senderTypeMustMatchContent(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    byte[] extPriv = g.sigPriv[0];
    byte[] extPub = g.sigPub[0];
    Sender external = new Sender(Codes.SENDER_EXTERNAL, 0);
    Sender newMemberProposal = new Sender(Codes.SENDER_NEW_MEMBER_PROPOSAL, 0);
    Sender newMemberCommit = new Sender(Codes.SENDER_NEW_MEMBER_COMMIT, 0);
    Proposal remove = new Proposal.Remove(BOB);
    Proposal add = someAdd(g);
    // Allowed.
    for (PublicMessage ok : List.of(
        publicFrom(g, external, Codes.CONTENT_PROPOSAL, remove, extPriv),
        publicFrom(g, external, Codes.CONTENT_PROPOSAL, add, extPriv),
        publicFrom(g, newMemberProposal, Codes.CONTENT_PROPOSAL, add, extPriv),
        publicFrom(g, newMemberCommit, Codes.CONTENT_COMMIT, null, extPriv))) {
      assertThat(MessageProtection.unprotectPublic(g.cs, g.ctx, wire(ok), extPub, g.membershipKey).content())
          .isEqualTo(ok.content());
      // And signatures still matter for non-members (no membership tag protects them).
      assertRejected(Reason.BAD_SIGNATURE,
          () -> MessageProtection.unprotectPublic(g.cs, g.ctx, wire(ok), g.sigPub[BOB], g.membershipKey));
    }
    // Not allowed, even correctly signed.
    Proposal update = new Proposal.Update(someAdd(g).keyPackage().leafNode());
    Proposal externalInit = new Proposal.ExternalInit(Bytes.wrap(new byte[32]));
    for (PublicMessage bad : List.of(
        publicFrom(g, external, Codes.CONTENT_COMMIT, null, extPriv),
        publicFrom(g, external, Codes.CONTENT_PROPOSAL, update, extPriv),
        publicFrom(g, external, Codes.CONTENT_PROPOSAL, externalInit, extPriv),
        publicFrom(g, newMemberProposal, Codes.CONTENT_PROPOSAL, remove, extPriv),
        publicFrom(g, newMemberProposal, Codes.CONTENT_COMMIT, null, extPriv),
        publicFrom(g, newMemberCommit, Codes.CONTENT_PROPOSAL, add, extPriv))) {
      assertRejected(Reason.MALFORMED,
          () -> MessageProtection.unprotectPublic(g.cs, g.ctx, wire(bad), extPub, g.membershipKey));
    }
  }

  /**
   * Characterises the contract: framing authenticates everything of a new_member_commit except its
   * confirmation tag, which only commit processing can check (§12.4.2). A caller that skipped that
   * check would accept any tag.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void confirmationTagOfANewMemberCommitIsLeftToCommitProcessing(int suite) {
    Group g = new Group(suite, Limits.DEFAULT);
    PublicMessage m = publicFrom(g, new Sender(Codes.SENDER_NEW_MEMBER_COMMIT, 0), Codes.CONTENT_COMMIT, null,
        g.sigPriv[0]);
    PublicMessage otherTag = new PublicMessage(m.content(),
        new FramedContentAuthData(m.auth().signature(), flip(m.auth().confirmationTag(), 0)), null);
    AuthenticatedContent ac =
        MessageProtection.unprotectPublic(g.cs, g.ctx, wire(otherTag), g.sigPub[0], g.membershipKey);
    assertThat(ac.auth().confirmationTag()).isNotEqualTo(m.auth().confirmationTag());
    // For a member's commit the membership tag covers it (§6.2).
    PublicMessage member = g.sendPublic(g.commit(ALICE));
    PublicMessage memberOtherTag = new PublicMessage(member.content(),
        new FramedContentAuthData(member.auth().signature(), flip(member.auth().confirmationTag(), 0)),
        member.membershipTag());
    assertRejected(Reason.BAD_SIGNATURE, () -> g.receivePublic(wire(memberOtherTag)));
  }

  // ---------------------------------------------------------------------------------------------
  // Property: mutated wire encodings.

  /** One group per suite with one genuine message of each kind, reused across tries. */
  private static final Map<Integer, Fixture> FIXTURES = new ConcurrentHashMap<>();

  record Fixture(Group group, List<byte[]> privates, List<FramedContent> privateContents, List<byte[]> publics) {
    static Fixture of(int suite) {
      Group g = new Group(suite, new Limits(8, 50));
      List<byte[]> privates = new ArrayList<>();
      List<FramedContent> contents =
          List.of(g.application(ALICE, "the genuine one"), g.proposal(ALICE), g.commit(ALICE));
      try (SecretTree alice = g.newTree()) {
        for (FramedContent c : contents) {
          privates.add(new MlsMessage(g.sendPrivate(alice, c, 5)).toByteArray());
        }
      }
      List<byte[]> publics = new ArrayList<>();
      for (FramedContent c : List.of(g.proposal(BOB), g.commit(BOB))) {
        publics.add(new MlsMessage(g.sendPublic(c)).toByteArray());
      }
      // Non-member senders: no membership tag, so mutations reach the signature check directly.
      publics.add(new MlsMessage(publicFrom(g, new Sender(Codes.SENDER_EXTERNAL, 0), Codes.CONTENT_PROPOSAL,
          new Proposal.Remove(BOB), g.sigPriv[0])).toByteArray());
      publics.add(new MlsMessage(publicFrom(g, new Sender(Codes.SENDER_NEW_MEMBER_COMMIT, 0), Codes.CONTENT_COMMIT,
          null, g.sigPriv[0])).toByteArray());
      return new Fixture(g, privates, contents, publics);
    }
  }

  @Provide
  Arbitrary<Integer> suites() {
    return Arbitraries.of(1, 3);
  }

  @Provide
  Arbitrary<List<ByteMutation>> mutations() {
    return ByteMutation.lists(3);
  }

  /** Receives whatever the bytes turn out to be, as a member of the group would. */
  private static AuthenticatedContent receive(Group g, SecretTree tree, byte[] bytes) {
    MlsMessage msg = MlsMessage.parse(bytes);
    if (msg.body() instanceof PrivateMessage p) {
      return g.receivePrivate(tree, p);
    } else if (msg.body() instanceof PublicMessage p) {
      Sender sender = p.content().sender();
      // Members by leaf; the one external sender (index 0) and any new member sign with key 0.
      byte[] key = sender.isMember() ? g.key(sender.index())
          : sender.type() == Codes.SENDER_EXTERNAL && sender.index() != 0 ? null : g.sigPub[0];
      return MessageProtection.unprotectPublic(g.cs, g.ctx, p, key, g.membershipKey);
    } else {
      throw new MessageRejectedException(Reason.MALFORMED, "not a framed message");
    }
  }

  @Property(tries = 400)
  void mutatedPrivateMessagesAreRejectedAndChangeNothing(
      @ForAll("suites") int suite,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 2) int which,
      @ForAll("mutations") List<ByteMutation> mutations) {
    Fixture f = FIXTURES.computeIfAbsent(suite, Fixture::of);
    Group g = f.group();
    byte[] genuine = f.privates().get(which);
    byte[] mutated = ByteMutation.applyAll(genuine, mutations);
    if (Arrays.equals(mutated, genuine)) {
      return; // a mutation that cancelled out
    }
    try (SecretTree bob = g.newTree()) {
      try {
        receive(g, bob, mutated);
        fail("a modified message was accepted: " + chat.agentvault.testing.Vectors.hex(mutated));
      } catch (DecodeException | MessageRejectedException expected) {
        // the only two outcomes allowed
      }
      PrivateMessage p = (PrivateMessage) MlsMessage.parse(genuine).body();
      assertThat(g.receivePrivate(bob, p).content()).isEqualTo(f.privateContents().get(which));
    }
  }

  @Property(tries = 400)
  void mutatedPublicMessagesAreRejected(
      @ForAll("suites") int suite,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 3) int which,
      @ForAll("mutations") List<ByteMutation> mutations) {
    Fixture f = FIXTURES.computeIfAbsent(suite, Fixture::of);
    Group g = f.group();
    byte[] genuine = f.publics().get(which);
    byte[] mutated = ByteMutation.applyAll(genuine, mutations);
    if (Arrays.equals(mutated, genuine)) {
      return;
    }
    try (SecretTree bob = g.newTree()) {
      AuthenticatedContent accepted = null;
      try {
        accepted = receive(g, bob, mutated);
      } catch (DecodeException | MessageRejectedException expected) {
        // the only two outcomes allowed
      }
      AuthenticatedContent real = receive(g, bob, genuine);
      if (accepted != null) {
        // The one field framing cannot check: the confirmation tag of a commit from a non-member
        // is covered by neither the signature (FramedContentTBS, §6.1) nor a membership tag (§6.2);
        // the commit processing verifies it against the new epoch's confirmation key (§8.1,
        // §12.4.2). Everything else must be exactly the genuine message.
        assertThat(real.content().sender().type())
            .as("modified message accepted: " + chat.agentvault.testing.Vectors.hex(mutated))
            .isEqualTo(Codes.SENDER_NEW_MEMBER_COMMIT);
        assertThat(accepted.content()).isEqualTo(real.content());
        assertThat(accepted.auth().signature()).isEqualTo(real.auth().signature());
        assertThat(accepted.auth().confirmationTag()).isNotEqualTo(real.auth().confirmationTag());
      }
    }
  }

  private static byte[] filled(int n, byte b) {
    byte[] a = new byte[n];
    Arrays.fill(a, b);
    return a;
  }

  private static byte[] withLastByte(int n, byte b) {
    byte[] a = new byte[n];
    a[n - 1] = b;
    return a;
  }
}
