#!/usr/bin/env bash
# Validation's pipeline end to end against a fresh `openlab serve` (its embedded SQLite, or
# PostgreSQL with --pg URL): 1,000 predictions files of 10,000 rows from 50 participants over 8
# connections, from the first POST until the last is scored and ranked, beside the same number
# of plain authenticated POSTs (organisations) in the same run (bench/validation_pipeline.cc).
# Usage: bench/validation_pipeline.sh [SUBMISSIONS] [ROWS] [--pg URL]
# From the repository root, after `ninja -C build openlab validation_pipeline`. Environment:
# BIN, BENCH (the two programs), USERS (50), CONNECTIONS (8), TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
ROWS=${2:-10000}
DB_ARGS=()
if [ "${3:-}" = "--pg" ]; then DB_ARGS=(--db "$4"); fi
BIN=${BIN:-build/openlab}
BENCH=${BENCH:-build/validation_pipeline}
[ -x "$BIN" ] && [ -x "$BENCH" ] || { echo "build first: ninja -C build openlab validation_pipeline"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/openlab-pipe.XXXXXX")
port=$(( 30000 + RANDOM % 10000 ))
URL=http://127.0.0.1:$port
"$BIN" serve --listen 127.0.0.1:$port --state "$work/state" --request-log errors \
  "${DB_ARGS[@]}" 2>"$work/server.log" &
srv=$!
cleanup() { kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "$URL/healthz" && break; sleep 0.1; done

"$BENCH" --url "$URL" --token "$(cat "$work/state/bootstrap-token")" --submissions "$N" \
  --rows "$ROWS" --users "${USERS:-50}" --connections "${CONNECTIONS:-8}"
echo "server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$srv/status)"
