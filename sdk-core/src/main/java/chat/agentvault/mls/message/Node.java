package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.ArrayList;
import java.util.List;

/** {@code Node} (§12.4.3.3): exactly one of {@code leaf} and {@code parent} is set. */
public record Node(LeafNode leaf, ParentNode parent) {
  public Node {
    if ((leaf == null) == (parent == null)) {
      throw new IllegalArgumentException("a node is either a leaf or a parent");
    }
  }

  public static Node of(LeafNode leaf) {
    return new Node(leaf, null);
  }

  public static Node of(ParentNode parent) {
    return new Node(null, parent);
  }

  public boolean isLeaf() {
    return leaf != null;
  }

  public void encode(TlsWriter w) {
    if (leaf != null) {
      w.u8(Codes.NODE_LEAF);
      leaf.encode(w);
    } else {
      w.u8(Codes.NODE_PARENT);
      parent.encode(w);
    }
  }

  public static Node decode(TlsReader r) {
    int type = r.u8();
    if (type == Codes.NODE_LEAF) {
      return of(LeafNode.decode(r));
    }
    if (type == Codes.NODE_PARENT) {
      return of(ParentNode.decode(r));
    }
    throw new DecodeException("invalid node type " + type);
  }

  /** {@code optional<Node> ratchet_tree<V>}: the array representation, null for blank nodes. */
  public static void encodeTree(TlsWriter w, List<Node> nodes) {
    w.vector(nodes, (ww, n) -> ww.optional(n, (www, nn) -> nn.encode(www)));
  }

  public static List<Node> decodeTree(TlsReader r) {
    int len = r.varint();
    if (len > r.remaining()) {
      throw new DecodeException("truncated ratchet tree");
    }
    // Null entries are legal (blank nodes), so List.copyOf cannot be used here.
    byte[] body = r.fixed(len).unsafeArray();
    TlsReader sub = TlsReader.of(body);
    List<Node> out = new ArrayList<>();
    while (sub.hasRemaining()) {
      out.add(sub.optional(Node::decode));
    }
    return java.util.Collections.unmodifiableList(out);
  }
}
