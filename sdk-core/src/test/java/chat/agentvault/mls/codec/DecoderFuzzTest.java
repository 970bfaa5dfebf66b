package chat.agentvault.mls.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import chat.agentvault.Bytes;
import chat.agentvault.mls.message.AuthenticatedContent;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.GroupInfo;
import chat.agentvault.mls.message.GroupSecrets;
import chat.agentvault.mls.message.HpkeCiphertext;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.ParentNode;
import chat.agentvault.mls.message.PreSharedKeyId;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.message.UpdatePath;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;
import org.opentest4j.TestAbortedException;

/**
 * Hostile bytes against every top-level decoder of {@code mls.message}: random input and mutations
 * of the valid encodings in messages.json. A decoder either returns a value whose encoding is the
 * input again (decoding is canonical, so no two encodings share a meaning) or throws exactly
 * {@link DecodeException}. Any other throwable (index, null pointer, illegal argument, out of
 * memory, stack overflow) is a bug in the decoder.
 *
 * <p>The default run is bounded for CI. {@code -Dmls.fuzz.tries=1000000} raises the tries of every
 * property here for a long run.
 */
@AddLifecycleHook(FuzzTries.class)
class DecoderFuzzTest {

  /** A decoder under test with its encoder. */
  record Target(String name, TlsReader.Decoder<?> decoder, TlsWriter.Encoder<Object> encoder) {
    @SuppressWarnings("unchecked")
    static <T> Target of(String name, TlsReader.Decoder<T> decoder, TlsWriter.Encoder<T> encoder) {
      return new Target(name, decoder, (TlsWriter.Encoder<Object>) encoder);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static final List<Target> TARGETS =
      List.of(
          Target.of("MLSMessage", MlsMessage::decode, (w, v) -> v.encode(w)),
          Target.of("KeyPackage", KeyPackage::decode, (w, v) -> v.encode(w)),
          Target.of("LeafNode", LeafNode::decode, (w, v) -> v.encode(w)),
          Target.of("Proposal", Proposal::decode, (w, v) -> v.encode(w)),
          Target.of("Commit", Commit::decode, (w, v) -> v.encode(w)),
          Target.of("GroupInfo", GroupInfo::decode, (w, v) -> v.encode(w)),
          Target.of("Welcome", Welcome::decode, (w, v) -> v.encode(w)),
          Target.of("GroupSecrets", GroupSecrets::decode, (w, v) -> v.encode(w)),
          Target.of("ratchet_tree", Node::decodeTree, Node::encodeTree),
          Target.of("AuthenticatedContent", AuthenticatedContent::decode, (w, v) -> v.encode(w)),
          Target.of("PublicMessage", PublicMessage::decode, (w, v) -> v.encode(w)),
          Target.of("PrivateMessage", PrivateMessage::decode, (w, v) -> v.encode(w)),
          Target.of("UpdatePath", UpdatePath::decode, (w, v) -> v.encode(w)),
          Target.of("GroupContext", GroupContext::decode, (w, v) -> v.encode(w)),
          Target.of("PreSharedKeyID", PreSharedKeyId::decode, (w, v) -> v.encode(w)),
          Target.of("Credential", Credential::decode, (w, v) -> v.encode(w)),
          Target.of("Extension<V>", Extension::decodeList, Extension::encodeList),
          // The smaller structs the above are made of, for failures that are easier to read.
          Target.of("FramedContent", FramedContent::decode, (w, v) -> v.encode(w)),
          Target.of("Sender", Sender::decode, (w, v) -> v.encode(w)),
          Target.of("Capabilities", Capabilities::decode, (w, v) -> v.encode(w)),
          Target.of("Lifetime", Lifetime::decode, (w, v) -> v.encode(w)),
          Target.of("Node", Node::decode, (w, v) -> v.encode(w)),
          Target.of("ParentNode", ParentNode::decode, (w, v) -> v.encode(w)),
          Target.of("HPKECiphertext", HpkeCiphertext::decode, (w, v) -> v.encode(w)),
          Target.of(
              "EncryptedGroupSecrets", Welcome.EncryptedGroupSecrets::decode, (w, v) -> v.encode(w)),
          Target.of("UpdatePathNode", UpdatePath.Node::decode, (w, v) -> v.encode(w)),
          Target.of("ProposalOrRef", Commit.ProposalOrRef::decode, (w, v) -> v.encode(w)));

  // ---------------------------------------------------------------------------------------------
  // The oracle.

  /**
   * Decodes {@code input} as a whole value: either it fails with {@link DecodeException} or it
   * re-encodes to {@code input} and decodes again to an equal value.
   *
   * @return whether the input decoded
   */
  static boolean assertTotal(Target t, byte[] input) {
    Object value;
    try {
      value = TlsReader.decodeAll(input, t.decoder());
    } catch (DecodeException expected) {
      assertThat(expected.getMessage()).isNotBlank();
      return false;
    } catch (Throwable e) { // OutOfMemoryError and StackOverflowError included, deliberately
      throw new AssertionError(
          t + " decoder threw " + e.getClass().getName() + " (only DecodeException is allowed) on "
              + describe(input),
          e);
    }
    byte[] again;
    try {
      again = TlsWriter.encode(value, t.encoder());
    } catch (Throwable e) {
      throw new AssertionError(t + " decoded a value it cannot encode from " + describe(input), e);
    }
    if (!Arrays.equals(again, input)) {
      fail(t + " is not canonical: " + describe(input) + " re-encodes to " + Vectors.hex(again));
    }
    assertThat(TlsReader.decodeAll(again, t.decoder())).as(t.name()).isEqualTo(value);
    return true;
  }

  private static String describe(byte[] input) {
    String hex = Vectors.hex(input);
    return input.length + " bytes " + (hex.length() > 400 ? hex.substring(0, 400) + "..." : hex);
  }

  // ---------------------------------------------------------------------------------------------
  // Seeds: the messages.json encodings, and the sub-structures decoded out of them.

  /** Seeds by target name, loaded once. */
  static final class Seeds {
    private static Map<String, List<byte[]>> seeds;

    static synchronized Map<String, List<byte[]>> get() {
      if (seeds == null) {
        seeds = load(Vectors.json(Vectors.file("mls", "messages.json")));
      }
      return seeds;
    }

    static List<byte[]> of(Target t) {
      List<byte[]> s = get().get(t.name());
      assertThat(s).as("seeds for " + t).isNotEmpty();
      return s;
    }

    private static final Map<String, Integer> PROPOSALS =
        Map.of(
            "add_proposal", Codes.PROPOSAL_ADD,
            "update_proposal", Codes.PROPOSAL_UPDATE,
            "remove_proposal", Codes.PROPOSAL_REMOVE,
            "pre_shared_key_proposal", Codes.PROPOSAL_PSK,
            "re_init_proposal", Codes.PROPOSAL_REINIT,
            "external_init_proposal", Codes.PROPOSAL_EXTERNAL_INIT,
            "group_context_extensions_proposal", Codes.PROPOSAL_GROUP_CONTEXT_EXTENSIONS);

    private static Map<String, List<byte[]>> load(JsonNode entries) {
      Map<String, List<byte[]>> out = new LinkedHashMap<>();
      for (Target t : TARGETS) {
        out.put(t.name(), new ArrayList<>());
      }
      for (JsonNode e : entries) {
        for (String f :
            List.of(
                "mls_welcome",
                "mls_group_info",
                "mls_key_package",
                "public_message_application",
                "public_message_proposal",
                "public_message_commit",
                "private_message")) {
          byte[] b = Vectors.hex(e.get(f));
          add(out, "MLSMessage", b);
          MlsMessage m = MlsMessage.parse(b);
          Object body = m.body();
          if (body instanceof Welcome w) {
            add(out, "Welcome", w, (ww, x) -> x.encode(ww));
            for (Welcome.EncryptedGroupSecrets s : w.secrets()) {
              add(out, "EncryptedGroupSecrets", s, (ww, x) -> x.encode(ww));
              add(out, "HPKECiphertext", s.encryptedGroupSecrets(), (ww, x) -> x.encode(ww));
            }
          } else if (body instanceof GroupInfo g) {
            add(out, "GroupInfo", g, (ww, x) -> x.encode(ww));
            add(out, "GroupContext", g.groupContext(), (ww, x) -> x.encode(ww));
            add(out, "Extension<V>", g.extensions(), Extension::encodeList);
            add(out, "Extension<V>", g.groupContext().extensions(), Extension::encodeList);
          } else if (body instanceof KeyPackage k) {
            add(out, "KeyPackage", k, (ww, x) -> x.encode(ww));
            addLeaf(out, k.leafNode());
            add(out, "Extension<V>", k.extensions(), Extension::encodeList);
          } else if (body instanceof PublicMessage p) {
            add(out, "PublicMessage", p, (ww, x) -> x.encode(ww));
            add(out, "FramedContent", p.content(), (ww, x) -> x.encode(ww));
            add(out, "Sender", p.content().sender(), (ww, x) -> x.encode(ww));
            // AuthenticatedContent as it is hashed into the transcript: the PublicMessage minus tag.
            for (int wf : new int[] {Codes.WIRE_PUBLIC_MESSAGE, Codes.WIRE_PRIVATE_MESSAGE}) {
              add(
                  out,
                  "AuthenticatedContent",
                  new AuthenticatedContent(wf, p.content(), p.auth()),
                  (ww, x) -> x.encode(ww));
            }
            if (p.content().proposal() != null) {
              add(out, "Proposal", p.content().proposal(), (ww, x) -> x.encode(ww));
            }
            if (p.content().commit() != null) {
              addCommit(out, p.content().commit());
            }
          } else if (body instanceof PrivateMessage p) {
            add(out, "PrivateMessage", p, (ww, x) -> x.encode(ww));
          }
        }
        for (Map.Entry<String, Integer> p : PROPOSALS.entrySet()) {
          byte[] b = Vectors.hex(e.get(p.getKey()));
          Proposal prop = Proposal.decodeBody(p.getValue(), TlsReader.of(b));
          add(out, "Proposal", prop, (ww, x) -> x.encode(ww));
          if (prop instanceof Proposal.Update u) {
            addLeaf(out, u.leafNode());
          } else if (prop instanceof Proposal.Add a) {
            add(out, "KeyPackage", a.keyPackage(), (ww, x) -> x.encode(ww));
          } else if (prop instanceof Proposal.PreSharedKey psk) {
            add(out, "PreSharedKeyID", psk.psk(), (ww, x) -> x.encode(ww));
          } else if (prop instanceof Proposal.GroupContextExtensions g) {
            add(out, "Extension<V>", g.extensions(), Extension::encodeList);
          } else if (prop instanceof Proposal.ReInit r) {
            add(out, "Extension<V>", r.extensions(), Extension::encodeList);
          }
        }
        addCommit(out, TlsReader.decodeAll(Vectors.hex(e.get("commit")), Commit::decode));
        byte[] secrets = Vectors.hex(e.get("group_secrets"));
        add(out, "GroupSecrets", secrets);
        for (PreSharedKeyId id : TlsReader.decodeAll(secrets, GroupSecrets::decode).psks()) {
          add(out, "PreSharedKeyID", id, (ww, x) -> x.encode(ww));
        }
        byte[] tree = Vectors.hex(e.get("ratchet_tree"));
        add(out, "ratchet_tree", tree);
        for (Node n : TlsReader.decodeAll(tree, Node::decodeTree)) {
          if (n != null) {
            add(out, "Node", n, (ww, x) -> x.encode(ww));
            if (n.isLeaf()) {
              addLeaf(out, n.leaf());
            } else {
              add(out, "ParentNode", n.parent(), (ww, x) -> x.encode(ww));
            }
          }
        }
      }
      // Kinds the vectors may not hold, built from their parts so every target has seeds.
      add(out, "Credential", Credential.x509(List.of()), (ww, x) -> x.encode(ww));
      List<byte[]> leaves = out.get("LeafNode");
      if (!leaves.isEmpty()) {
        LeafNode leaf = TlsReader.decodeAll(leaves.get(0), LeafNode::decode);
        add(
            out,
            "Credential",
            Credential.x509(List.of(leaf.signatureKey(), leaf.encryptionKey())),
            (ww, x) -> x.encode(ww));
        ParentNode parent =
            new ParentNode(leaf.encryptionKey(), leaf.signature(), List.of(0, 2, 0x7fffffff));
        add(out, "ParentNode", parent, (ww, x) -> x.encode(ww));
        add(out, "ParentNode", new ParentNode(leaf.encryptionKey(), Bytes.EMPTY, List.of()), (ww, x) -> x.encode(ww));
        add(out, "Node", Node.of(parent), (ww, x) -> x.encode(ww));
        // leaf, parent, blank, blank, leaf: a tree with every kind of entry.
        add(
            out,
            "ratchet_tree",
            java.util.Arrays.asList(Node.of(leaf), Node.of(parent), null, null, Node.of(leaf)),
            Node::encodeTree);
      }
      return out;
    }

    private static void addCommit(Map<String, List<byte[]>> out, Commit c) {
      add(out, "Commit", c, (ww, x) -> x.encode(ww));
      for (Commit.ProposalOrRef p : c.proposals()) {
        add(out, "ProposalOrRef", p, (ww, x) -> x.encode(ww));
      }
      if (c.path() != null) {
        add(out, "UpdatePath", c.path(), (ww, x) -> x.encode(ww));
        addLeaf(out, c.path().leafNode());
        for (UpdatePath.Node n : c.path().nodes()) {
          add(out, "UpdatePathNode", n, (ww, x) -> x.encode(ww));
          for (HpkeCiphertext h : n.encryptedPathSecret()) {
            add(out, "HPKECiphertext", h, (ww, x) -> x.encode(ww));
          }
        }
      }
    }

    private static void addLeaf(Map<String, List<byte[]>> out, LeafNode leaf) {
      add(out, "LeafNode", leaf, (ww, x) -> x.encode(ww));
      add(out, "Credential", leaf.credential(), (ww, x) -> x.encode(ww));
      add(out, "Capabilities", leaf.capabilities(), (ww, x) -> x.encode(ww));
      add(out, "Extension<V>", leaf.extensions(), Extension::encodeList);
      if (leaf.lifetime() != null) {
        add(out, "Lifetime", leaf.lifetime(), (ww, x) -> x.encode(ww));
      }
    }

    private static <T> void add(
        Map<String, List<byte[]>> out, String target, T value, TlsWriter.Encoder<T> enc) {
      add(out, target, TlsWriter.encode(value, enc));
    }

    private static void add(Map<String, List<byte[]>> out, String target, byte[] bytes) {
      List<byte[]> list = Objects.requireNonNull(out.get(target), target);
      for (byte[] have : list) {
        if (Arrays.equals(have, bytes)) {
          return;
        }
      }
      list.add(bytes);
    }
  }

  /** Skips the seed-based checks when the vectors are absent (fails instead when required). */
  static final class NeedsVectors implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
      try {
        Seeds.get();
        return SkipResult.doNotSkip();
      } catch (TestAbortedException e) {
        return SkipResult.skip(e.getMessage());
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Properties.

  @Provide
  Arbitrary<Target> targets() {
    return Arbitraries.of(TARGETS);
  }

  @Provide
  Arbitrary<List<ByteMutation>> mutations() {
    return ByteMutation.lists(4);
  }

  @Property(tries = 2000)
  void randomBytesOnlyEverThrowDecodeException(
      @ForAll("targets") Target t, @ForAll @Size(max = 300) byte[] input) {
    assertTotal(t, input);
  }

  /** Random bytes after a valid version and wire format, so the body decoders get exercised. */
  @Property(tries = 500)
  void randomMlsMessageBodies(
      @ForAll @IntRange(min = 1, max = 5) int wireFormat, @ForAll @Size(max = 300) byte[] body) {
    byte[] input = new byte[body.length + 4];
    input[1] = 1;
    input[3] = (byte) wireFormat;
    System.arraycopy(body, 0, input, 4, body.length);
    assertTotal(TARGETS.get(0), input);
  }

  @Property(tries = 5000)
  @AddLifecycleHook(NeedsVectors.class)
  void mutatedVectorsOnlyEverThrowDecodeException(
      @ForAll("targets") Target t,
      @ForAll @IntRange(min = 0, max = 100_000) int seedIndex,
      @ForAll("mutations") List<ByteMutation> mutations) {
    List<byte[]> seeds = Seeds.of(t);
    byte[] seed = seeds.get(seedIndex % seeds.size());
    assertTotal(t, ByteMutation.applyAll(seed, mutations));
  }

  /**
   * Deterministic sweep over the first seed of every target: every truncation, every single bit
   * flip, and a gigabyte length prefix, the reserved varint prefix and a maximal two-byte length
   * written at every offset (so every real length prefix is hit).
   */
  @Example
  @AddLifecycleHook(NeedsVectors.class)
  void everyTruncationBitFlipAndLengthPrefixOfOneSeedPerTarget() {
    int decoded = 0;
    int rejected = 0;
    for (Target t : TARGETS) {
      byte[] seed = Seeds.of(t).get(0);
      assertThat(assertTotal(t, seed)).as("seed of " + t + " decodes").isTrue();
      List<ByteMutation> sweep = new ArrayList<>();
      for (int i = 0; i < seed.length; i++) {
        sweep.add(new ByteMutation(ByteMutation.Kind.TRUNCATE, i, 1, 0));
        sweep.add(new ByteMutation(ByteMutation.Kind.HUGE_LENGTH, i, 1, 0));
        sweep.add(new ByteMutation(ByteMutation.Kind.HUGE_LENGTH_INSERT, i, 1, 0));
        sweep.add(new ByteMutation(ByteMutation.Kind.MAX_TWO_BYTE_LENGTH, i, 1, 0));
        sweep.add(new ByteMutation(ByteMutation.Kind.VARINT_PREFIX_11, i, 1, 0));
        sweep.add(new ByteMutation(ByteMutation.Kind.DELETE, i, 1, 0));
        for (int bit = 0; bit < 8; bit++) {
          sweep.add(new ByteMutation(ByteMutation.Kind.FLIP_BIT, i, 1, bit));
        }
      }
      for (ByteMutation m : sweep) {
        if (assertTotal(t, m.apply(seed))) {
          decoded++;
        } else {
          rejected++;
        }
      }
    }
    assertThat(rejected).isPositive();
    assertThat(decoded).isPositive(); // e.g. flips inside opaque payloads still decode
  }

  /** Every target on empty input and on a lone length byte of each varint size. */
  @Example
  void tinyInputs() {
    for (Target t : TARGETS) {
      for (byte[] in :
          List.of(
              new byte[0],
              new byte[] {0},
              new byte[] {(byte) 0x40},
              new byte[] {(byte) 0x80},
              new byte[] {(byte) 0xc0},
              new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff})) {
        assertTotal(t, in);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Huge length prefixes fail fast without allocating.

  private static final byte[] GIGABYTE_PREFIX = {(byte) 0xbf, (byte) 0xff, (byte) 0xff, (byte) 0xff};

  @Example
  void lengthPrefixOfTwoToTheThirtyOnShortInputIsDecodeException() {
    byte[] input = Arrays.copyOf(GIGABYTE_PREFIX, 20);
    assertThatThrownBy(() -> TlsReader.of(input).opaque())
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> TlsReader.of(input).vector(TlsReader::u8))
        .isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(input).vector(TlsReader::opaque))
        .isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.decodeAll(input, Node::decodeTree))
        .isExactlyInstanceOf(DecodeException.class);
    for (Target t : TARGETS) {
      assertTotal(t, input);
    }
  }

  /**
   * Bounded allocation, measured in bytes rather than time: decoding a short input whose length
   * prefixes claim 2^30 - 1 bytes (at every offset, into every decoder) allocates a small multiple
   * of the input, nowhere near the gigabyte claimed.
   */
  @Example
  void hugeLengthPrefixesDoNotAllocate() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
        "per-thread allocation counter unavailable");
    long thread = Thread.currentThread().getId();

    // 64 bytes: a valid MLSMessage header and then gigabyte length prefixes back to back.
    byte[] input = new byte[64];
    input[1] = 1;
    for (int i = 4; i + 4 <= input.length; i += 4) {
      System.arraycopy(GIGABYTE_PREFIX, 0, input, i, 4);
    }
    for (int wf = 1; wf <= 5; wf++) {
      input[3] = (byte) wf;
      assertTotal(TARGETS.get(0), input); // warm-up: classes loaded before measuring
    }
    long worst = 0;
    for (Target t : TARGETS) {
      for (int offset = 0; offset < input.length; offset++) {
        byte[] shifted = Arrays.copyOfRange(input, offset, input.length);
        long before = threads.getThreadAllocatedBytes(thread);
        try {
          TlsReader.decodeAll(shifted, t.decoder());
        } catch (DecodeException expected) {
          // the point
        }
        worst = Math.max(worst, threads.getThreadAllocatedBytes(thread) - before);
      }
    }
    // Exceptions with stack traces and small lists cost a few KiB; a gigabyte claim must not.
    assertThat(worst).as("bytes allocated by one hostile decode").isLessThan(1 << 20);
  }
}
