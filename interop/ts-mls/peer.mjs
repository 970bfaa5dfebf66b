#!/usr/bin/env node
// ts-mls interop peer: one MLS client (one identity) driven over JSON lines on stdin/stdout.
//
// One request per line {"id":N,"cmd":...}; one reply per line, in request order:
// {"id":N,"ok":true,...} or {"id":N,"ok":false,"error":"..."}. All bytes are standard base64 of
// RFC 9420 encodings. The protocol is described in docs/interop.md; the Java engine implements the
// same one (scripts/mls-peer), so a driver can pair any two peers.
//
// stdout carries protocol lines only: everything else (logs, warnings, stack traces) goes to stderr.

import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
// Imported by module path, not from the package root: "ts-mls"'s index also loads its optional
// noble crypto provider, which needs @noble/hashes, a package ts-mls 1.6.4 does not declare.
import { acceptAll } from "ts-mls/incomingMessageAction.js";
import { createApplicationMessage } from "ts-mls/createMessage.js";
import {
  createCommit,
  createGroupInfoWithExternalPub,
  createGroupInfoWithExternalPubAndRatchetTree,
} from "ts-mls/createCommit.js";
import { createGroup, joinGroup, makePskIndex } from "ts-mls/clientState.js";
import { decodeMlsMessage, encodeMlsMessage } from "ts-mls/message.js";
import { defaultCapabilities } from "ts-mls/defaultCapabilities.js";
import { defaultLifetime } from "ts-mls/lifetime.js";
import { emptyPskIndex } from "ts-mls/pskIndex.js";
import { generateKeyPackageWithKey } from "ts-mls/keyPackage.js";
import { getCiphersuiteImpl } from "ts-mls/crypto/getCiphersuiteImpl.js";
import { mlsExporter } from "ts-mls/keySchedule.js";
import { processMessage } from "ts-mls/processMessages.js";
import { zeroOutUint8Array } from "ts-mls/util/byteArray.js";
import { decodeKeyPackage, encodeKeyPackage, makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { decodeRatchetTree, encodeRatchetTree } from "ts-mls/ratchetTree.js";
import { decodeWelcome } from "ts-mls/welcome.js";
import { getCiphersuiteFromId } from "ts-mls/crypto/ciphersuite.js";
import { greaseValues } from "ts-mls/grease.js";

// Anything a library prints must not corrupt the protocol stream.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.warn = (...args) => console.error(...args);
console.debug = (...args) => console.error(...args);

const SUPPORTED_SUITES = new Set([1, 3]);
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });

class ProtocolError extends Error {}

// ---------------------------------------------------------------------------------------------
// Peer state: one client per process.

const peer = {
  suite: undefined, // number
  impl: undefined, // CiphersuiteImpl
  identity: undefined, // string
  credential: undefined,
  signatureKeys: undefined, // { publicKey, signKey }, one per identity, reused by every key package
  publicHandshake: false,
  grease: true,
  keyPackages: [], // { ref: Uint8Array, publicPackage, privatePackage }, single use
  groups: new Map(), // local name -> ClientState
};

// ---------------------------------------------------------------------------------------------
// Helpers.

const b64 = (bytes) => Buffer.from(bytes).toString("base64");

function unb64(value, field) {
  if (typeof value !== "string") throw new ProtocolError(`${field}: expected a base64 string`);
  const s = value.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new ProtocolError(`${field}: not standard base64`);
  }
  return new Uint8Array(Buffer.from(s, "base64"));
}

function requireInit() {
  if (peer.impl === undefined) throw new ProtocolError("not initialised: send init first");
}

function requireField(req, field) {
  if (req[field] === undefined || req[field] === null) throw new ProtocolError(`missing field: ${field}`);
  return req[field];
}

function groupName(req) {
  const name = requireField(req, "group");
  if (typeof name !== "string") throw new ProtocolError("group: expected a string");
  return name;
}

function getGroup(req) {
  const name = groupName(req);
  const state = peer.groups.get(name);
  if (state === undefined) throw new ProtocolError(`unknown group: ${name}`);
  return [name, state];
}

