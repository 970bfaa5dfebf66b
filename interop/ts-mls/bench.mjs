#!/usr/bin/env node
// ts-mls 1.6.4 side of the MLS group benchmarks of issue 4, the same operations as the Java JMH
// class chat.agentvault.bench.mls.MlsGroupBench (docs/benchmarks.md, "MLS groups (issue 4)"):
//
//   add        the creator, alone in its group, commits Add proposals for N-1 fresh KeyPackages
//              (KeyPackage generation is setup; they are decoded from MLSMessage bytes in the timed
//              region, as the Java API takes them), Welcome with the ratchet_tree extension
//              included; commit and Welcome encoded to bytes
//   join       a new member joins from that Welcome (bytes decoded, full validation by ts-mls)
//   commit     an empty commit with an UpdatePath created by member C ...
//   process    ... and processed by member P (bytes decoded), in a steady-state group of N: every
//              parent node populated (see steadyState below)
//   commitAfterAdd / processAfterAdd
//              the same right after the Add commit: all parent nodes blank, so the path secrets go
//              to every member separately (N-1 HPKE encryptions); the creator commits, a member
//              that joined from the Welcome processes
//   message    a 1 KiB application message created by one member and processed by another, N = 8
//
// Handshakes are PrivateMessages (ts-mls's default, and what the Java benchmark uses). Every
// operation starts from the same state each time (ts-mls is functional: the states returned are
// not reused), except `message`, which chains the sender and receiver states as a real exchange.
//
// Usage (after scripts/install-interop-peers.sh):
//   node interop/ts-mls/bench.mjs                         all operations, suites 1 and 3, N = 8..1024
//   node interop/ts-mls/bench.mjs --suites 3 --n 8,64 --ops add,join
//   node interop/ts-mls/bench.mjs --warmup 2 --time 3 --json results.json
// Options: --suites (1,3), --n (8,64,256,1024), --ops (add,join,commit,process,commitAfterAdd,
// processAfterAdd,message), --warmup seconds (2; at least 2 iterations), --time seconds of
// measurement per case (4; at least 5 iterations), --json FILE (also write the results as JSON).
// Output: one line per case with mean ms per operation, standard deviation, iterations, ops/s.

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
// Imported by module path (see peer.mjs: the package root also loads an optional provider).
import { acceptAll } from "ts-mls/incomingMessageAction.js";
import { createApplicationMessage } from "ts-mls/createMessage.js";
import { createCommit } from "ts-mls/createCommit.js";
import { createGroup, joinGroup, makePskIndex } from "ts-mls/clientState.js";
import { decodeMlsMessage, encodeMlsMessage } from "ts-mls/message.js";
import { defaultCapabilities } from "ts-mls/defaultCapabilities.js";
import { defaultLifetime } from "ts-mls/lifetime.js";
import { emptyPskIndex } from "ts-mls/pskIndex.js";
import { generateKeyPackage } from "ts-mls/keyPackage.js";
import { getCiphersuiteImpl } from "ts-mls/crypto/getCiphersuiteImpl.js";
import { getCiphersuiteFromId } from "ts-mls/crypto/ciphersuite.js";
import { processMessage } from "ts-mls/processMessages.js";
import { createUpdatePath } from "ts-mls/updatePath.js";
import { pathToPathSecrets } from "ts-mls/pathSecrets.js";
import { toPrivateKeyPath } from "ts-mls/privateKeyPath.js";
import { treeHashRoot } from "ts-mls/treeHash.js";
import { initializeEpoch } from "ts-mls/keySchedule.js";
import { createSecretTree } from "ts-mls/secretTree.js";
import { isAncestor, leafToNodeIndex, leafWidth } from "ts-mls/treemath.js";

