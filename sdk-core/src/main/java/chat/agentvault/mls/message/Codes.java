package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.DecodeException;

/** Code points of the IANA registries of RFC 9420 §17 that the wire structs switch on. */
public final class Codes {
  private Codes() {}

  public static final int MLS10 = 1;

  // WireFormat (§17.2)
  public static final int WIRE_PUBLIC_MESSAGE = 1;
  public static final int WIRE_PRIVATE_MESSAGE = 2;
  public static final int WIRE_WELCOME = 3;
  public static final int WIRE_GROUP_INFO = 4;
  public static final int WIRE_KEY_PACKAGE = 5;

  // ContentType (§6)
  public static final int CONTENT_APPLICATION = 1;
  public static final int CONTENT_PROPOSAL = 2;
  public static final int CONTENT_COMMIT = 3;

  // SenderType (§6)
  public static final int SENDER_MEMBER = 1;
  public static final int SENDER_EXTERNAL = 2;
  public static final int SENDER_NEW_MEMBER_PROPOSAL = 3;
  public static final int SENDER_NEW_MEMBER_COMMIT = 4;

  // CredentialType (§17.5)
  public static final int CREDENTIAL_BASIC = 1;
  public static final int CREDENTIAL_X509 = 2;

  // LeafNodeSource (§7.2)
  public static final int LEAF_SOURCE_KEY_PACKAGE = 1;
  public static final int LEAF_SOURCE_UPDATE = 2;
  public static final int LEAF_SOURCE_COMMIT = 3;

  // NodeType (§7.8)
  public static final int NODE_LEAF = 1;
  public static final int NODE_PARENT = 2;

  // ProposalType (§17.4)
  public static final int PROPOSAL_ADD = 1;
  public static final int PROPOSAL_UPDATE = 2;
  public static final int PROPOSAL_REMOVE = 3;
  public static final int PROPOSAL_PSK = 4;
  public static final int PROPOSAL_REINIT = 5;
  public static final int PROPOSAL_EXTERNAL_INIT = 6;
  public static final int PROPOSAL_GROUP_CONTEXT_EXTENSIONS = 7;

  // ProposalOrRefType (§12.4)
  public static final int PROPOSAL_OR_REF_PROPOSAL = 1;
  public static final int PROPOSAL_OR_REF_REFERENCE = 2;

  // PSKType and ResumptionPSKUsage (§8.4)
  public static final int PSK_EXTERNAL = 1;
  public static final int PSK_RESUMPTION = 2;
  public static final int RESUMPTION_APPLICATION = 1;
  public static final int RESUMPTION_REINIT = 2;
  public static final int RESUMPTION_BRANCH = 3;

  // ExtensionType (§17.3)
  public static final int EXT_APPLICATION_ID = 1;
  public static final int EXT_RATCHET_TREE = 2;
  public static final int EXT_REQUIRED_CAPABILITIES = 3;
  public static final int EXT_EXTERNAL_PUB = 4;
  public static final int EXT_EXTERNAL_SENDERS = 5;

  static int checkRange(int value, int min, int max, String what) {
    if (value < min || value > max) {
      throw new DecodeException("invalid " + what + ": " + value);
    }
    return value;
  }
}
