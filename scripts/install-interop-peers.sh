#!/usr/bin/env bash
# Installs the third-party MLS interop peers (today: ts-mls under interop/ts-mls) from their
# committed lockfiles. Idempotent and cheap when nothing changed: `npm ci` runs only when
# node_modules is missing or package.json / package-lock.json changed since the last install
# (their hash is stored in node_modules/.agentvault-install.sha256).
#
# Run from anywhere; it works on the repository it lives in. Called by .ci/run before Maven and by
# the Java interop tests' setup. Exit codes: 0 installed or already up to date, 1 install failed,
# 2 node/npm missing or too old.
set -euo pipefail
cd "$(dirname "$0")/.."

PEER_DIR=interop/ts-mls
STAMP="$PEER_DIR/node_modules/.agentvault-install.sha256"
MIN_NODE_MAJOR=20

die() { echo "install-interop-peers: $2" >&2; exit "$1"; }

command -v node >/dev/null 2>&1 || die 2 "node not found on PATH: install Node.js ${MIN_NODE_MAJOR}+ (Debian: apt-get install nodejs npm) to run the ts-mls interop tests"
command -v npm >/dev/null 2>&1 || die 2 "npm not found on PATH: install npm (Debian: apt-get install npm) to run the ts-mls interop tests"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt "$MIN_NODE_MAJOR" ]; then
  die 2 "node $(node --version 2>/dev/null || echo '?') is too old: ts-mls needs Node.js ${MIN_NODE_MAJOR}+"
fi
[ -f "$PEER_DIR/package-lock.json" ] || die 1 "$PEER_DIR/package-lock.json missing"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then cat "$@" | sha256sum | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then cat "$@" | shasum -a 256 | cut -d' ' -f1
  else cat "$@" | node -e 'const h=require("crypto").createHash("sha256");process.stdin.on("data",d=>h.update(d)).on("end",()=>console.log(h.digest("hex")))'
  fi
}

install_if_needed() {
  local want have=""
  want=$(sha256_of "$PEER_DIR/package.json" "$PEER_DIR/package-lock.json")
  [ -f "$STAMP" ] && have=$(cat "$STAMP")
  if [ -d "$PEER_DIR/node_modules/ts-mls" ] && [ "$want" = "$have" ]; then
    echo "install-interop-peers: $PEER_DIR up to date"
    return 0
  fi
  echo "install-interop-peers: npm ci in $PEER_DIR (node $(node --version), npm $(npm --version 2>/dev/null))"
  rm -f "$STAMP"
  if ! npm ci --prefix "$PEER_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error >&2; then
    die 1 "npm ci in $PEER_DIR failed (is the npm registry reachable?)"
  fi
  [ -d "$PEER_DIR/node_modules/ts-mls" ] || die 1 "npm ci finished but $PEER_DIR/node_modules/ts-mls is missing"
  echo "$want" > "$STAMP"
}

# Several callers (CI, parallel test forks) may run this at once: take a lock where flock exists.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$PEER_DIR/.install.lock"
  flock 9
fi
install_if_needed