// ---------------------------------------------------------------------------------------------
// Options.

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const SUITES = option("suites", "1,3").split(",").map(Number);
const SIZES = option("n", "8,64,256,1024").split(",").map(Number);
const ALL_OPS = ["add", "join", "commit", "process", "commitAfterAdd", "processAfterAdd", "message"];
const OPS = option("ops", ALL_OPS.join(",")).split(",");
const WARMUP_S = Number(option("warmup", "2"));
const TIME_S = Number(option("time", "4"));
const JSON_OUT = option("json", undefined);
for (const op of OPS) if (!ALL_OPS.includes(op)) throw new Error(`unknown op ${op}; known: ${ALL_OPS.join(",")}`);

const utf8 = new TextEncoder();
const results = [];

// ---------------------------------------------------------------------------------------------
// Timing: warm-up for WARMUP_S seconds (at least 2 iterations), then measure for TIME_S seconds
// (at least 5 iterations). `setup` runs before each iteration, outside the timed region.

async function measure(label, fn, setup = async () => undefined) {
  const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
  const runFor = async (seconds, minIters) => {
    const times = [];
    const start = now();
    while (times.length < minIters || now() - start < seconds * 1000) {
      const arg = await setup();
      const t0 = now();
      await fn(arg);
      times.push(now() - t0);
    }
    return times;
  };
  await runFor(WARMUP_S, 2);
  const times = await runFor(TIME_S, 5);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sd = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, times.length - 1));
  const r = { ...label, meanMs: mean, sdMs: sd, iterations: times.length, opsPerSec: 1000 / mean };
  results.push(r);
  console.log(
    `${label.op.padEnd(16)} suite ${label.suite}  N=${String(label.n).padStart(4)}  ` +
      `${fmt(mean).padStart(10)} ms/op  ± ${fmt(sd).padStart(8)} (sd)  ${String(times.length).padStart(6)} it  ` +
      `${fmt(1000 / mean).padStart(10)} ops/s`,
  );
  return r;
}

function fmt(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(4);
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

async function keyPackage(impl, i) {
  const credential = { credentialType: "basic", identity: utf8.encode(`member-${i}`) };
  return generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], impl);
}

const addProposal = (kp) => ({ proposalType: "add", add: { keyPackage: kp.publicPackage } });

/** The creator alone in a group, N-1 more KeyPackages, the Add commit and its Welcome. */
async function addedGroup(impl, n) {
  const kps = [];
  for (let i = 0; i < n; i++) kps.push(await keyPackage(impl, i));
  const groupId = new Uint8Array(randomBytes(16));
  const creator = await createGroup(groupId, kps[0].publicPackage, kps[0].privatePackage, [], impl);
  const adds = kps.slice(1).map(addProposal);
  const r = await createCommit({ state: creator, cipherSuite: impl }, { extraProposals: adds, ratchetTreeExtension: true });
  const welcomeBytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: r.welcome });
  // As the Java side receives them: serialized MLSMessage(KeyPackage)s.
  const kpBytes = kps
    .slice(1)
    .map((kp) => encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: kp.publicPackage }));
  return { kps, creator, kpBytes, afterAdd: r.newState, welcomeBytes };
}

// Bit reversal of j over `bits` bits: the commit order of steadyState.
function bitReverse(j, bits) {
  let r = 0;
  for (let b = 0; b < bits; b++) r |= ((j >> b) & 1) << (bits - 1 - b);
  return r;
}

/**
 * A steady-state group of N (the Java MlsGroupBench builds the same shape): after the Add commit,
 * one member of every pair of leaves commits an UpdatePath (leaves 2*bitrev(j), j = 0..N/2-1, an
 * order in which most copath nodes are already populated, so the construction stays cheap), so
 * every parent node is non-blank with no unmerged leaves. C is the last committer (leaf N-2), P the
 * one before it; P's keys above their common ancestor come from C's path secrets, as if P had
 * processed C's commit. Both then enter a common epoch (fresh random key-schedule inputs) with
 * that tree. Built with ts-mls's own createUpdatePath, key schedule and secret tree.
 */
