package chat.agentvault.mls.framing;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.GroupInfo;
import chat.agentvault.mls.message.GroupSecrets;
import chat.agentvault.mls.message.HpkeCiphertext;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.mls.schedule.TranscriptHashes;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The cryptographic steps of joining from a Welcome (RFC 9420 §12.4.3.1): finding and decrypting
 * our GroupSecrets, decrypting the GroupInfo, verifying its signature and confirmation tag. The
 * group layer adds tree validation and state construction.
 */
public final class Welcomes {
  private Welcomes() {}

  /**
   * Decrypts the GroupSecrets addressed to {@code keyPackage}: EncryptWithLabel(init_key,
   * "Welcome", encrypted_group_info, group_secrets).
   *
   * @throws MessageRejectedException WRONG_EPOCH when no entry is for this KeyPackage (the Welcome
   *     is for someone else), DECRYPT_FAILED or MALFORMED otherwise
   */
  public static GroupSecrets decryptGroupSecrets(
      CipherSuite cs, Welcome welcome, KeyPackage keyPackage, byte[] initPrivateKey) {
    if (welcome.cipherSuite() != cs.id() || keyPackage.cipherSuite() != cs.id()) {
      throw new MessageRejectedException(Reason.MALFORMED, "Welcome and KeyPackage cipher suites differ");
    }
    Bytes ref = Bytes.wrap(MlsCrypto.keyPackageRef(cs, keyPackage.toByteArray()));
    HpkeCiphertext mine = null;
    for (Welcome.EncryptedGroupSecrets s : welcome.secrets()) {
      if (s.newMember().equals(ref)) {
        mine = s.encryptedGroupSecrets();
        break;
      }
    }
    if (mine == null) {
      throw new MessageRejectedException(Reason.WRONG_EPOCH, "Welcome has no entry for this KeyPackage");
    }
    byte[] plain;
    try {
      plain =
          MlsCrypto.decryptWithLabel(
              cs,
              initPrivateKey,
              "Welcome",
              welcome.encryptedGroupInfo().unsafeArray(),
              mine.kemOutput().unsafeArray(),
              mine.ciphertext().unsafeArray());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.DECRYPT_FAILED, "GroupSecrets did not decrypt", e);
    }
    try {
      return TlsReader.decodeAll(plain, GroupSecrets::decode);
    } catch (DecodeException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupSecrets malformed", e);
    } finally {
      SecretBytes.wipe(plain);
    }
  }

  /** Decrypts encrypted_group_info with welcome_key and welcome_nonce (§12.4.3.1). */
  public static GroupInfo decryptGroupInfo(CipherSuite cs, Welcome welcome, byte[] joinerSecret, byte[] pskSecret) {
    byte[] welcomeSecret = EpochSecrets.welcomeSecret(cs, joinerSecret, pskSecret);
    byte[] key = MlsCrypto.expandWithLabel(cs, welcomeSecret, "key", new byte[0], cs.aeadKeyLength());
    byte[] nonce = MlsCrypto.expandWithLabel(cs, welcomeSecret, "nonce", new byte[0], cs.aeadNonceLength());
    SecretBytes.wipe(welcomeSecret);
    byte[] plain;
    try {
      InsecureNonceAead aead = cs.aead(key);
      try {
        plain = aead.open(nonce, new byte[0], welcome.encryptedGroupInfo().unsafeArray());
      } finally {
        aead.destroy();
      }
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.DECRYPT_FAILED, "GroupInfo did not decrypt", e);
    } finally {
      SecretBytes.wipe(key);
    }
    try {
      return TlsReader.decodeAll(plain, GroupInfo::decode);
    } catch (DecodeException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo malformed", e);
    }
  }

  /** Verifies the GroupInfo signature with the signer's key: VerifyWithLabel(., "GroupInfoTBS", .). */
  public static void verifyGroupInfoSignature(CipherSuite cs, GroupInfo info, byte[] signerPublicKey) {
    try {
      MlsCrypto.verifyWithLabel(
          cs, signerPublicKey, "GroupInfoTBS", info.toBeSigned(), info.signature().unsafeArray());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "GroupInfo signature invalid", e);
    }
  }

  /** Signs a GroupInfo body: returns it with the signature filled in. */
  public static GroupInfo signGroupInfo(CipherSuite cs, GroupInfo unsigned, byte[] signerPrivateKey) {
    byte[] sig = MlsCrypto.signWithLabel(cs, signerPrivateKey, "GroupInfoTBS", unsigned.toBeSigned());
    return new GroupInfo(
        unsigned.groupContext(), unsigned.extensions(), unsigned.confirmationTag(), unsigned.signer(), Bytes.wrap(sig));
  }

  /**
   * Checks the GroupInfo's confirmation tag against the epoch derived from the joiner secret:
   * MAC(confirmation_key, confirmed_transcript_hash) (§8.1, §12.4.3.1).
   *
   * @return the epoch's secrets (caller closes them)
   */
  public static EpochSecrets verifyConfirmationTag(
      CipherSuite cs, GroupInfo info, byte[] joinerSecret, byte[] pskSecret) {
    byte[] context = TlsWriter.encode(info.groupContext(), (w, g) -> g.encode(w));
    EpochSecrets epoch = EpochSecrets.fromJoinerSecret(cs, joinerSecret, pskSecret, context);
    byte[] expected =
        TranscriptHashes.confirmationTag(
            cs, epoch.confirmationKey(), info.groupContext().confirmedTranscriptHash().unsafeArray());
    if (!chat.agentvault.crypto.ConstantTime.equals(expected, info.confirmationTag().unsafeArray())) {
      epoch.close();
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "GroupInfo confirmation tag invalid");
    }
    Arrays.fill(expected, (byte) 0);
    return epoch;
  }
}
