package chat.agentvault.mls.schedule;

import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.tree.TreeMath;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The secret tree of one epoch (RFC 9420 §9) with per-leaf handshake and application ratchets.
 *
 * <p>Secrets are derived lazily and deleted as the deletion schedule requires (§9.2): deriving the
 * children of a node deletes the node; a used key and nonce are deleted; a ratchet secret is
 * deleted once the next one is derived. For out-of-order delivery each ratchet keeps the keys of
 * at most {@link Limits#outOfOrderTolerance} skipped generations and refuses to jump more than
 * {@link Limits#maxForwardDistance} generations ahead, so one message cannot force unbounded work
 * or memory. Not thread-safe: a group serialises access.
 */
public final class SecretTree implements AutoCloseable {
  /** Bounds on what hostile input can make a ratchet do. */
  public record Limits(int outOfOrderTolerance, int maxForwardDistance) {
    public static final Limits DEFAULT = new Limits(128, 1000);

    public Limits {
      if (outOfOrderTolerance < 0 || maxForwardDistance < 0) {
        throw new IllegalArgumentException("limits must not be negative");
      }
    }
  }

  /** Which of a leaf's two ratchets. */
  public enum RatchetType {
    HANDSHAKE("handshake"),
    APPLICATION("application");

    final String label;

    RatchetType(String label) {
      this.label = label;
    }
  }

  /** A key and nonce for one generation; {@link #close()} wipes them. */
  public record KeyAndNonce(int generation, byte[] key, byte[] nonce) implements AutoCloseable {
    @Override
    public void close() {
      Arrays.fill(key, (byte) 0);
      Arrays.fill(nonce, (byte) 0);
    }

    @Override
    public String toString() {
      return "KeyAndNonce[generation=" + Integer.toUnsignedString(generation) + ", redacted]";
    }
  }

  private final CipherSuite suite;
  private final int leafCount;
  private final Limits limits;
  /** Node index to secret, for nodes whose secret is derived and not yet consumed. */
  private final Map<Integer, byte[]> nodeSecrets = new HashMap<>();
  /** (leaf, type) to ratchet. */
  private final Map<Long, HashRatchet> ratchets = new HashMap<>();

  public SecretTree(CipherSuite suite, byte[] encryptionSecret, int leafCount, Limits limits) {
    if (leafCount <= 0 || Integer.bitCount(leafCount) != 1) {
      throw new IllegalArgumentException("leaf count must be a power of two: " + leafCount);
    }
    this.suite = suite;
    this.leafCount = leafCount;
    this.limits = limits;
    nodeSecrets.put(TreeMath.root(leafCount), encryptionSecret.clone());
  }

  public int leafCount() {
    return leafCount;
  }

  /**
   * An independent deep copy (node secrets, ratchets, skipped keys): for copy-try-commit, where an
   * operation runs on a copy and the caller keeps it only on success.
   */
  public SecretTree copy() {
    SecretTree c = new SecretTree(suite, leafCount, limits);
    nodeSecrets.forEach((k, v) -> c.nodeSecrets.put(k, v.clone()));
    ratchets.forEach((k, r) -> c.ratchets.put(k, r.copyInto(c)));
    return c;
  }

  private SecretTree(CipherSuite suite, int leafCount, Limits limits) {
    this.suite = suite;
    this.leafCount = leafCount;
    this.limits = limits;
  }

  /**
   * Writes the whole tree (node secrets, ratchets with generation, secret and skipped keys) for a
   * persisted group record; entries sorted so equal trees give equal bytes. The output holds
   * secrets: it must be stored encrypted and never logged.
   *
   * <pre>
   * uint32 leaf_count;
   * struct { uint32 node; opaque secret&lt;V&gt;; } node_secrets&lt;V&gt;;          // ascending node
   * struct { uint32 leaf; uint8 type; uint32 generation; opaque secret&lt;V&gt;;
   *          struct { uint32 generation; opaque key&lt;V&gt;; opaque nonce&lt;V&gt;; } skipped&lt;V&gt;; // oldest first
   *        } ratchets&lt;V&gt;;                                                  // ascending (leaf, type)
   * </pre>
   */
  public void writeTo(TlsWriter w) {
    w.u32(leafCount);
    java.util.List<Integer> nodes = new java.util.ArrayList<>(nodeSecrets.keySet());
    nodes.sort(null);
    w.vector(nodes, (ww, n) -> ww.u32(n).opaque(nodeSecrets.get(n)));
    java.util.List<Long> keys = new java.util.ArrayList<>(ratchets.keySet());
    keys.sort(null);
    w.vector(
        keys,
        (ww, k) -> {
          HashRatchet r = ratchets.get(k);
          ww.u32(k >>> 1).u8((int) (k & 1)).u32(Integer.toUnsignedLong(r.generation)).opaque(r.secret);
          ww.vector(
              r.skipped.values(),
              (w3, kn) -> w3.u32(Integer.toUnsignedLong(kn.generation())).opaque(kn.key()).opaque(kn.nonce()));
        });
  }

  /**
   * Reads what {@link #writeTo} wrote, checking its structure: a power-of-two leaf count up to 2^20,
   * nodes and leaves inside the tree, no duplicates, secret, key and nonce lengths of the suite,
   * skipped generations below the ratchet's and at most {@link Limits#outOfOrderTolerance} of them,
   * both ratchets of a leaf present or neither.
   *
   * @throws DecodeException for anything else
   */
  public static SecretTree readFrom(TlsReader r, CipherSuite suite, Limits limits) {
    long lc = r.u32();
    if (lc <= 0 || lc > (1 << 20) || Long.bitCount(lc) != 1) {
      throw new DecodeException("secret tree leaf count invalid");
    }
    SecretTree t = new SecretTree(suite, (int) lc, limits);
    try {
      int width = TreeMath.nodeWidth((int) lc);
      r.vector(
              rr -> {
                long node = rr.u32();
                byte[] secret = rr.opaque().toByteArray();
                if (node >= width || secret.length != suite.hashLength() || t.nodeSecrets.containsKey((int) node)) {
                  SecretBytes.wipe(secret);
                  throw new DecodeException("secret tree node secret invalid");
                }
                t.nodeSecrets.put((int) node, secret);
                return node;
              });
      r.vector(
          rr -> {
            long leaf = rr.u32();
            int type = rr.u8();
            int generation = rr.u32Bits();
            byte[] secret = rr.opaque().toByteArray();
            long key = (leaf << 1) | type;
            if (leaf >= lc || type > 1 || secret.length != suite.hashLength() || t.ratchets.containsKey(key)) {
              SecretBytes.wipe(secret);
              throw new DecodeException("secret tree ratchet invalid");
            }
            HashRatchet h = t.new HashRatchet(secret);
            h.generation = generation;
            t.ratchets.put(key, h);
            rr.vector(
                r3 -> {
                  int g = r3.u32Bits();
                  byte[] k = r3.opaque().toByteArray();
                  byte[] n = r3.opaque().toByteArray();
                  KeyAndNonce kn = new KeyAndNonce(g, k, n);
                  if (k.length != suite.aeadKeyLength()
                      || n.length != suite.aeadNonceLength()
                      || Integer.compareUnsigned(g, generation) >= 0
                      || h.skipped.containsKey(g)
                      || h.skipped.size() >= limits.outOfOrderTolerance()) {
                    kn.close();
                    throw new DecodeException("secret tree skipped key invalid");
                  }
                  h.skipped.put(g, kn);
                  return g;
                });
            return key;
          });
      for (Long key : t.ratchets.keySet()) {
        if (!t.ratchets.containsKey(key ^ 1)) {
          throw new DecodeException("secret tree ratchets of a leaf come in pairs");
        }
      }
      return t;
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  /** The next generation's key and nonce for sending (consumed: never handed out again). */
  public KeyAndNonce nextForSending(int leafIndex, RatchetType type) {
    return ratchet(leafIndex, type).next();
  }

  /**
   * The key and nonce of {@code generation} for a received message: consumed on return.
   *
   * @throws MessageRejectedException DUPLICATE for a generation already used or dropped from the
   *     window, TOO_FAR_AHEAD beyond the forward bound
   */
  public KeyAndNonce forReceiving(int leafIndex, RatchetType type, int generation) {
    return ratchet(leafIndex, type).get(generation);
  }

  /**
   * The key and nonce of {@code generation} without changing any state: for trying a decryption
   * before committing to it. Call {@link #forReceiving} once the message has been authenticated.
   *
   * @throws MessageRejectedException as {@link #forReceiving}
   */
  public KeyAndNonce peekForReceiving(int leafIndex, RatchetType type, int generation) {
    checkLeaf(leafIndex);
    HashRatchet r = ratchets.get(((long) leafIndex << 1) | type.ordinal());
    if (r != null) {
      return r.peek(generation);
    }
    byte[] leafSecret = peekLeafSecret(leafIndex);
    byte[] base =
        MlsCrypto.expandWithLabel(suite, leafSecret, type.label, new byte[0], suite.hashLength());
    SecretBytes.wipe(leafSecret);
    HashRatchet scratch = new HashRatchet(base);
    try {
      return scratch.peek(generation);
    } finally {
      scratch.close();
    }
  }

  private void checkLeaf(int leafIndex) {
    if (leafIndex < 0 || leafIndex >= leafCount) {
      throw new MessageRejectedException(Reason.MALFORMED, "leaf index outside the tree");
    }
  }

  /** The leaf secret derived on copies, leaving the stored node secrets as they are. */
  private byte[] peekLeafSecret(int leafIndex) {
    int leaf = TreeMath.leafToNode(leafIndex);
    int node = leaf;
    if (!nodeSecrets.containsKey(leaf)) {
      for (int p : TreeMath.directPath(leaf, leafCount)) {
        if (nodeSecrets.containsKey(p)) {
          node = p;
          break;
        }
      }
    }
    byte[] secret = nodeSecrets.get(node);
    if (secret == null) {
      throw new IllegalStateException("secret tree has no secret on the path of leaf " + leafIndex);
    }
    secret = secret.clone();
    while (node != leaf) {
      int left = TreeMath.left(node);
      boolean goLeft = TreeMath.isInSubtree(left, leaf);
      byte[] child = expand(secret, goLeft ? "left" : "right");
      SecretBytes.wipe(secret);
      secret = child;
      node = goLeft ? left : TreeMath.right(node);
    }
    return secret;
  }

  private HashRatchet ratchet(int leafIndex, RatchetType type) {
    checkLeaf(leafIndex);
    long key = ((long) leafIndex << 1) | type.ordinal();
    HashRatchet r = ratchets.get(key);
    if (r == null) {
      byte[] leafSecret = leafSecret(leafIndex);
      for (RatchetType t : RatchetType.values()) {
        byte[] base =
            MlsCrypto.expandWithLabel(suite, leafSecret, t.label, new byte[0], suite.hashLength());
        ratchets.put(((long) leafIndex << 1) | t.ordinal(), new HashRatchet(base));
      }
      SecretBytes.wipe(leafSecret); // both ratchets derived: the leaf secret is consumed
      r = ratchets.get(key);
    }
    return r;
  }

  /** Derives down from the nearest ancestor that still has a secret, consuming the path. */
  private byte[] leafSecret(int leafIndex) {
    int leaf = TreeMath.leafToNode(leafIndex);
    int root = TreeMath.root(leafCount);
    int[] path = TreeMath.directPath(leaf, leafCount);
    // Find the lowest ancestor (or the leaf itself) with a stored secret.
    int start = nodeSecrets.containsKey(leaf) ? leaf : -1;
    for (int i = 0; start < 0 && i < path.length; i++) {
      if (nodeSecrets.containsKey(path[i])) {
        start = path[i];
      }
    }
    if (start < 0) {
      throw new IllegalStateException("secret tree has no secret on the path of leaf " + leafIndex);
    }
    int node = start;
    while (node != leaf) {
      byte[] secret = nodeSecrets.remove(node);
      int left = TreeMath.left(node);
      int right = TreeMath.right(node);
      nodeSecrets.put(left, expand(secret, "left"));
      nodeSecrets.put(right, expand(secret, "right"));
      SecretBytes.wipe(secret);
      node = TreeMath.isInSubtree(left, leaf) ? left : right;
    }
    assert root >= 0;
    return nodeSecrets.remove(leaf);
  }

  private byte[] expand(byte[] secret, String side) {
    return MlsCrypto.expandWithLabel(
        suite, secret, "tree", side.getBytes(java.nio.charset.StandardCharsets.US_ASCII), suite.hashLength());
  }

  /** One sender ratchet (§9.1). */
  private final class HashRatchet {
    private byte[] secret;
    private int generation; // unsigned; the generation of {@code secret}
    private final java.util.LinkedHashMap<Integer, KeyAndNonce> skipped = new java.util.LinkedHashMap<>();

    HashRatchet(byte[] base) {
      this.secret = base;
    }

    HashRatchet copyInto(SecretTree owner) {
      HashRatchet r = owner.new HashRatchet(secret.clone());
      r.generation = generation;
      skipped.forEach(
          (g, kn) -> r.skipped.put(g, new KeyAndNonce(kn.generation(), kn.key().clone(), kn.nonce().clone())));
      return r;
    }

    KeyAndNonce next() {
      if (generation == -1) {
        throw new IllegalStateException("ratchet exhausted (2^32 generations)");
      }
      KeyAndNonce kn = derive(generation);
      advance();
      return kn;
    }

    KeyAndNonce peek(int wanted) {
      if (Integer.compareUnsigned(wanted, generation) < 0) {
        KeyAndNonce kn = skipped.get(wanted);
        if (kn == null) {
          throw new MessageRejectedException(
              Reason.DUPLICATE, "generation already consumed or outside the out-of-order window");
        }
        return new KeyAndNonce(kn.generation(), kn.key().clone(), kn.nonce().clone());
      }
      checkDistance(wanted);
      byte[] s = secret.clone();
      int g = generation;
      while (g != wanted) {
        byte[] n = MlsCrypto.deriveTreeSecret(suite, s, "secret", g, suite.hashLength());
        SecretBytes.wipe(s);
        s = n;
        g++;
      }
      byte[] key = MlsCrypto.deriveTreeSecret(suite, s, "key", g, suite.aeadKeyLength());
      byte[] nonce = MlsCrypto.deriveTreeSecret(suite, s, "nonce", g, suite.aeadNonceLength());
      SecretBytes.wipe(s);
      return new KeyAndNonce(g, key, nonce);
    }

    private void checkDistance(int wanted) {
      long distance = Integer.toUnsignedLong(wanted) - Integer.toUnsignedLong(generation);
      if (distance > limits.maxForwardDistance()) {
        throw new MessageRejectedException(
            Reason.TOO_FAR_AHEAD, "generation " + distance + " ahead of the ratchet");
      }
    }

    KeyAndNonce get(int wanted) {
      if (Integer.compareUnsigned(wanted, generation) < 0) {
        KeyAndNonce kn = skipped.remove(wanted);
        if (kn == null) {
          throw new MessageRejectedException(
              Reason.DUPLICATE, "generation already consumed or outside the out-of-order window");
        }
        return kn;
      }
      checkDistance(wanted);
      while (generation != wanted) {
        remember(derive(generation));
        advance();
      }
      KeyAndNonce kn = derive(generation);
      advance();
      return kn;
    }

    private void remember(KeyAndNonce kn) {
      if (limits.outOfOrderTolerance() == 0) {
        kn.close();
        return;
      }
      skipped.put(kn.generation(), kn);
      while (skipped.size() > limits.outOfOrderTolerance()) {
        Integer oldest = skipped.keySet().iterator().next();
        skipped.remove(oldest).close();
      }
    }

    private KeyAndNonce derive(int gen) {
      byte[] key = MlsCrypto.deriveTreeSecret(suite, secret, "key", gen, suite.aeadKeyLength());
      byte[] nonce = MlsCrypto.deriveTreeSecret(suite, secret, "nonce", gen, suite.aeadNonceLength());
      return new KeyAndNonce(gen, key, nonce);
    }

    private void advance() {
      byte[] nextSecret =
          MlsCrypto.deriveTreeSecret(suite, secret, "secret", generation, suite.hashLength());
      SecretBytes.wipe(secret);
      secret = nextSecret;
      generation++;
    }

    void close() {
      SecretBytes.wipe(secret);
      skipped.values().forEach(KeyAndNonce::close);
      skipped.clear();
    }
  }

  /** sender_data_key and sender_data_nonce for a ciphertext sample (§6.3.2). */
  public static KeyAndNonce senderDataKeyAndNonce(CipherSuite cs, byte[] senderDataSecret, byte[] ciphertext) {
    byte[] sample = Arrays.copyOf(ciphertext, Math.min(ciphertext.length, cs.hashLength()));
    byte[] key = MlsCrypto.expandWithLabel(cs, senderDataSecret, "key", sample, cs.aeadKeyLength());
    byte[] nonce = MlsCrypto.expandWithLabel(cs, senderDataSecret, "nonce", sample, cs.aeadNonceLength());
    return new KeyAndNonce(0, key, nonce);
  }

  @Override
  public void close() {
    nodeSecrets.values().forEach(SecretBytes::wipe);
    nodeSecrets.clear();
    ratchets.values().forEach(HashRatchet::close);
    ratchets.clear();
  }

  @Override
  public String toString() {
    return "SecretTree[leaves=" + leafCount + ", redacted]";
  }
}