async function steadyState(impl, added, n) {
  const { kps, afterAdd } = added;
  // createUpdatePath rehashes the whole tree on every call (tree hash, original sibling tree
  // hashes); while building, identical inputs are hashed again and again, so memoize the digest
  // (same results; only the construction uses it, never a measured operation).
  const memo = new Map();
  const buildImpl = {
    ...impl,
    hash: {
      ...impl.hash,
      async digest(data) {
        const key = Buffer.from(data).toString("base64");
        let h = memo.get(key);
        if (h === undefined) {
          h = await impl.hash.digest(data);
          memo.set(key, h);
        }
        return h;
      },
    },
  };
  const gc0 = afterAdd.groupContext;
  let tree = afterAdd.ratchetTree;
  const bits = Math.log2(n / 2);
  const commits = new Map();
  const order = [];
  for (let j = 0; j < n / 2; j++) order.push(2 * bitReverse(j, bits));
  for (const leaf of order) {
    const sigKey = kps[leaf].privatePackage.signaturePrivateKey;
    const [t, , pathSecrets, leafPriv] = await createUpdatePath(tree, leaf, gc0, sigKey, buildImpl);
    tree = t;
    commits.set(leaf, { pathSecrets, leafPriv: await impl.hpke.exportPrivateKey(leafPriv) });
  }
  const c = order[order.length - 1];
  const p = order[order.length - 2];
  const ownKeys = async (leaf) => {
    const { pathSecrets, leafPriv } = commits.get(leaf);
    const pkp = await toPrivateKeyPath(pathToPathSecrets(pathSecrets), leaf, impl);
    return { leafIndex: leaf, privateKeys: { ...pkp.privateKeys, [leafToNodeIndex(leaf)]: leafPriv } };
  };
  const keysC = await ownKeys(c);
  const keysP = await ownKeys(p);
  const fromC = commits.get(c).pathSecrets.filter((ps) => isAncestor(leafToNodeIndex(p), ps.nodeIndex, tree.length));
  const pFromC = await toPrivateKeyPath(pathToPathSecrets(fromC), p, impl);
  keysP.privateKeys = { ...keysP.privateKeys, ...pFromC.privateKeys };

  const groupContext = {
    ...gc0,
    epoch: gc0.epoch + 1n,
    treeHash: await treeHashRoot(tree, impl.hash),
    confirmedTranscriptHash: new Uint8Array(randomBytes(impl.kdf.size)),
  };
  const epoch = await initializeEpoch(
    new Uint8Array(randomBytes(impl.kdf.size)),
    new Uint8Array(randomBytes(impl.kdf.size)),
    groupContext,
    new Uint8Array(impl.kdf.size),
    impl.kdf,
  );
  const confirmationTag = new Uint8Array(randomBytes(impl.kdf.size));
  const member = async (leaf, keys) => ({
    ...afterAdd,
    groupContext,
    ratchetTree: tree,
    keySchedule: { ...epoch.keySchedule },
    secretTree: await createSecretTree(leafWidth(tree.length), epoch.encryptionSecret.slice(), impl.kdf),
    privatePath: keys,
    signaturePrivateKey: kps[leaf].privatePackage.signaturePrivateKey,
    unappliedProposals: {},
    historicalReceiverData: new Map(),
    confirmationTag,
    groupActiveState: { kind: "active" },
  });
  return { c: await member(c, keysC), p: await member(p, keysP), leafC: c, leafP: p };
}

async function emptyCommitBytes(state, impl) {
  const r = await createCommit({ state, cipherSuite: impl });
  return encodeMlsMessage(r.commit);
}

async function processBytes(state, bytes, impl) {
  const msg = decodeMlsMessage(bytes, 0)[0];
  const r = await processMessage(msg, state, makePskIndex(state, {}), acceptAll, impl);
  if (r.kind === "newState" && r.actionTaken === "reject") throw new Error("rejected");
  return r.newState;
}

// ---------------------------------------------------------------------------------------------
// Main.

