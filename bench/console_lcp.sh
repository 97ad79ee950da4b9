#!/usr/bin/env bash
# The web console's first pages at city scale (issue 11, "Performance"): a fresh openlab server
# (release build, its embedded SQLite, read cache off so that each load is answered by the store
# as on a busy centre, jobs unsandboxed), the console from build/console; an operator and a member
# with passwords made through the API. The catalogue's first page (/datasets: anonymous, as the
# member, as the operator) and the operator queue (/ops) are loaded cold in Debian's Chromium,
# LOADS times each (bench/console_lcp.mjs), first on the empty centre (the baseline, same run),
# then after build/city_scale --seed-only has made the centre: DATASETS datasets and JOBS queued
# jobs beside a scale-SCALE centre (0.5: 10,000 users and projects). Then the JavaScript sizes.
# Usage: bench/console_lcp.sh [LOADS]     (default 7; every load's figures are left in
#                                         TMPDIR/openlab-lcp-{empty,seeded}.json)
# From the repository root, after `ninja -C build openlab city_scale` and `scripts/console.sh
# build`. Environment: DATASETS (default 10000), JOBS (default 110000: the queue keeps at least
# 100,000 while the backlog's jobs run beside the measurement), SCALE (default 0.5), LOCAL_CPUS
# (the CPUs the server lends; default this machine's), CHROMIUM, TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
LOADS=${1:-7}
BIN=${BIN:-build/openlab}
BENCH=${BENCH:-build/city_scale}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "build first: ninja -C build openlab city_scale"; exit 1; }
[ -f build/console/index.html ] || { echo "build the console first: scripts/console.sh build"; exit 1; }
[ -d console/node_modules/playwright-core ] || { echo "install the console's packages: scripts/console.sh deps"; exit 1; }
[ -x "$CHROMIUM" ] || { echo "no Chromium at $CHROMIUM (scripts/deps.sh installs Debian's)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/openlab-lcp.XXXXXX")
# The console as built now: others may rebuild build/console while this runs.
cp -r build/console "$work/console"
port=$(( 30000 + RANDOM % 10000 ))
url="http://127.0.0.1:$port"
"$BIN" serve --listen 127.0.0.1:$port --state "$work/state" --request-log errors --no-read-cache \
  --sandbox off ${LOCAL_CPUS:+--local-cpus "$LOCAL_CPUS"} --console-dir "$work/console" \
  2>"$work/server.log" &
srv=$!
cleanup() {
  kill $srv 2>/dev/null || true; wait $srv 2>/dev/null || true
  for f in server.log empty.json seeded.json; do
    cp "$work/$f" "${TMPDIR:-/tmp}/openlab-lcp-$f" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$work/state/bootstrap-token" ] && break; sleep 0.1; done
for _ in $(seq 100); do curl -sf "$url/api/v1/centre" >/dev/null && break; sleep 0.1; done
TOKEN=$(cat "$work/state/bootstrap-token")

# The people who sign in: an operator (platform role), and a member with no project.
export PASSWORD="console-lcp-password" OPERATOR=lcp-operator MEMBER=lcp-member
user() {  # USERNAME ROLES_JSON
  curl -sf -o /dev/null -X POST "$url/api/v1/users" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"email\":\"$1@example.org\",\"password\":\"$PASSWORD\",\"platform_roles\":$2}" ||
    { echo "could not create $1"; exit 1; }
}
user "$OPERATOR" '["operator"]'
user "$MEMBER" '[]'
counters() {  # queued, running and ended jobs, from the server's own counters
  curl -sf -H "Authorization: Bearer $TOKEN" "$url/metrics" |
    awk '/^openlab_jobs_queued[ {]/ { q += $NF } /^openlab_jobs_running[ {]/ { r += $NF }
         /^openlab_jobs_ended_total[ {]/ { e += $NF } END { printf "%d %d %d", q, r, e }'
}
jobs() { counters | awk '{ printf "%d queued, %d running, %d ended", $1, $2, $3 }'; }

echo "openlab console LCP: $LOADS cold loads a page, $(nproc) cores, $("$CHROMIUM" --version 2>/dev/null)"
# What else ran: the machine's load average, before and after (the browser shares its cores).
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
node bench/console_lcp.mjs measure "$url" "empty" "$work/empty.json" "$LOADS"

"$BENCH" --url "$url" --token "$TOKEN" --scale "${SCALE:-0.5}" --datasets "${DATASETS:-10000}" \
  --jobs "${JOBS:-110000}" --seed-only | tee "$work/seed.txt"
made=$(tail -1 "$work/seed.txt" | sed -n 's/.*"queued_jobs":\([0-9]*\).*/\1/p')
# The scheduler takes the submitted arrays in after their answers: the loads start once it holds
# every job (queued, running or ended), not while it is still reading them.
for _ in $(seq 600); do
  [ "$(counters | awk '{ print $1 + $2 + $3 }')" -ge "$made" ] && break
  sleep 0.1
done
echo "jobs before the seeded loads: $(jobs)"
node bench/console_lcp.mjs measure "$url" "seeded" "$work/seeded.json" "$LOADS"
echo "jobs after the seeded loads:  $(jobs)"

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/console_lcp.mjs report "$work/console" "$work/empty.json" "$work/seeded.json"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "total %.0f s\n", e - s }'
