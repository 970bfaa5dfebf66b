#!/usr/bin/env bash
# Starts a throwaway redis-server on a free loopback port and prints its URL (redis://127.0.0.1:PORT).
# Installs redis-server with apt-get when it is missing (as root). No persistence (--save '').
# Usage: scripts/start-redis.sh [PIDFILE]   (stop it with: kill "$(cat PIDFILE)")
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 || true
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server is not installed and could not be installed" >&2
    exit 1
  fi
fi

pidfile=${1:-$(mktemp -u "${TMPDIR:-/tmp}/agentvault-redis-XXXXXX.pid")}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for _ in 1 2 3 4 5 6 7 8; do
  port=$(( 20000 + RANDOM % 40000 ))
  port_in_use "$port" && continue
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$pidfile" --logfile "" >/dev/null 2>&1 || continue
  for _ in $(seq 50); do
    if port_in_use "$port"; then
      echo "redis://127.0.0.1:$port"
      exit 0
    fi
    sleep 0.1
  done
done
echo "could not start redis-server" >&2
exit 1
