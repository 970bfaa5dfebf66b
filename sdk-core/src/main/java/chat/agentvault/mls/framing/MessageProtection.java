package chat.agentvault.mls.framing;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.ConstantTime;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.AuthenticatedContent;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.FramedContentAuthData;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.schedule.SecretTree;
import chat.agentvault.mls.schedule.SecretTree.KeyAndNonce;
import chat.agentvault.mls.schedule.SecretTree.RatchetType;
import java.security.GeneralSecurityException;
import java.util.function.IntFunction;

/**
 * Protection and unprotection of MLS messages (RFC 9420 §6). Stateless except for the {@link
 * SecretTree} passed in, which advances only after a PrivateMessage has been fully authenticated
 * (AEAD and signature), so a forged or corrupted message changes nothing.
 */
public final class MessageProtection {
  private static final String TBS_LABEL = "FramedContentTBS";

  private MessageProtection() {}

  /** FramedContentTBS (§6.1). */
  static byte[] framedContentTbs(int wireFormat, FramedContent content, GroupContext context) {
    TlsWriter w = new TlsWriter(256);
    w.u16(Codes.MLS10).u16(wireFormat);
    content.encode(w);
    int st = content.sender().type();
    if (st == Codes.SENDER_MEMBER || st == Codes.SENDER_NEW_MEMBER_COMMIT) {
      context.encode(w);
    }
    return w.toByteArray();
  }

  /** Signs {@code content} for {@code wireFormat}: FramedContentAuthData with the confirmation tag. */
  public static FramedContentAuthData sign(
      CipherSuite cs,
      int wireFormat,
      FramedContent content,
      GroupContext context,
      byte[] signaturePriv,
      Bytes confirmationTag) {
    byte[] sig =
        MlsCrypto.signWithLabel(
            cs, signaturePriv, TBS_LABEL, framedContentTbs(wireFormat, content, context));
    boolean commit = content.contentType() == Codes.CONTENT_COMMIT;
    if (commit != (confirmationTag != null)) {
      throw new IllegalArgumentException("a confirmation tag goes with commits, and only with them");
    }
    return new FramedContentAuthData(Bytes.wrap(sig), confirmationTag);
  }

