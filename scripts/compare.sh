#!/usr/bin/env bash
# The side-by-side comparison of issue 8 in one command: ChatKit (1 node, 2 nodes on Redis, durable on Kafka and
# PostgreSQL) against SignalR, Socket.IO (1 and 2 nodes on Redis) and a raw Kestrel WebSocket ceiling, driven by
# benchmarks/ChatKit.LoadGen. Builds the peers and the load generator, then runs `compare` (about 20 to 30 minutes),
# which rewrites its blocks of docs/benchmarks.md and docs/benchmarks-p99.svg. Arguments go to `compare`
# (--systems, --scenarios, --seconds, --warmup, --idle, ...); a first argument of run, smoke or report runs that
# command instead (`scripts/compare.sh smoke` is the short correctness check).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || missing+=(postgresql-15)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -f /usr/lib/x86_64-linux-gnu/librdkafka.so.1 ] || missing+=(librdkafka1)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Missing: ${missing[*]} (scripts/test.sh installs them when run as root)." >&2
  exit 1
fi

# Every connection is a file descriptor in the load generator and another in the server: 100,000 idle connections
# need far more than the usual 1,024 or 20,000. Raise the hard limit where allowed (root), then the soft one.
wanted=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
ulimit -Hn "$wanted" 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files: $(ulimit -n)"

# Connections come from 127.0.0.2 and up (about 28,000 ephemeral ports per source address and server port). Linux
# routes all of 127.0.0.0/8 to the loopback interface; add the addresses where that is not so.
for i in $(seq 2 11); do
  if command -v ip >/dev/null 2>&1 && ! ip route get "127.0.0.$i" 2>/dev/null | grep -q '^local'; then
    ip addr add "127.0.0.$i/32" dev lo 2>/dev/null || echo "warning: 127.0.0.$i is not local and could not be added" >&2
  fi
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
./scripts/librdkafka-redist.sh
(cd benchmarks/Peers/SocketIoPeer && npm ci --no-audit --no-fund --loglevel=error)
for project in benchmarks/Peers/ChatKitPeer/ChatKit.Peers.ChatKit.csproj \
               benchmarks/Peers/SignalRPeer/ChatKit.Peers.SignalR.csproj \
               benchmarks/Peers/CeilingPeer/ChatKit.Peers.Ceiling.csproj \
               benchmarks/ChatKit.LoadGen/ChatKit.LoadGen.csproj; do
  dotnet build "$project" -c Release -m:2 -warnaserror --nologo -clp:ErrorsOnly -v q
done

command=compare
case "${1:-}" in
  run|smoke|report|compare) command=$1; shift ;;
esac
exec dotnet benchmarks/ChatKit.LoadGen/bin/Release/net10.0/ChatKit.LoadGen.dll "$command" "$@"
