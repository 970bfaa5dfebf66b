package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.Parallel;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.PreSharedKeyId;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.schedule.PskSecret;
import chat.agentvault.mls.tree.TreeMath;
import chat.agentvault.mls.tree.TreeValidation;
import chat.agentvault.mls.tree.TreeValidation.Role;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Proposal-list validation (RFC 9420 §12.2) and application (§12.3) for a regular commit, shared by
 * the committer and every receiver. Mutates the tree, private keys and extensions of the state it is
 * given, which is always a copy.
 */
final class Proposals {
  private Proposals() {}

  /** One committed proposal with its sender; {@code leafPriv} for the own Update, else null. */
  record Resolved(Proposal proposal, Sender sender, byte[] leafPriv) {}

  /** The outcome of applying a proposal list. */
  static final class Applied {
    List<Extension> extensions;
    final List<Integer> added = new ArrayList<>();
    final List<KeyPackage> addedKeyPackages = new ArrayList<>();
    final List<Integer> removed = new ArrayList<>();
    final List<Integer> updated = new ArrayList<>();
    final List<PskSecret.Psk> psks = new ArrayList<>();
    final List<PreSharedKeyId> pskIds = new ArrayList<>();
    boolean pathRequired;
    /** The committed ReInit, if the list is one (§12.2: then it is the only proposal). */
    Proposal.ReInit reinit;
  }

  static void fail(String why) {
    throw new MessageRejectedException(Reason.MALFORMED, why);
  }

  /**
   * Validates and applies {@code list}, committed by leaf {@code committer}, to {@code s}: GCE, then
   * Updates, Removes, Adds (in order), PSKs (in order).
   */
  static Applied apply(GroupState s, List<Resolved> list, int committer) {
    return apply(s, list, committer, null);
  }

  /**
   * As {@link #apply(GroupState, List, int)}; {@code successorPsk}, when not null, is the one
   * resumption PSK of usage reinit or branch that the initial commit of a successor group
   * injects (§11.2, §11.3), with its secret from the old group. Only the creator of a successor
   * group makes that commit, at epoch 0, where it is the only member: nobody else processes it.
   */
  static Applied apply(GroupState s, List<Resolved> list, int committer, PskSecret.Psk successorPsk) {
    CipherSuite cs = s.cs;
    Applied out = new Applied();
    out.extensions = s.context.extensions();
    int gce = 0;
    Proposal.ReInit reinit = null;
    Set<Integer> touched = new HashSet<>();
    Set<PreSharedKeyId> pskSeen = new HashSet<>();
    for (Resolved r : list) {
      Proposal p = r.proposal();
      switch (p.type()) {
        case Codes.PROPOSAL_UPDATE, Codes.PROPOSAL_REMOVE, Codes.PROPOSAL_EXTERNAL_INIT,
            Codes.PROPOSAL_GROUP_CONTEXT_EXTENSIONS -> out.pathRequired = true;
        default -> {}
      }
      if (p instanceof Proposal.GroupContextExtensions g) {
        if (++gce > 1) {
          fail("more than one GroupContextExtensions proposal (§12.2)");
        }
        out.extensions = g.extensions();
      } else if (p instanceof Proposal.ReInit ri) {
        validateReInit(s, ri);
        reinit = ri;
      } else if (p instanceof Proposal.ExternalInit) {
        fail("ExternalInit in a regular commit (§12.2)");
      } else if (p instanceof Proposal.Update) {
        if (!r.sender().isMember()) {
          fail("Update from a non-member");
        }
        int leaf = r.sender().index();
        if (leaf == committer) {
          fail("commit contains an Update by the committer (§12.2)");
        }
        if (!touched.add(leaf)) {
          fail("several Update/Remove proposals for one leaf (§12.2)");
        }
      } else if (p instanceof Proposal.Remove rm) {
        if (rm.removed() == committer) {
          fail("commit removes the committer (§12.2)");
        }
        if (s.tree.leaf(rm.removed()) == null) {
          fail("Remove of a blank or absent leaf (§12.1.3)");
        }
        if (!touched.add(rm.removed())) {
          fail("several Update/Remove proposals for one leaf (§12.2)");
        }
      } else if (p instanceof Proposal.PreSharedKey psk) {
        if (!pskSeen.add(psk.psk())) {
          fail("the same PreSharedKeyID twice (§12.2)");
        }
      }
    }
    if (reinit != null && list.size() != 1) {
      fail("ReInit together with other proposals (§12.2)");
    }
    out.reinit = reinit;

    // GroupContextExtensions: every member must support the new extensions (§12.1.7).
    if (gce == 1) {
      for (int m : s.tree.members()) {
        LeafNode leaf = s.tree.leaf(m);
        for (Extension e : out.extensions) {
          if (!isDefaultExtension(e.type()) && !leaf.capabilities().extensions().contains(e.type())) {
            fail("a member does not support a GroupContext extension (§12.1.7)");
          }
        }
        TreeValidation.validateLeafNode(cs, leaf, Role.TREE, s.tree, s.groupId(), m, out.extensions, -1);
      }
    }

    // Updates (validated against the tree before any of them is applied).
    for (Resolved r : list) {
      if (r.proposal() instanceof Proposal.Update u) {
        int leaf = r.sender().index();
        LeafNode old = s.tree.leaf(leaf);
        if (old == null) {
          fail("Update from a blank leaf");
        }
        TreeValidation.validateLeafNode(
            cs, u.leafNode(), Role.UPDATE, s.tree, s.groupId(), leaf, out.extensions, -1);
        if (u.leafNode().encryptionKey().equals(old.encryptionKey())) {
          fail("Update does not change the encryption key (§12.1.2)");
        }
      }
    }
    for (Resolved r : list) {
      if (r.proposal() instanceof Proposal.Update u) {
        int leaf = r.sender().index();
        s.tree.updateLeaf(leaf, u.leafNode());
        out.updated.add(leaf);
        if (leaf == s.ownLeaf) {
          if (r.leafPriv() == null) {
            fail("an Update of this member's leaf that this member did not make");
          }
          s.keys.put(TreeMath.leafToNode(leaf), r.leafPriv());
        }
      }
    }
    for (Resolved r : list) {
      if (r.proposal() instanceof Proposal.Remove rm) {
        s.tree.removeLeaf(rm.removed());
        out.removed.add(rm.removed());
      }
    }
    s.keys.prune(s.tree);
    // The KeyPackage and leaf signatures of the Adds do not depend on the tree: verified on
    // several cores first, then each Add is validated and applied in order as before.
    List<KeyPackage> adds = new ArrayList<>();
    for (Resolved r : list) {
      if (r.proposal() instanceof Proposal.Add a) {
        adds.add(a.keyPackage());
      }
    }
    boolean[] keyPackageValid = new boolean[adds.size()];
    boolean[] leafValid = new boolean[adds.size()];
    Bytes groupId = s.groupId();
    Parallel.forEach(
        adds.size(),
        i -> {
          keyPackageValid[i] = keyPackageSignatureValid(cs, adds.get(i));
          leafValid[i] = TreeValidation.leafSignatureValid(cs, adds.get(i).leafNode(), groupId, -1);
        });
    for (int i = 0; i < adds.size(); i++) {
      KeyPackage kp = adds.get(i);
      validateKeyPackage(s, kp, out.extensions, keyPackageValid[i], leafValid[i]);
      out.added.add(s.tree.addLeaf(kp.leafNode()));
      out.addedKeyPackages.add(kp);
    }
    for (Resolved r : list) {
      if (r.proposal() instanceof Proposal.PreSharedKey psk) {
        out.pskIds.add(psk.psk());
        byte[] v =
            successorPsk != null && successorPsk.id().equals(psk.psk())
                ? successorPsk.secret().clone()
                : lookupPsk(s, psk.psk());
        out.psks.add(new PskSecret.Psk(psk.psk(), v));
      }
    }
    return out;
  }