  /** Checks the signature of authenticated content (§6.1); throws BAD_SIGNATURE. */
  public static void verify(
      CipherSuite cs, AuthenticatedContent ac, GroupContext context, byte[] signaturePub) {
    try {
      MlsCrypto.verifyWithLabel(
          cs,
          signaturePub,
          TBS_LABEL,
          framedContentTbs(ac.wireFormat(), ac.content(), context),
          ac.auth().signature().unsafeArray());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "content signature invalid", e);
    }
  }

  private static byte[] membershipTag(
      CipherSuite cs, FramedContent content, FramedContentAuthData auth, GroupContext context, byte[] membershipKey) {
    TlsWriter w = new TlsWriter(512);
    w.raw(framedContentTbs(Codes.WIRE_PUBLIC_MESSAGE, content, context));
    auth.encode(w, content.contentType());
    return cs.mac(membershipKey, w.toByteArray());
  }

  /**
   * A PublicMessage (§6.2). Application data cannot be sent this way (§6.2: application messages
   * MUST use PrivateMessage).
   */
  public static PublicMessage protectPublic(
      CipherSuite cs,
      GroupContext context,
      FramedContent content,
      byte[] signaturePriv,
      byte[] membershipKey,
      Bytes confirmationTag) {
    if (content.contentType() == Codes.CONTENT_APPLICATION) {
      throw new IllegalArgumentException("application data must be sent as a PrivateMessage");
    }
    FramedContentAuthData auth =
        sign(cs, Codes.WIRE_PUBLIC_MESSAGE, content, context, signaturePriv, confirmationTag);
    Bytes tag =
        content.sender().isMember()
            ? Bytes.wrap(membershipTag(cs, content, auth, context, membershipKey))
            : null;
    return new PublicMessage(content, auth, tag);
  }

  /**
   * Verifies a PublicMessage: group, epoch, sender type against content (§6.1), membership tag
   * (members), signature. {@code signaturePub} is the sender's key, looked up by the caller from
   * {@code msg.content().sender()}; null when there is none (a blank leaf, an unknown external
   * sender index), which rejects the message as MALFORMED. The confirmation tag of a commit is not
   * checked here: it needs the new epoch's confirmation key, so commit processing verifies it
   * (§12.4.2); for a new_member_commit nothing else covers it.
   */
  public static AuthenticatedContent unprotectPublic(
      CipherSuite cs, GroupContext context, PublicMessage msg, byte[] signaturePub, byte[] membershipKey) {
    FramedContent content = msg.content();
    checkGroupAndEpoch(context, content.groupId(), content.epoch());
    if (content.contentType() == Codes.CONTENT_APPLICATION) {
      throw new MessageRejectedException(Reason.MALFORMED, "application data in a PublicMessage");
    }
    checkSenderMaySend(content);
    if (signaturePub == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "sender has no signature key (blank leaf or unknown sender)");
    }
    if (content.sender().isMember()) {
      byte[] expected = membershipTag(cs, content, msg.auth(), context, membershipKey);
      if (!ConstantTime.equals(expected, msg.membershipTag().unsafeArray())) {
        throw new MessageRejectedException(Reason.BAD_SIGNATURE, "membership tag invalid");
      }
    }
    AuthenticatedContent ac = new AuthenticatedContent(Codes.WIRE_PUBLIC_MESSAGE, content, msg.auth());
    verify(cs, ac, context, signaturePub);
    return ac;
  }

  /**
   * §6.1: an external sender sends proposals of a type marked "External: Y" in the registry
   * (§17.4: not update, not external_init); new_member_proposal sends Add proposals;
   * new_member_commit sends commits.
   */
  private static void checkSenderMaySend(FramedContent content) {
    int type = content.contentType();
    boolean ok =
        switch (content.sender().type()) {
          case Codes.SENDER_EXTERNAL -> type == Codes.CONTENT_PROPOSAL
              && content.proposal().type() != Codes.PROPOSAL_UPDATE
              && content.proposal().type() != Codes.PROPOSAL_EXTERNAL_INIT;
          case Codes.SENDER_NEW_MEMBER_PROPOSAL -> type == Codes.CONTENT_PROPOSAL
              && content.proposal().type() == Codes.PROPOSAL_ADD;
          case Codes.SENDER_NEW_MEMBER_COMMIT -> type == Codes.CONTENT_COMMIT;
          default -> true;
        };
    if (!ok) {
      throw new MessageRejectedException(
          Reason.MALFORMED, "sender type " + content.sender().type() + " may not send this content (§6.1)");
    }
  }

  private static void checkGroupAndEpoch(GroupContext context, Bytes groupId, long epoch) {
    if (!context.groupId().equals(groupId)) {
      throw new MessageRejectedException(Reason.WRONG_EPOCH, "message for another group");
    }
    if (context.epoch() != epoch) {
      throw new MessageRejectedException(
          Reason.WRONG_EPOCH,
          "message for epoch " + Long.toUnsignedString(epoch) + ", group is at " + Long.toUnsignedString(context.epoch()));
    }
  }

  private static RatchetType ratchetFor(int contentType) {
    return contentType == Codes.CONTENT_APPLICATION ? RatchetType.APPLICATION : RatchetType.HANDSHAKE;
  }

  private static byte[] contentAad(Bytes groupId, long epoch, int contentType, Bytes authenticatedData) {
    return new TlsWriter(64).opaque(groupId).u64(epoch).u8(contentType).opaque(authenticatedData).toByteArray();
  }

  private static byte[] senderDataAad(Bytes groupId, long epoch, int contentType) {
    return new TlsWriter(48).opaque(groupId).u64(epoch).u8(contentType).toByteArray();
  }

  private static byte[] guarded(byte[] nonce, byte[] reuseGuard) {
    byte[] n = nonce.clone();
    for (int i = 0; i < 4; i++) {
      n[i] ^= reuseGuard[i];
    }
    return n;
  }

  /**
   * A PrivateMessage (§6.3) from a member sender, with {@code paddingLength} zero bytes of padding.
   * Consumes one generation of the sender's ratchet.
   */
  public static PrivateMessage protectPrivate(
      CipherSuite cs,
      GroupContext context,
      FramedContent content,
      byte[] signaturePriv,
      Bytes confirmationTag,
      SecretTree secretTree,
      byte[] senderDataSecret,
      int paddingLength) {
    if (!content.sender().isMember()) {
      throw new IllegalArgumentException("only members send PrivateMessages (§6.3.2)");
    }
    if (paddingLength < 0) {
      throw new IllegalArgumentException("padding must not be negative");
    }
    FramedContentAuthData auth =
        sign(cs, Codes.WIRE_PRIVATE_MESSAGE, content, context, signaturePriv, confirmationTag);
    TlsWriter pt = new TlsWriter(256 + paddingLength);
    encodeContentBody(pt, content);
    auth.encode(pt, content.contentType());
    pt.raw(new byte[paddingLength]);

    byte[] reuseGuard = Csprng.randomBytes(4);
    byte[] ciphertext;
    int generation;
    try (KeyAndNonce kn =
        secretTree.nextForSending(content.sender().index(), ratchetFor(content.contentType()))) {
      generation = kn.generation();
      InsecureNonceAead aead = cs.aead(kn.key());
      try {
        ciphertext =
            aead.seal(
                guarded(kn.nonce(), reuseGuard),
                contentAad(content.groupId(), content.epoch(), content.contentType(), content.authenticatedData()),
                pt.toByteArray());
      } finally {
        aead.destroy();
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AEAD failed on well-formed input", e);
    }
    byte[] senderData =
        new TlsWriter(12)
            .u32(Integer.toUnsignedLong(content.sender().index()))
            .u32(Integer.toUnsignedLong(generation))
            .raw(reuseGuard)
            .toByteArray();
    byte[] encSenderData;
    try (KeyAndNonce sd = SecretTree.senderDataKeyAndNonce(cs, senderDataSecret, ciphertext)) {
      InsecureNonceAead aead = cs.aead(sd.key());
      try {
        encSenderData =
            aead.seal(sd.nonce(), senderDataAad(content.groupId(), content.epoch(), content.contentType()), senderData);
      } finally {
        aead.destroy();
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AEAD failed on well-formed input", e);
    }
    return new PrivateMessage(
        content.groupId(),
        content.epoch(),
        content.contentType(),
        content.authenticatedData(),
        Bytes.wrap(encSenderData),
        Bytes.wrap(ciphertext));
  }

  private static void encodeContentBody(TlsWriter w, FramedContent c) {
    switch (c.contentType()) {
      case Codes.CONTENT_APPLICATION -> w.opaque(c.applicationData());
      case Codes.CONTENT_PROPOSAL -> c.proposal().encode(w);
      default -> c.commit().encode(w);
    }
  }

  /**
   * Decrypts and authenticates a PrivateMessage (§6.3). {@code signatureKeyOfLeaf} returns the
   * signature public key of a non-blank leaf, or null for a blank or absent leaf. The secret tree
   * advances only when everything verified.
   */
  public static AuthenticatedContent unprotectPrivate(
      CipherSuite cs,
      GroupContext context,
      PrivateMessage msg,
      SecretTree secretTree,
      byte[] senderDataSecret,
      IntFunction<byte[]> signatureKeyOfLeaf) {
    checkGroupAndEpoch(context, msg.groupId(), msg.epoch());
    byte[] ciphertext = msg.ciphertext().unsafeArray();
    byte[] senderData;
    try (KeyAndNonce sd = SecretTree.senderDataKeyAndNonce(cs, senderDataSecret, ciphertext)) {
      InsecureNonceAead aead = cs.aead(sd.key());
      try {
        senderData =
            aead.open(
                sd.nonce(),
                senderDataAad(msg.groupId(), msg.epoch(), msg.contentType()),
                msg.encryptedSenderData().unsafeArray());
      } finally {
        aead.destroy();
      }
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.DECRYPT_FAILED, "sender data did not decrypt", e);
    }
    int leafIndex;
    int generation;
    byte[] reuseGuard;
    try {
      TlsReader r = TlsReader.of(senderData);
      leafIndex = r.u32Bits();
      generation = r.u32Bits();
      reuseGuard = r.fixed(4).toByteArray();
      r.finish();
    } catch (DecodeException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "sender data malformed", e);
    }
    if (leafIndex < 0 || leafIndex >= secretTree.leafCount()) {
      throw new MessageRejectedException(Reason.MALFORMED, "sender leaf outside the tree");
    }
    byte[] signaturePub = signatureKeyOfLeaf.apply(leafIndex);
    if (signaturePub == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "sender leaf is blank (§6.3.2)");
    }
    RatchetType type = ratchetFor(msg.contentType());
    byte[] plaintext;
    try (KeyAndNonce kn = secretTree.peekForReceiving(leafIndex, type, generation)) {
      InsecureNonceAead aead = cs.aead(kn.key());
      try {
        plaintext =
            aead.open(
                guarded(kn.nonce(), reuseGuard),
                contentAad(msg.groupId(), msg.epoch(), msg.contentType(), msg.authenticatedData()),
                ciphertext);
      } finally {
        aead.destroy();
      }
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.DECRYPT_FAILED, "content did not decrypt", e);
    }
    FramedContent content;
    FramedContentAuthData auth;
    try {
      TlsReader r = TlsReader.of(plaintext);
      Sender sender = Sender.member(leafIndex);
      content =
          switch (msg.contentType()) {
            case Codes.CONTENT_APPLICATION -> new FramedContent(
                msg.groupId(), msg.epoch(), sender, msg.authenticatedData(), Codes.CONTENT_APPLICATION, r.opaque(), null, null);
            case Codes.CONTENT_PROPOSAL -> new FramedContent(
                msg.groupId(), msg.epoch(), sender, msg.authenticatedData(), Codes.CONTENT_PROPOSAL, null, Proposal.decode(r), null);
            default -> new FramedContent(
                msg.groupId(), msg.epoch(), sender, msg.authenticatedData(), Codes.CONTENT_COMMIT, null, null, Commit.decode(r));
          };
      auth = FramedContentAuthData.decode(r, msg.contentType());
      // §6.3.1: the padding must be all zeros, else the message is malformed.
      int acc = 0;
      while (r.hasRemaining()) {
        acc |= r.u8();
      }
      if (acc != 0) {
        throw new MessageRejectedException(Reason.MALFORMED, "non-zero padding");
      }
    } catch (DecodeException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "PrivateMessageContent malformed", e);
    }
    AuthenticatedContent ac = new AuthenticatedContent(Codes.WIRE_PRIVATE_MESSAGE, content, auth);
    verify(cs, ac, context, signaturePub);
    // Authenticated: now consume the generation (and delete its key) for real.
    secretTree.forReceiving(leafIndex, type, generation).close();
    return ac;
  }
}
