#!/usr/bin/env bash
# The leaderboard of a benchmark with 100,000 scored submissions from 20,000 entrants, served by a
# real `openlab serve` (its embedded SQLite, or PostgreSQL with --pg URL): the benchmark is made
# through the API, the submissions seeded straight into the stopped server's store by the
# validation use cases (bench/validation_leaderboard.cc), then GET .../leaderboard is timed (first
# page, a middle and the last page, ?metric= another metric, ?format=csv) beside GET /healthz in
# the same run: one keep-alive connection, median and p99; then wrk, 4 connections for 10 s, on
# /healthz, the first page and the first page by another metric.
# Usage: bench/validation_leaderboard.sh [SUBMISSIONS] [ENTRANTS] [--pg URL]
# From the repository root, after `ninja -C build openlab validation_leaderboard`. Environment:
# BIN, BENCH (the two programs), REQUESTS (timed requests per case, default 200), TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
E=${2:-20000}
DB_ARGS=()
if [ "${3:-}" = "--pg" ]; then DB_ARGS=(--db "$4"); fi
BIN=${BIN:-build/openlab}
BENCH=${BENCH:-build/validation_leaderboard}
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "build first: ninja -C build openlab validation_leaderboard"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/openlab-board.XXXXXX")
port=$(( 30000 + RANDOM % 10000 ))
URL=http://127.0.0.1:$port
srv=
start_server() {
  "$BIN" serve --listen 127.0.0.1:$port --state "$work/state" --request-log errors \
    "${DB_ARGS[@]}" 2>>"$work/server.log" &
  srv=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "$URL/healthz" && return 0; sleep 0.1; done
  echo "the server did not start:"; tail -5 "$work/server.log"; exit 1
}
stop_server() { kill -TERM "$srv"; wait "$srv" || true; srv=; }
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "openlab validation leaderboard: $N submissions from $E entrants; $(nproc) cores; ${DB_ARGS[*]:-sqlite}"
start_server
setup=$("$BENCH" setup --url "$URL" --token "$(cat "$work/state/bootstrap-token")")
BMK=$(echo "$setup" | jq -r .benchmark)
TOKEN=$(echo "$setup" | jq -r .token)
stop_server
"$BENCH" seed --db "${DB_ARGS[1]:-sqlite:$work/state/openlab.db}" --benchmark "$BMK" \
  --submissions "$N" --entrants "$E"
start_server
"$BENCH" measure --url "$URL" --token "$TOKEN" --benchmark "$BMK" --requests "${REQUESTS:-200}"
if command -v wrk >/dev/null; then
  cat > "$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
  for path in /healthz "/api/v1/benchmarks/$BMK/leaderboard" \
      "/api/v1/benchmarks/$BMK/leaderboard?metric=rmse"; do
    wrk -t2 -c4 -d10s --latency -s "$work/auth.lua" "$URL$path" > "$work/wrk.txt"
    printf 'wrk -c4 10 s  %-52s %s req/s  p50 %s  p99 %s\n' "$path" \
      "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")" \
      "$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")" "$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")"
  done
fi
echo "server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$srv/status)"
