#!/usr/bin/env bash
# The city-scale benchmark: a fresh openlab server (release build, its embedded SQLite, or
# PostgreSQL with --pg URL), a centre ten times Gwangju's built through its API
# (bench/city_scale.cc), every list and operator view at p50/p99, and the job pipeline as a new
# project sees it. Also reports the server's CPU while it holds the backlog, and its peak memory.
# Usage: bench/city_scale.sh [SCALE] [--pg URL]     (SCALE 1 = 10x Gwangju; 0.01 for a quick run)
# From the repository root, after `ninja -C build openlab city_scale`. Environment: LOCAL_CPUS
# (the CPUs the server lends, --local-cpus; default this machine's), SANDBOX (off, or required),
# PIPELINE_JOBS (the burst, default 2000), TMPDIR (where the server's state goes, default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1}
DB_ARGS=()
if [ "${2:-}" = "--pg" ]; then DB_ARGS=(--db "$3"); fi
BIN=${BIN:-build/openlab}
BENCH=${BENCH:-build/city_scale}
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "build first: ninja -C build openlab city_scale"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/openlab-city.XXXXXX")
port=$(( 30000 + RANDOM % 10000 ))
# Jobs unsandboxed (SANDBOX=required to compare): the figure is the pipeline's, not the sandbox's.
# No read cache: on a working centre jobs change state all the time and every write empties it,
# so each view below is measured as the store answers it.
"$BIN" serve --listen 127.0.0.1:$port --state "$work/state" --request-log errors --no-read-cache \
  --sandbox "${SANDBOX:-off}" ${LOCAL_CPUS:+--local-cpus "$LOCAL_CPUS"} "${DB_ARGS[@]}" \
  2>"$work/server.log" &
srv=$!
cleanup() {
  kill $srv 2>/dev/null || true; wait $srv 2>/dev/null || true
  cp "$work/server.log" "${TMPDIR:-/tmp}/openlab-city-server.log" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$work/state/bootstrap-token" ] && break; sleep 0.1; done
sleep 0.3
TOKEN=$(cat "$work/state/bootstrap-token")

echo "openlab city scale: scale $SCALE, $(nproc) cores, ${DB_ARGS[*]:-sqlite}"
start=$(date +%s.%N)
"$BENCH" --url "http://127.0.0.1:$port" --token "$TOKEN" --scale "$SCALE" \
  --pipeline-jobs "${PIPELINE_JOBS:-2000}" --server-pid "$srv" --cpus "${LOCAL_CPUS:-$(nproc)}"
end=$(date +%s.%N)
echo "peak  server memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$srv/status)"
awk -v s="$start" -v e="$end" 'BEGIN { printf "total %.0f s\n", e - s }'