function parseSuite(value) {
  let id;
  if (typeof value === "number") id = value;
  else if (typeof value === "string" && /^(0x)?[0-9a-fA-F]+$/.test(value.trim())) {
    const s = value.trim();
    id = s.toLowerCase().startsWith("0x") ? parseInt(s, 16) : parseInt(s, 10);
  } else throw new ProtocolError("suite: expected a number such as 1 or 3, or \"0x0003\"");
  if (!SUPPORTED_SUITES.has(id)) throw new ProtocolError(`suite ${id} not supported by this peer (1 and 3 are)`);
  return id;
}

function handshakePublic(req) {
  if (req.public === undefined || req.public === null) return peer.publicHandshake;
  if (typeof req.public !== "boolean") throw new ProtocolError("public: expected a boolean");
  return req.public;
}

// Decodes the whole buffer with a ts-mls decoder; trailing bytes are an error.
function decodeAll(decoder, bytes, what) {
  let res;
  try {
    res = decoder(bytes, 0);
  } catch (e) {
    throw new ProtocolError(`${what}: cannot decode (${e.message})`);
  }
  if (res === undefined) throw new ProtocolError(`${what}: cannot decode`);
  const [value, used] = res;
  if (used !== bytes.length) throw new ProtocolError(`${what}: ${bytes.length - used} trailing bytes`);
  return value;
}

function tryDecodeAll(decoder, bytes) {
  try {
    const res = decoder(bytes, 0);
    if (res !== undefined && res[1] === bytes.length) return res[0];
  } catch {
    // fall through
  }
  return undefined;
}

function decodeMls(bytes, what) {
  return decodeAll(decodeMlsMessage, bytes, what);
}

// Key packages arrive framed (MLSMessage, wire_format mls_key_package) or bare (KeyPackage).
function decodeAnyKeyPackage(value, field) {
  const bytes = unb64(value, field);
  const framed = tryDecodeAll(decodeMlsMessage, bytes);
  if (framed !== undefined && framed.wireformat === "mls_key_package") return framed.keyPackage;
  const bare = tryDecodeAll(decodeKeyPackage, bytes);
  if (bare !== undefined) return bare;
  throw new ProtocolError(`${field}: neither an MLSMessage(KeyPackage) nor a bare KeyPackage`);
}

// Welcomes arrive framed (MLSMessage, wire_format mls_welcome) or bare (Welcome).
function decodeAnyWelcome(value) {
  const bytes = unb64(value, "welcome");
  const framed = tryDecodeAll(decodeMlsMessage, bytes);
  if (framed !== undefined) {
    if (framed.wireformat !== "mls_welcome") throw new ProtocolError(`welcome: got an MLSMessage of wire format ${framed.wireformat}`);
    return framed.welcome;
  }
  const bare = tryDecodeAll(decodeWelcome, bytes);
  if (bare !== undefined) return bare;
  throw new ProtocolError("welcome: neither an MLSMessage(Welcome) nor a bare Welcome");
}

function wipe(consumed) {
  if (Array.isArray(consumed)) consumed.forEach(zeroOutUint8Array);
}

function identityOf(leafNode) {
  const c = leafNode.credential;
  if (c.credentialType === "basic") return utf8Decoder.decode(c.identity);
  return `<${c.credentialType}>`;
}

function members(state) {
  const out = [];
  for (let nodeIndex = 0; nodeIndex < state.ratchetTree.length; nodeIndex += 2) {
    const node = state.ratchetTree[nodeIndex];
    if (node !== undefined && node.nodeType === "leaf") {
      out.push({ leaf_index: nodeIndex / 2, identity: identityOf(node.leaf) });
    }
  }
  return out;
}

function epochOf(state) {
  return Number(state.groupContext.epoch);
}

function encodeCommitReply(state, result, req) {
  return {
    commit: b64(encodeMlsMessage(result.commit)),
    epoch: epochOf(result.newState),
    wire_format: result.commit.wireformat,
  };
}

// ---------------------------------------------------------------------------------------------
// Commands.

