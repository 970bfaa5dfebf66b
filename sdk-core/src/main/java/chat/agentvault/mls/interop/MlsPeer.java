package chat.agentvault.mls.interop;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.group.Group;
import chat.agentvault.mls.group.GroupConfig;
import chat.agentvault.mls.group.Processed;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Welcome;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Not API. Our MLS engine as an interop peer: one client (one identity, one signature key) driven
 * over the JSON-lines protocol of {@code docs/interop.md}, one request per line on stdin, one reply
 * per line on stdout, in order. Launched by {@code scripts/mls-peer}; tests may call {@link
 * #handle(String)} in-process.
 *
 * <p>The handshake wire format is chosen per command ({@code public} on {@code add}, {@code
 * update}, {@code remove}; default: {@code init}'s {@code public_handshake}), and so is the
 * {@code ratchet_tree} extension in Welcomes ({@code ratchet_tree_extension} on {@code add}, default
 * true; the tree is always in the reply for out-of-band delivery).
 */
public final class MlsPeer {
  static final String VERSION = "0.1.0";

  private CipherSuite cs;
  private String identity;
  private byte[] signaturePriv;
  private Bytes signaturePub;
  private boolean publicHandshake;
  private final List<OwnKeyPackage> keyPackages = new ArrayList<>();
  private final Map<String, Group> groups = new HashMap<>();
  private boolean quitting;

  private record OwnKeyPackage(KeyPackage keyPackage, Bytes ref, byte[] initPriv, byte[] encryptionPriv) {}

  /** A request the peer refuses (bad field, unknown group, ...). */
  static final class ProtocolError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProtocolError(String message) {
      super(message);
    }
  }

  /** True after {@code quit} was answered. */
  public boolean quitting() {
    return quitting;
  }

  /** Handles one request line and returns the reply line (without newline), or null for a blank line. */
  public String handle(String line) {
    if (line.isBlank()) {
      return null;
    }
    Object parsed;
    try {
      parsed = Json.parse(line);
    } catch (IllegalArgumentException e) {
      return Json.write(error(null, e.getMessage()));
    } catch (StackOverflowError e) {
      return Json.write(error(null, "bad JSON: nested too deeply"));
    }
    Object id = parsed instanceof Map<?, ?> m ? m.get("id") : null;
    try {
      if (!(parsed instanceof Map<?, ?>)) {
        throw new ProtocolError("request must be a JSON object");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> req = (Map<String, Object>) parsed;
      Map<String, Object> reply = new LinkedHashMap<>();
      reply.put("id", id);
      reply.put("ok", true);
      reply.putAll(dispatch(req));
      return Json.write(reply);
    } catch (ProtocolError e) {
      return Json.write(error(id, e.getMessage()));
    } catch (RuntimeException e) {
      return Json.write(error(id, e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
  }

  private static Map<String, Object> error(Object id, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("ok", false);
    m.put("error", message);
    return m;
  }

  private Map<String, Object> dispatch(Map<String, Object> req) {
    Object cmd = req.get("cmd");
    if (!(cmd instanceof String c)) {
      throw new ProtocolError("unknown cmd: " + Json.write(cmd));
    }
    switch (c) {
      case "init":
        return init(req);
      case "create_key_package":
        return createKeyPackage();
      case "create_group":
        return createGroup(req);
      case "add":
        return add(req);
      case "join":
        return join(req);
      case "encrypt":
        return encrypt(req);
      case "process":
      case "decrypt":
      case "process_commit":
        return process(req);
      case "update":
        return update(req);
      case "remove":
        return remove(req);
      case "export_secret":
        return exportSecret(req);
      case "state":
        return state(req);
      case "group_info":
        return groupInfo(req);
      case "quit":
        quitting = true;
        return Map.of();
      default:
        throw new ProtocolError("unknown cmd: " + Json.write(c));
    }
  }

  // ---------------------------------------------------------------- helpers

  private static Object field(Map<String, Object> req, String name) {
    Object v = req.get(name);
    if (v == null) {
      throw new ProtocolError("missing field: " + name);
    }
    return v;
  }

  private static String string(Map<String, Object> req, String name) {
    if (!(field(req, name) instanceof String s)) {
      throw new ProtocolError(name + ": expected a string");
    }
    return s;
  }

  private static byte[] unb64(Object v, String name) {
    if (!(v instanceof String s)) {
      throw new ProtocolError(name + ": expected a base64 string");
    }
    try {
      String t = s.strip();
      if (t.length() % 4 != 0) {
        throw new IllegalArgumentException("length");
      }
      return Base64.getDecoder().decode(t);
    } catch (IllegalArgumentException e) {
      throw new ProtocolError(name + ": not standard base64");
    }
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static String b64(Bytes b) {
    return b64(b.toByteArray());
  }

  private static Boolean bool(Map<String, Object> req, String name) {
    Object v = req.get(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Boolean b)) {
      throw new ProtocolError(name + ": expected a boolean");
    }
    return b;
  }

  private void requireInit() {
    if (cs == null) {
      throw new ProtocolError("not initialised: send init first");
    }
  }

  private Group group(Map<String, Object> req) {
    requireInit();
    String name = string(req, "group");
    Group g = groups.get(name);
    if (g == null) {
      throw new ProtocolError("unknown group: " + name);
    }
    return g;
  }

  private GroupConfig config() {
    return GroupConfig.DEFAULT.withPrivateHandshakes(!publicHandshake).withRatchetTreeInWelcome(true);
  }

  /** The wire format of this command's handshake: {@code public} if given, else init's setting. */
  private boolean privateHandshake(Map<String, Object> req) {
    Boolean pub = bool(req, "public");
    return !(pub == null ? publicHandshake : pub);
  }

  private static MlsMessage parseMls(byte[] b, String what) {
    try {
      return MlsMessage.parse(b);
    } catch (RuntimeException e) {
      throw new ProtocolError(what + ": not an MLSMessage (" + e.getMessage() + ")");
    }
  }

  private static <T> T tryDecode(byte[] b, TlsReader.Decoder<T> d) {
    try {
      return TlsReader.decodeAll(b, d);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static KeyPackage anyKeyPackage(Object v, String name) {
    byte[] b = unb64(v, name);
    MlsMessage m = tryDecode(b, MlsMessage::decode);
    if (m != null && m.body() instanceof KeyPackage kp) {
      return kp;
    }
    KeyPackage kp = tryDecode(b, KeyPackage::decode);
    if (kp != null) {
      return kp;
    }
    throw new ProtocolError(name + ": neither an MLSMessage(KeyPackage) nor a bare KeyPackage");
  }

  private static Welcome anyWelcome(Object v) {
    byte[] b = unb64(v, "welcome");
    MlsMessage m = tryDecode(b, MlsMessage::decode);
    if (m != null) {
      if (m.body() instanceof Welcome w) {
        return w;
      }
      throw new ProtocolError("welcome: got an MLSMessage of wire format " + m.wireFormat());
    }
    Welcome w = tryDecode(b, Welcome::decode);
    if (w != null) {
      return w;
    }
    throw new ProtocolError("welcome: neither an MLSMessage(Welcome) nor a bare Welcome");
  }

  private static String identityOf(LeafNode l) {
    Credential c = l.credential();
    return c.type() == Codes.CREDENTIAL_BASIC ? new String(c.identity().toByteArray(), StandardCharsets.UTF_8) : "<" + c.type() + ">";
  }

  // ---------------------------------------------------------------- commands

  private Map<String, Object> init(Map<String, Object> req) {
    Object s = field(req, "suite");
    int suite;
    if (s instanceof Long l) {
      suite = l.intValue();
    } else if (s instanceof String str && str.strip().matches("(0[xX])?[0-9a-fA-F]+")) {
      String t = str.strip();
      suite = t.toLowerCase().startsWith("0x") ? Integer.parseInt(t.substring(2), 16) : Integer.parseInt(t);
    } else {
      throw new ProtocolError("suite: expected a number such as 1 or 3, or \"0x0003\"");
    }
    if (suite != 1 && suite != 3) {
      throw new ProtocolError("suite " + suite + " not supported by this peer (1 and 3 are)");
    }
    String id = string(req, "identity");
    if (id.isEmpty()) {
      throw new ProtocolError("identity: expected a non-empty string");
    }
    Boolean pub = bool(req, "public_handshake");
    cs = CipherSuites.forId(suite);
    identity = id;
    publicHandshake = pub != null && pub;
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
        SecretBytes seed = sk.seed()) {
      signaturePriv = seed.copyOfSecret();
      signaturePub = Bytes.wrap(sk.publicKey().toByteArray());
    }
    keyPackages.clear();
    groups.clear();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("suite", suite);
    r.put("suite_name", suite == 1 ? "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" : "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519");
    r.put("implementation", "agentvault-java");
    r.put("version", VERSION);
    return r;
  }

  private OwnKeyPackage newKeyPackage() {
    byte[][] enc = cs.deriveKeyPair(Csprng.randomBytes(cs.hashLength()));
    byte[][] init = cs.deriveKeyPair(Csprng.randomBytes(cs.hashLength()));
    long now = System.currentTimeMillis() / 1000;
    LeafNode unsigned =
        new LeafNode(
            Bytes.wrap(enc[1]),
            signaturePub,
            Credential.basic(Bytes.wrap(identity.getBytes(StandardCharsets.UTF_8))),
            new Capabilities(List.of(Codes.MLS10), List.of(cs.id()), List.of(), List.of(), List.of(Codes.CREDENTIAL_BASIC)),
            Codes.LEAF_SOURCE_KEY_PACKAGE,
            new Lifetime(now - 3600, now + 90L * 86400),
            null,
            List.of(),
            Bytes.EMPTY);
    byte[] leafSig = MlsCrypto.signWithLabel(cs, signaturePriv, "LeafNodeTBS", unsigned.toBeSigned(Bytes.EMPTY, 0));
    LeafNode leaf = unsigned.withSignature(Bytes.wrap(leafSig));
    KeyPackage tbs = new KeyPackage(Codes.MLS10, cs.id(), Bytes.wrap(init[1]), leaf, List.of(), Bytes.EMPTY);
    byte[] sig = MlsCrypto.signWithLabel(cs, signaturePriv, "KeyPackageTBS", tbs.toBeSigned());
    KeyPackage kp = new KeyPackage(Codes.MLS10, cs.id(), Bytes.wrap(init[1]), leaf, List.of(), Bytes.wrap(sig));
    Bytes ref = Bytes.wrap(MlsCrypto.refHash(cs, "MLS 1.0 KeyPackage Reference", kp.toByteArray()));
    return new OwnKeyPackage(kp, ref, init[0], enc[0]);
  }

  private Map<String, Object> createKeyPackage() {
    requireInit();
    OwnKeyPackage kp = newKeyPackage();
    keyPackages.add(kp);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("key_package", b64(new MlsMessage(kp.keyPackage()).toByteArray()));
    r.put("key_package_raw", b64(kp.keyPackage().toByteArray()));
    r.put("key_package_ref", b64(kp.ref()));
    return r;
  }

  private Map<String, Object> createGroup(Map<String, Object> req) {
    requireInit();
    String name = string(req, "group");
    if (groups.containsKey(name)) {
      throw new ProtocolError("group already exists: " + name);
    }
    byte[] gid = req.get("group_id_b64") != null ? unb64(req.get("group_id_b64"), "group_id_b64") : Csprng.randomBytes(16);
    OwnKeyPackage kp = newKeyPackage();
    Group g = Group.create(cs, Bytes.wrap(gid), kp.keyPackage().leafNode(), kp.encryptionPriv(), signaturePriv, List.of(), config());
    groups.put(name, g);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("group_id_b64", b64(g.groupId()));
    r.put("epoch", g.epoch());
    return r;
  }

  private Map<String, Object> commitReply(Group g, Group.CommitOutput out) {
    g.merge(out.staged());
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("commit", b64(out.commit().toByteArray()));
    r.put("epoch", g.epoch());
    r.put("wire_format", out.commit().wireFormat() == 1 ? "mls_public_message" : "mls_private_message");
    return r;
  }

  private Map<String, Object> add(Map<String, Object> req) {
    Group g = group(req);
    boolean priv = privateHandshake(req);
    Boolean tree = bool(req, "ratchet_tree_extension");
    if (!(field(req, "key_packages") instanceof List<?> list) || list.isEmpty()) {
      throw new ProtocolError("key_packages: expected a non-empty array");
    }
    List<Proposal> adds = new ArrayList<>();
    for (int k = 0; k < list.size(); k++) {
      adds.add(new Proposal.Add(anyKeyPackage(list.get(k), "key_packages[" + k + "]")));
    }
    Group.CommitOutput out = g.commit(adds, false, priv, tree == null || tree);
    Map<String, Object> r = commitReply(g, out);
    r.put("welcome", b64(out.welcome().toByteArray()));
    r.put("ratchet_tree", b64(TlsWriter.encode(g.ratchetTree(), Node::encodeTree)));
    return r;
  }

  private Map<String, Object> join(Map<String, Object> req) {
    requireInit();
    Welcome w = anyWelcome(field(req, "welcome"));
    List<Node> tree = null;
    if (req.get("ratchet_tree") != null) {
      tree = tryDecode(unb64(req.get("ratchet_tree"), "ratchet_tree"), Node::decodeTree);
      if (tree == null) {
        throw new ProtocolError("ratchet_tree: cannot decode");
      }
    }
    OwnKeyPackage match = null;
    for (OwnKeyPackage kp : keyPackages) {
      for (Welcome.EncryptedGroupSecrets s : w.secrets()) {
        if (s.newMember().equals(kp.ref())) {
          match = kp;
        }
      }
    }
    if (match == null) {
      throw new ProtocolError("welcome: no entry for any key package of this peer");
    }
    Object n = req.get("group");
    if (n != null && !(n instanceof String)) {
      throw new ProtocolError("group: expected a string");
    }
    if (n != null && groups.containsKey(n)) {
      throw new ProtocolError("group already exists: " + n);
    }
    Group g = Group.join(w, match.keyPackage(), match.initPriv(), match.encryptionPriv(), signaturePriv, tree, config());
    keyPackages.remove(match);
    String name = n != null ? (String) n : b64(g.groupId());
    if (groups.containsKey(name)) {
      throw new ProtocolError("group already exists: " + name);
    }
    groups.put(name, g);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("group", name);
    r.put("group_id_b64", b64(g.groupId()));
    r.put("epoch", g.epoch());
    return r;
  }

  private Map<String, Object> encrypt(Map<String, Object> req) {
    Group g = group(req);
    byte[] pt;
    if (req.get("text") instanceof String t) {
      pt = t.getBytes(StandardCharsets.UTF_8);
    } else if (req.get("plaintext_b64") != null) {
      pt = unb64(req.get("plaintext_b64"), "plaintext_b64");
    } else {
      throw new ProtocolError("encrypt: give text or plaintext_b64");
    }
    return Map.of("message", b64(g.encrypt(Bytes.wrap(pt), Bytes.EMPTY).toByteArray()));
  }

  private Map<String, Object> process(Map<String, Object> req) {
    Group g = group(req);
    MlsMessage m = parseMls(unb64(field(req, "message"), "message"), "message");
    Processed p = g.process(m);
    Map<String, Object> r = new LinkedHashMap<>();
    boolean removed = false;
    if (p instanceof Processed.ApplicationMessage a) {
      r.put("kind", "application");
      r.put("text", new String(a.data().toByteArray(), StandardCharsets.UTF_8));
      r.put("plaintext_b64", b64(a.data()));
    } else {
      r.put("kind", p instanceof Processed.ProposalStored ? "proposal" : "commit");
      r.put("text", null);
      r.put("plaintext_b64", null);
      if (p instanceof Processed.Removed rm) {
        g.merge(rm.staged());
        removed = true;
      } else if (p instanceof Processed.CommitApplied c) {
        g.merge(c.staged());
      }
    }
    r.put("epoch", g.epoch());
    r.put("removed", removed);
    r.put("wire_format", m.wireFormat() == 1 ? "mls_public_message" : "mls_private_message");
    return r;
  }

  private Map<String, Object> update(Map<String, Object> req) {
    Group g = group(req);
    return commitReply(g, g.commit(List.of(), true, privateHandshake(req), true));
  }

  private Map<String, Object> remove(Map<String, Object> req) {
    Group g = group(req);
    boolean priv = privateHandshake(req);
    int leaf;
    if (req.get("leaf_index") != null) {
      if (!(req.get("leaf_index") instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
        throw new ProtocolError("leaf_index: expected a non-negative integer");
      }
      leaf = l.intValue();
      if (!g.members().contains(leaf)) {
        throw new ProtocolError("no member at leaf " + leaf);
      }
    } else if (req.get("identity") instanceof String id) {
      List<Integer> found = new ArrayList<>();
      for (int m : g.members()) {
        if (identityOf(g.leaf(m)).equals(id)) {
          found.add(m);
        }
      }
      if (found.isEmpty()) {
        throw new ProtocolError("no member with identity " + id);
      }
      if (found.size() > 1) {
        throw new ProtocolError("several members with identity " + id + ": give leaf_index");
      }
      leaf = found.get(0);
    } else {
      throw new ProtocolError("remove: give identity or leaf_index");
    }
    return commitReply(g, g.commit(List.of(new Proposal.Remove(leaf)), false, priv, true));
  }

  private Map<String, Object> exportSecret(Map<String, Object> req) {
    Group g = group(req);
    String label = string(req, "label");
    byte[] ctx = req.get("context_b64") != null ? unb64(req.get("context_b64"), "context_b64") : new byte[0];
    if (!(field(req, "length") instanceof Long len) || len < 0 || len > 65535) {
      throw new ProtocolError("length: expected an integer in 0..65535");
    }
    return Map.of("secret", b64(g.exportSecret(label, ctx, len.intValue())));
  }

  private Map<String, Object> state(Map<String, Object> req) {
    Group g = group(req);
    List<Object> names = new ArrayList<>();
    List<Object> leaves = new ArrayList<>();
    for (int m : g.members()) {
      String id = identityOf(g.leaf(m));
      names.add(id);
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("leaf_index", m);
      e.put("identity", id);
      leaves.add(e);
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("epoch", g.epoch());
    r.put("group_id_b64", b64(g.groupId()));
    r.put("members", names);
    r.put("member_leaves", leaves);
    r.put("epoch_authenticator", b64(g.epochAuthenticator()));
    r.put("tree_hash", b64(g.context().treeHash()));
    r.put("own_leaf_index", g.ownLeaf());
    r.put("active", g.isActive() ? "active" : "removedFromGroup");
    return r;
  }

  private Map<String, Object> groupInfo(Map<String, Object> req) {
    Group g = group(req);
    Boolean tree = bool(req, "ratchet_tree_extension");
    return Map.of("group_info", b64(g.groupInfo(tree == null || tree).toByteArray()));
  }

  // ---------------------------------------------------------------- main loop

  /** Serves requests from {@code in} until {@code quit} or end of input; replies go to {@code out}. */
  public void serve(InputStream in, OutputStream out) throws IOException {
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    PrintStream w = new PrintStream(out, false, StandardCharsets.UTF_8);
    String line;
    while (!quitting && (line = r.readLine()) != null) {
      String reply = handle(line);
      if (reply != null) {
        w.print(reply);
        w.print('\n');
        w.flush();
      }
    }
    w.flush();
  }

  public static void main(String[] args) throws IOException {
    // stdout carries protocol lines only: anything a library prints goes to stderr.
    PrintStream protocol = System.out;
    System.setOut(System.err);
    new MlsPeer().serve(System.in, protocol);
    protocol.flush();
    System.exit(0);
  }
}
