package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code UpdatePath} (§7.6): the committer's new leaf and one node per filtered direct-path node. */
public record UpdatePath(LeafNode leafNode, List<Node> nodes) {
  public UpdatePath {
    Objects.requireNonNull(leafNode, "leafNode");
    nodes = List.copyOf(nodes);
  }

  /** {@code UpdatePathNode}. */
  public record Node(Bytes encryptionKey, List<HpkeCiphertext> encryptedPathSecret) {
    public Node {
      Objects.requireNonNull(encryptionKey, "encryptionKey");
      encryptedPathSecret = List.copyOf(encryptedPathSecret);
    }

    public void encode(TlsWriter w) {
      w.opaque(encryptionKey).vector(encryptedPathSecret, (ww, c) -> c.encode(ww));
    }

    public static Node decode(TlsReader r) {
      return new Node(r.opaque(), r.vector(HpkeCiphertext::decode));
    }
  }

  public void encode(TlsWriter w) {
    leafNode.encode(w);
    w.vector(nodes, (ww, n) -> n.encode(ww));
  }

  public static UpdatePath decode(TlsReader r) {
    return new UpdatePath(LeafNode.decode(r), r.vector(Node::decode));
  }
}