const commands = {
  async init(req) {
    const suite = parseSuite(requireField(req, "suite"));
    const identity = requireField(req, "identity");
    if (typeof identity !== "string" || identity.length === 0) throw new ProtocolError("identity: expected a non-empty string");
    if (req.public_handshake !== undefined && typeof req.public_handshake !== "boolean") {
      throw new ProtocolError("public_handshake: expected a boolean");
    }
    if (req.grease !== undefined && typeof req.grease !== "boolean") throw new ProtocolError("grease: expected a boolean");
    const impl = await getCiphersuiteImpl(getCiphersuiteFromId(suite));
    peer.suite = suite;
    peer.impl = impl;
    peer.identity = identity;
    peer.credential = { credentialType: "basic", identity: utf8.encode(identity) };
    peer.signatureKeys = await impl.signature.keygen();
    peer.publicHandshake = req.public_handshake ?? false;
    peer.grease = req.grease ?? true;
    peer.keyPackages = [];
    peer.groups = new Map();
    return { suite, suite_name: impl.name, implementation: "ts-mls", version: TS_MLS_VERSION };
  },

  async create_key_package() {
    requireInit();
    const kp = await newKeyPackage();
    peer.keyPackages.push(kp);
    return {
      key_package: b64(encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: kp.publicPackage })),
      key_package_raw: b64(encodeKeyPackage(kp.publicPackage)),
      key_package_ref: b64(kp.ref),
    };
  },

  async create_group(req) {
    requireInit();
    const name = groupName(req);
    if (peer.groups.has(name)) throw new ProtocolError(`group already exists: ${name}`);
    const groupId = req.group_id_b64 !== undefined ? unb64(req.group_id_b64, "group_id_b64") : new Uint8Array(randomBytes(16));
    const kp = await newKeyPackage();
    const state = await createGroup(groupId, kp.publicPackage, kp.privatePackage, [], peer.impl);
    peer.groups.set(name, state);
    return { group_id_b64: b64(state.groupContext.groupId), epoch: epochOf(state) };
  },

  async add(req) {
    requireInit();
    const [name, state] = getGroup(req);
    const list = requireField(req, "key_packages");
    if (!Array.isArray(list) || list.length === 0) throw new ProtocolError("key_packages: expected a non-empty array");
    const proposals = list.map((v, i) => ({ proposalType: "add", add: { keyPackage: decodeAnyKeyPackage(v, `key_packages[${i}]`) } }));
    const ratchetTreeExtension = req.ratchet_tree_extension ?? true;
    if (typeof ratchetTreeExtension !== "boolean") throw new ProtocolError("ratchet_tree_extension: expected a boolean");
    const result = await createCommit(
      { state, cipherSuite: peer.impl },
      { extraProposals: proposals, ratchetTreeExtension, wireAsPublicMessage: handshakePublic(req) },
    );
    wipe(result.consumed);
    peer.groups.set(name, result.newState);
    if (result.welcome === undefined) throw new ProtocolError("ts-mls produced no Welcome");
    return {
      ...encodeCommitReply(state, result, req),
      welcome: b64(encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome })),
      ratchet_tree: b64(encodeRatchetTree(result.newState.ratchetTree)),
    };
  },

  async join(req) {
    requireInit();
    const welcome = decodeAnyWelcome(requireField(req, "welcome"));
    let tree;
    if (req.ratchet_tree !== undefined && req.ratchet_tree !== null) {
      tree = decodeAll(decodeRatchetTree, unb64(req.ratchet_tree, "ratchet_tree"), "ratchet_tree");
    }
    let match;
    for (const kp of peer.keyPackages) {
      if (welcome.secrets.some((s) => Buffer.from(s.newMember).equals(Buffer.from(kp.ref)))) {
        match = kp;
        break;
      }
    }
    if (match === undefined) throw new ProtocolError("welcome: no entry for any key package of this peer");
    const state = await joinGroup(welcome, match.publicPackage, match.privatePackage, emptyPskIndex, peer.impl, tree);
    peer.keyPackages = peer.keyPackages.filter((kp) => kp !== match);
    let name = req.group;
    if (name === undefined || name === null) name = b64(state.groupContext.groupId);
    if (typeof name !== "string") throw new ProtocolError("group: expected a string");
    if (peer.groups.has(name)) throw new ProtocolError(`group already exists: ${name}`);
    peer.groups.set(name, state);
    return { group: name, group_id_b64: b64(state.groupContext.groupId), epoch: epochOf(state) };
  },

  async encrypt(req) {
    requireInit();
    const [name, state] = getGroup(req);
    let plaintext;
    if (typeof req.text === "string") plaintext = utf8.encode(req.text);
    else if (req.plaintext_b64 !== undefined) plaintext = unb64(req.plaintext_b64, "plaintext_b64");
    else throw new ProtocolError("encrypt: give text or plaintext_b64");
    const result = await createApplicationMessage(state, plaintext, peer.impl);
    wipe(result.consumed);
    peer.groups.set(name, result.newState);
    const message = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: result.privateMessage });
    return { message: b64(message) };
  },

  async process(req) {
    requireInit();
    const [name, state] = getGroup(req);
    const msg = decodeMls(unb64(requireField(req, "message"), "message"), "message");
    let contentType;
    if (msg.wireformat === "mls_private_message") contentType = msg.privateMessage.contentType;
    else if (msg.wireformat === "mls_public_message") contentType = msg.publicMessage.content.contentType;
    else throw new ProtocolError(`message: wire format ${msg.wireformat} cannot be processed in a group`);
    const result = await processMessage(msg, state, makePskIndex(state, {}), acceptAll, peer.impl);
    wipe(result.consumed);
    peer.groups.set(name, result.newState);
    const ns = result.newState;
    const removed = ns.groupActiveState?.kind === "removedFromGroup";
    if (result.kind === "applicationMessage") {
      return {
        kind: "application",
        text: utf8Decoder.decode(result.message),
        plaintext_b64: b64(result.message),
        epoch: epochOf(ns),
        removed,
        wire_format: msg.wireformat,
      };
    }
    if (result.actionTaken === "reject") throw new ProtocolError(`${contentType} rejected`);
    return {
      kind: contentType === "proposal" ? "proposal" : "commit",
      text: null,
      plaintext_b64: null,
      epoch: epochOf(ns),
      removed,
      wire_format: msg.wireformat,
    };
  },

  async update(req) {
    requireInit();
    const [name, state] = getGroup(req);
    // An empty commit: ts-mls then always sends an UpdatePath, which refreshes the committer's leaf.
    const result = await createCommit({ state, cipherSuite: peer.impl }, { wireAsPublicMessage: handshakePublic(req) });
    wipe(result.consumed);
    peer.groups.set(name, result.newState);
    return encodeCommitReply(state, result, req);
  },

  async remove(req) {
    requireInit();
    const [name, state] = getGroup(req);
    let leafIndex;
    if (req.leaf_index !== undefined && req.leaf_index !== null) {
      if (!Number.isInteger(req.leaf_index) || req.leaf_index < 0) throw new ProtocolError("leaf_index: expected a non-negative integer");
      leafIndex = req.leaf_index;
      if (!members(state).some((m) => m.leaf_index === leafIndex)) throw new ProtocolError(`no member at leaf ${leafIndex}`);
    } else if (typeof req.identity === "string") {
      const found = members(state).filter((m) => m.identity === req.identity);
      if (found.length === 0) throw new ProtocolError(`no member with identity ${req.identity}`);
      if (found.length > 1) throw new ProtocolError(`several members with identity ${req.identity}: give leaf_index`);
      leafIndex = found[0].leaf_index;
    } else throw new ProtocolError("remove: give identity or leaf_index");
    const result = await createCommit(
      { state, cipherSuite: peer.impl },
      { extraProposals: [{ proposalType: "remove", remove: { removed: leafIndex } }], wireAsPublicMessage: handshakePublic(req) },
    );
    wipe(result.consumed);
    peer.groups.set(name, result.newState);
    return encodeCommitReply(state, result, req);
  },

  async export_secret(req) {
    requireInit();
    const [, state] = getGroup(req);
    const label = requireField(req, "label");
    if (typeof label !== "string") throw new ProtocolError("label: expected a string");
    const context = req.context_b64 !== undefined ? unb64(req.context_b64, "context_b64") : new Uint8Array();
    const length = requireField(req, "length");
    if (!Number.isInteger(length) || length < 0 || length > 65535) throw new ProtocolError("length: expected an integer in 0..65535");
    const secret = await mlsExporter(state.keySchedule.exporterSecret, label, context, length, peer.impl);
    return { secret: b64(secret) };
  },

  async state(req) {
    requireInit();
    const [, state] = getGroup(req);
    const m = members(state);
    return {
      epoch: epochOf(state),
      group_id_b64: b64(state.groupContext.groupId),
      members: m.map((x) => x.identity),
      member_leaves: m,
      epoch_authenticator: b64(state.keySchedule.epochAuthenticator),
      tree_hash: b64(state.groupContext.treeHash),
      own_leaf_index: state.privatePath.leafIndex,
      active: state.groupActiveState?.kind ?? "active",
    };
  },

  async group_info(req) {
    requireInit();
    const [, state] = getGroup(req);
    const withTree = req.ratchet_tree_extension ?? true;
    if (typeof withTree !== "boolean") throw new ProtocolError("ratchet_tree_extension: expected a boolean");
    const gi = withTree
      ? await createGroupInfoWithExternalPubAndRatchetTree(state, [], peer.impl)
      : await createGroupInfoWithExternalPub(state, [], peer.impl);
    return { group_info: b64(encodeMlsMessage({ version: "mls10", wireformat: "mls_group_info", groupInfo: gi })) };
  },

  async quit() {
    quitting = true;
    return {};
  },
};
commands.decrypt = commands.process;
commands.process_commit = commands.process;

