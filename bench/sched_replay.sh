#!/usr/bin/env bash
# Scheduler replay benchmark: `openlab sim` on the whole Philly trace (82,247 jobs) for the
# three policies on 64x8 and 48x8 GPUs (shared/notes/benchmark-conventions.md, "Scheduler"),
# with the README's time-limit convention (2 x duration rounded up to a whole hour).
# Prints one line per run: the report's figures and the wall time of the replay.
# Usage: bench/sched_replay.sh [CLUSTER...]   (from the repository root, after `make build`)
#   BIN=path/to/openlab overrides the binary; TRACE=path overrides the trace.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/openlab}
TRACE=${TRACE:-../shared/data/traces/philly.csv}
[ -x "$BIN" ] || { echo "no $BIN: build first (make build)"; exit 1; }
[ -f "$TRACE" ] || { echo "no trace at $TRACE"; exit 1; }
CLUSTERS=("$@")
[ ${#CLUSTERS[@]} -gt 0 ] || CLUSTERS=(64x8 48x8)

printf '%-6s %-9s %12s %10s %12s %9s %7s %6s %7s\n' cluster policy "avg JCT s" "p50 wait" "p99 wait" "avg bsld" util jain "wall s"
for c in "${CLUSTERS[@]}"; do
  for p in fifo backfill openlab; do
    start=$(date +%s.%N)
    json=$("$BIN" sim --trace "$TRACE" --cluster "$c" --policy "$p" --json)
    end=$(date +%s.%N)
    python3 - "$c" "$p" "$start" "$end" "$json" <<'PY'
import json, sys
c, p, start, end, js = sys.argv[1:6]
d = json.loads(js)
print(f"{c:<6} {p:<9} {d['avg_jct_s']:12.0f} {d['p50_queue_delay_s']:10.0f} "
      f"{d['p99_queue_delay_s']:12.0f} {d['avg_bounded_slowdown']:9.1f} "
      f"{100 * d['gpu_utilisation']:6.2f}% {d['jain_fairness']:6.3f} "
      f"{float(end) - float(start):7.2f}")
PY
  done
done