  /** §12.1.5: a ReInit may not lower the protocol version. */
  static void validateReInit(GroupState s, Proposal.ReInit ri) {
    if (ri.version() < s.context.version()) {
      fail("ReInit to a lower protocol version (§12.1.5)");
    }
  }

  static boolean isDefaultExtension(int type) {
    return type >= 1 && type <= 5;
  }

  /** §10.1 KeyPackage validation, against the tree as it stands (earlier Adds included). */
  static void validateKeyPackage(GroupState s, KeyPackage kp, List<Extension> extensions) {
    validateKeyPackage(
        s, kp, extensions, keyPackageSignatureValid(s.cs, kp),
        TreeValidation.leafSignatureValid(s.cs, kp.leafNode(), s.groupId(), -1));
  }

  /** As above, with both signatures verified beforehand (their results given); same checks, same order. */
  private static void validateKeyPackage(
      GroupState s, KeyPackage kp, List<Extension> extensions, boolean keyPackageValid, boolean leafValid) {
    if (kp.version() != Codes.MLS10 || kp.cipherSuite() != s.cs.id()) {
      fail("KeyPackage version or cipher suite does not match the group (§10.1)");
    }
    if (!keyPackageValid) {
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "KeyPackage signature invalid");
    }
    if (kp.initKey().equals(kp.leafNode().encryptionKey())) {
      fail("KeyPackage init_key equals its leaf encryption_key (§10.1)");
    }
    TreeValidation.validateLeafNode(
        s.cs, kp.leafNode(), Role.KEY_PACKAGE, s.tree, s.groupId(), -1, extensions, s.config.clockSeconds().getAsLong(),
        leafValid);
  }

  /** Whether the KeyPackage's signature over KeyPackageTBS (§10) verifies with its leaf's key. Thread-safe. */
  private static boolean keyPackageSignatureValid(CipherSuite cs, KeyPackage kp) {
    try {
      MlsCrypto.verifyWithLabel(
          cs, kp.leafNode().signatureKey().unsafeArray(), "KeyPackageTBS", kp.toBeSigned(), kp.signature().unsafeArray());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The secret of a PSK (§8.4); MALFORMED when it is not available. */
  static byte[] lookupPsk(GroupState s, PreSharedKeyId id) {
    if (id.pskNonce().length() != s.cs.hashLength()) {
      fail("psk_nonce length is not Nh (§8.4)");
    }
    if (id.pskType() == Codes.PSK_EXTERNAL) {
      byte[] v = s.config.externalPsks().apply(id.pskId());
      if (v == null) {
        fail("external PSK not available");
      }
      return v.clone();
    }
    if (id.usage() != Codes.RESUMPTION_APPLICATION) {
      fail("resumption PSK of usage reinit/branch outside the creation of a successor group (§12.1.4)");
    }
    byte[] v = id.pskGroupId().equals(s.groupId()) ? s.resumptionPsks.get(id.pskEpoch()) : null;
    if (v == null) {
      fail("resumption PSK not available");
    }
    return v.clone();
  }
}