async function newKeyPackage() {
  const caps = defaultCapabilities();
  if (!peer.grease) {
    // defaultCapabilities() adds random GREASE values (RFC 9420 §13.5); strip them on request.
    const isGrease = (n) => greaseValues.includes(Number(n));
    caps.ciphersuites = caps.ciphersuites.filter((c) => !isGrease(c));
    caps.credentials = caps.credentials.filter((c) => !isGrease(c));
    caps.extensions = caps.extensions.filter((e) => !isGrease(e));
    caps.proposals = caps.proposals.filter((p) => !isGrease(p));
  }
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    peer.credential,
    caps,
    defaultLifetime,
    [],
    peer.signatureKeys,
    peer.impl,
  );
  const ref = await makeKeyPackageRef(publicPackage, peer.impl.hash);
  return { ref, publicPackage, privatePackage };
}

// ---------------------------------------------------------------------------------------------
// The loop: requests are handled one at a time, replies written in order.

let TS_MLS_VERSION = "unknown";
try {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const { readFileSync } = await import("node:fs");
  const pkgPath = require.resolve("ts-mls").replace(/dist[\\/]src[\\/]index\.js$/, "package.json");
  TS_MLS_VERSION = JSON.parse(readFileSync(pkgPath, "utf8")).version;
} catch {
  // informational only
}

