#!/usr/bin/env bash
# Runs every ChatKit test on this machine: installs what is missing, builds, tests, and prints
# one closing line "N passed, N failed". Used by .ci/run; safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK (see global.json) is required: https://dotnet.microsoft.com/download" >&2
  exit 1
fi

# Servers the tests start for themselves (as throwaway instances on free ports): PostgreSQL 15 for the
# storage tests, redis-server for the backplane tests, nginx in front of several nodes. Installed from
# Debian's packages when missing, with librdkafka and kcat for the Kafka tests.
missing=()
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || missing+=(postgresql-15)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
# librdkafka (the Kafka client's native library, see scripts/librdkafka-redist.sh) and kcat, an outside consumer.
[ -f /usr/lib/x86_64-linux-gnu/librdkafka.so.1 ] || missing+=(librdkafka1)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
# The browser client builds and tests with Node (20.10 or later, for its WebSocket) and npm.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing: ${missing[*]}; run this script as root once so it can apt-get install them." >&2
    exit 1
  fi
  # The packages' own services are not wanted (the tests start their own): tell the installer not to start them.
  no_services=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    no_services=/usr/sbin/policy-rc.d
  fi
  installed=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } || installed=$?
  [ -z "$no_services" ] || rm -f "$no_services"
  [ "$installed" -eq 0 ] || exit "$installed"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

./scripts/librdkafka-redist.sh

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build ChatKit.sln -c Release -m:2 -warnaserror --nologo -clp:ErrorsOnly

# The sample as docker compose builds it (with the Kafka message log compiled in), into a folder of its own: the
# tests run the normal build from bin/.
dotnet build samples/ChatKit.Samples.Web -c Release -p:ChatKitKafka=true -warnaserror --nologo -clp:ErrorsOnly \
  -o "$results/sample-kafka"

status=0
dotnet test ChatKit.sln -c Release --no-build -m:1 --nologo \
  --logger "trx" --results-directory "$results" \
  --blame-hang --blame-hang-timeout 5m || status=$?

# The ASP.NET Core tests a second time with every test server behind ChatKit's direct WebSocket listener
# (listenOptions.UseChatKit()): a connection must behave the same whichever way the server takes it.
CHATKIT_TEST_DIRECT=1 dotnet test tests/ChatKit.AspNetCore.Tests/ChatKit.AspNetCore.Tests.csproj -c Release --no-build --nologo \
  --logger "trx;LogFileName=aspnetcore-direct-listener.trx" --results-directory "$results" \
  --blame-hang --blame-hang-timeout 5m || status=$?

# The browser client (clients/js): its build and Node's test runner against the real sample server.
js_status=0
(cd clients/js && npm ci --no-audit --no-fund --loglevel=error && npm test --silent) >"$results/js.log" 2>&1 || js_status=$?
grep -E '^# (tests|pass|fail|skipped)' "$results/js.log" | sed 's/^/clients\/js: /'
if [ "$js_status" -ne 0 ]; then
  cat "$results/js.log" >&2
  status=$js_status
fi

# The side-by-side benchmark (issue 8): its load generator drives every peer (ChatKit, SignalR, Socket.IO, the
# ceiling; 2 nodes on Redis where they have them) for a few seconds. Correctness only, no figure is checked: every
# message must arrive once at every member. Counted as one test per system.
smoke_status=0
./scripts/compare.sh smoke >"$results/smoke.log" 2>&1 || smoke_status=$?
grep -E '^smoke ' "$results/smoke.log" || true
if [ "$smoke_status" -ne 0 ]; then
  cat "$results/smoke.log" >&2
  status=$smoke_status
fi

# Sum the per-assembly counts from the TRX files (and the client's TAP summary) into one closing line.
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$results/js.log"); passed=${passed:-0}
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$results/js.log"); failed=${failed:-0}
skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$results/js.log"); skipped=${skipped:-0}
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
done

smoke_passed=$(grep -c '^smoke ok ' "$results/smoke.log" || true)
smoke_failed=$(grep -c '^smoke FAILED ' "$results/smoke.log" || true)
passed=$((passed + smoke_passed)); failed=$((failed + smoke_failed))

if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "No test ran." >&2
  status=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