console.log(
  `ts-mls 1.6.4 on node ${process.version}; warm-up ${WARMUP_S} s (>= 2 it), measurement ${TIME_S} s (>= 5 it) per case`,
);
for (const suite of SUITES) {
  const impl = await getCiphersuiteImpl(getCiphersuiteFromId(suite));
  for (const n of SIZES) {
    const needsGroup = OPS.some((o) => o !== "message");
    if (!needsGroup) break;
    const t0 = Date.now();
    const added = await addedGroup(impl, n);
    const label = (op) => ({ impl: "ts-mls", op, suite, n });

    if (OPS.includes("add")) {
      await measure(label("add"), async () => {
        const adds = added.kpBytes.map((b) => ({
          proposalType: "add",
          add: { keyPackage: decodeMlsMessage(b, 0)[0].keyPackage },
        }));
        const r = await createCommit(
          { state: added.creator, cipherSuite: impl },
          { extraProposals: adds, ratchetTreeExtension: true },
        );
        encodeMlsMessage(r.commit);
        encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: r.welcome });
      });
    }
    const joiner = added.kps[n - 1];
    let joined;
    const join = async () => {
      const welcome = decodeMlsMessage(added.welcomeBytes, 0)[0].welcome;
      return joinGroup(welcome, joiner.publicPackage, joiner.privatePackage, emptyPskIndex, impl);
    };
    if (OPS.includes("join")) await measure(label("join"), join);
    if (OPS.includes("commitAfterAdd") || OPS.includes("processAfterAdd")) {
      joined = await join();
      if (OPS.includes("commitAfterAdd")) {
        await measure(label("commitAfterAdd"), () => emptyCommitBytes(added.afterAdd, impl));
      }
      if (OPS.includes("processAfterAdd")) {
        const bytes = await emptyCommitBytes(added.afterAdd, impl);
        await processBytes(joined, bytes, impl); // must succeed once before it is timed
        await measure(label("processAfterAdd"), () => processBytes(joined, bytes, impl));
      }
    }
    if (OPS.includes("commit") || OPS.includes("process")) {
      const ts = Date.now();
      const steady = await steadyState(impl, added, n);
      // One epoch further through a real commit of C processed by P (checks the steady state is
      // consistent; the Java benchmark does the same).
      const first = await createCommit({ state: steady.c, cipherSuite: impl });
      const c = first.newState;
      const p = await processBytes(steady.p, encodeMlsMessage(first.commit), impl);
      const bytes = await emptyCommitBytes(c, impl);
      await processBytes(p, bytes, impl);
      console.log(`  (steady state of ${n}: C = leaf ${steady.leafC}, P = leaf ${steady.leafP}, built in ${Date.now() - ts} ms)`);
      if (OPS.includes("commit")) await measure(label("commit"), () => emptyCommitBytes(c, impl));
      if (OPS.includes("process")) await measure(label("process"), () => processBytes(p, bytes, impl));
    }
    console.log(`  (suite ${suite}, N = ${n}: ${((Date.now() - t0) / 1000).toFixed(1)} s with setup)`);
  }
  if (OPS.includes("message")) {
    const n = 8;
    const added = await addedGroup(impl, n);
    let sender = added.afterAdd;
    const joiner = added.kps[n - 1];
    let receiver = await joinGroup(
      decodeMlsMessage(added.welcomeBytes, 0)[0].welcome, joiner.publicPackage, joiner.privatePackage, emptyPskIndex, impl);
    const plaintext = new Uint8Array(randomBytes(1024));
    await measure({ impl: "ts-mls", op: "message", suite, n }, async () => {
      const r = await createApplicationMessage(sender, plaintext, impl);
      sender = r.newState;
      const bytes = encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage: r.privateMessage });
      const msg = decodeMlsMessage(bytes, 0)[0];
      const p = await processMessage(msg, receiver, emptyPskIndex, acceptAll, impl);
      if (p.kind !== "applicationMessage" || p.message.length !== 1024) throw new Error("message not received");
      receiver = p.newState;
    });
  }
}
if (JSON_OUT !== undefined) {
  writeFileSync(JSON_OUT, JSON.stringify({ node: process.version, tsMls: "1.6.4", results }, null, 2));
}