let quitting = false;

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function handle(line) {
  if (line.trim() === "") return;
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    reply({ id: null, ok: false, error: `bad JSON: ${e.message}` });
    return;
  }
  const id = req !== null && typeof req === "object" && "id" in req ? req.id : null;
  try {
    if (req === null || typeof req !== "object" || Array.isArray(req)) throw new ProtocolError("request must be a JSON object");
    const cmd = req.cmd;
    if (typeof cmd !== "string" || !Object.prototype.hasOwnProperty.call(commands, cmd)) {
      throw new ProtocolError(`unknown cmd: ${JSON.stringify(cmd)}`);
    }
    const result = await commands[cmd](req);
    reply({ id, ok: true, ...result });
  } catch (e) {
    const name = e?.constructor?.name && e.constructor.name !== "ProtocolError" && e.constructor.name !== "Error" ? `${e.constructor.name}: ` : "";
    const message = e?.message ?? String(e);
    if (!(e instanceof ProtocolError)) console.error(`[ts-mls peer] ${req?.cmd} failed:`, e);
    reply({ id, ok: false, error: `${name}${message}` });
  }
}

process.on("uncaughtException", (e) => console.error("[ts-mls peer] uncaught:", e));
process.on("unhandledRejection", (e) => console.error("[ts-mls peer] unhandled rejection:", e));
process.stdout.on("error", (e) => {
  // The driver went away (EPIPE): nothing left to talk to.
  console.error("[ts-mls peer] stdout:", e.message);
  process.exit(0);
});

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
let queue = Promise.resolve();
rl.on("line", (line) => {
  queue = queue.then(async () => {
    if (quitting) return;
    await handle(line);
    if (quitting) {
      rl.close();
      process.stdout.write("", () => process.exit(0));
    }
  });
});
rl.on("close", () => {
  queue.then(() => process.stdout.write("", () => process.exit(0)));
});
