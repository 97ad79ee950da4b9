#!/usr/bin/env bash
# Job start time with a large data input: copied into each job (the baseline, `--data-inputs
# copy`) against the node's read-only cache (`--data-inputs cache`, the default), same version,
# same state directory, same run.
#   One dataset version of one file of SIZE_MB MiB of random bytes (default 2048) is pushed once.
#   Then, on a server started with --data-inputs copy: RUNS jobs that read it (each gets a copy);
#   on the same state directory restarted with --data-inputs cache: one job that builds the
#   cache entry (first use, a miss) and RUNS jobs that find it (hits). Jobs without data give
#   the floor (scheduling tick, sandbox, process start).
#   Start time = the job's first instruction (`date` inside the job) minus the moment the client
#   sent the submission; the job then reads the whole file (cat > /dev/null), timed inside it.
# Usage: bench/job_data_bench.sh [SIZE_MB] [RUNS]    (after `make build`; as root for the sandbox)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-2048}
RUNS=${2:-3}
BIN=$(realpath "${BIN:-build/openlab}")
# Not under /tmp or /var/tmp: jobs get private ones from the sandbox, which hide a state there.
work=$(mktemp -d "$PWD/build/job-data-bench.XXXXXX")
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
state=$work/state

start_server() {  # MODE
  local port=$(( 30000 + RANDOM % 10000 ))
  "$BIN" serve --listen 127.0.0.1:$port --state "$state" --quiet --no-data-compression \
    --data-inputs "$1" 2>>"$work/server.log" &
  srv=$!
  for _ in $(seq 100); do [ -f "$state/bootstrap-token" ] && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  export OPENLAB_URL=http://127.0.0.1:$port OPENLAB_TOKEN=$(cat "$state/bootstrap-token")
}
stop_server() { kill "$srv"; wait "$srv" 2>/dev/null || true; srv=""; }
api() {  # METHOD PATH [BODY]
  curl -sf -X "$1" -H "Authorization: Bearer $OPENLAB_TOKEN" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$OPENLAB_URL$2"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
now() { date +%s.%N; }

# One job: prints "START_S READ_S" (start latency; time to read the whole input inside the job).
run_job() {  # DATA_JSON (e.g. [] or [{"dataset":..,"as":"d"}])
  local script='t0=$(date +%s.%N); n=0; if [ -n "${OPENLAB_DATA_D:-}" ]; then n=$(cat "$OPENLAB_DATA_D/data.bin" | wc -c); fi; t1=$(date +%s.%N); echo "$t0 $t1 $n"'
  local body t_sub id state
  body=$(python3 -c 'import json,sys; print(json.dumps({"project_id":sys.argv[1],"name":"bench","command":["/bin/sh","-c",sys.argv[2]],"time_limit_s":600,"data":json.loads(sys.argv[3])}))' "$prj" "$script" "$1")
  t_sub=$(now)
  id=$(api POST /api/v1/jobs "$body" | field id)
  for _ in $(seq 6000); do
    state=$(api GET "/api/v1/jobs/$id" | field state)
    case $state in completed|failed|cancelled) break ;; esac
    sleep 0.05
  done
  [ "$state" = completed ] || { echo "job $id: $state" >&2; api GET "/api/v1/jobs/$id" >&2; exit 1; }
  api GET "/api/v1/jobs/$id/logs" | python3 -c '
import sys
t_sub = float(sys.argv[1]); want = int(sys.argv[2])
t0, t1, n = sys.stdin.read().split()
assert int(n) == want, f"the job read {n} bytes, not {want}"
print(f"{float(t0) - t_sub:.3f} {float(t1) - float(t0):.3f}")' "$t_sub" "$2"
}

df -h "$work" | tail -1 | awk '{print "disk: " $4 " free on " $6}'
mkdir -p "$work/corpus"
left=$(( SIZE_MB * 1024 * 1024 ))
while [ "$left" -gt 0 ]; do  # openssl rand takes at most 2^31-1 bytes at a time
  piece=$(( left < 268435456 ? left : 268435456 ))
  openssl rand "$piece"
  left=$(( left - piece ))
done > "$work/corpus/data.bin"
bytes=$(stat -c %s "$work/corpus/data.bin")

start_server copy
me=$(api GET /api/v1/me | field id)
org=$(api POST /api/v1/orgs '{"name":"bench","kind":"university","region":"KR-29"}' | field id)
api PUT "/api/v1/orgs/$org/members/$me" '{"role":"org_admin"}' >/dev/null
prj=$(api POST /api/v1/projects "{\"org_id\":\"$org\",\"name\":\"bench\"}" | field id)
api POST "/api/v1/projects/$prj/allocations" \
  '{"resource":"cpu","hours":1000,"expires_at":"2099-01-01T00:00:00Z"}' >/dev/null
ds=$(api POST /api/v1/datasets "{\"project_id\":\"$prj\",\"name\":\"corpus\",\"license\":\"CC0-1.0\",\"access_level\":\"project\"}" | field id)
OPENLAB_CONFIG=$work/none.json "$BIN" data push "$work/corpus" "$ds" --tag v1 >/dev/null
rm -rf "$work/corpus"
input="[{\"dataset\":\"$ds\",\"as\":\"d\",\"version\":\"v1\"}]"
echo "dataset: $SIZE_MB MiB ($bytes bytes), one file; $RUNS runs each; $(nproc) cores"
grep -o '"how":"[^"]*"' "$work/server.log" | tail -1

report() {  # LABEL then lines "START READ" on stdin
  python3 -c '
import statistics, sys
label = sys.argv[1]
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
s = [r[0] for r in rows]; r = [r[1] for r in rows]
print(f"{label:<34} start {statistics.median(s):7.3f} s (min {min(s):.3f}, max {max(s):.3f})   "
      f"read {statistics.median(r):6.3f} s")' "$1"
}

for _ in $(seq "$RUNS"); do run_job '[]' 0; done | report "no data (floor)"
for _ in $(seq "$RUNS"); do run_job "$input" "$bytes"; done | report "copy per job (baseline)"
stop_server

start_server cache
grep -o '"how":"[^"]*"' "$work/server.log" | tail -1
run_job "$input" "$bytes" | report "cache, first use (miss: build)"
for _ in $(seq "$RUNS"); do run_job "$input" "$bytes"; done | report "cache hit (bind mount)"
echo "cache on disk: $(du -sh "$state/data/cache" | cut -f1); copies left in job directories: $(find "$state/jobs" -path '*/data/*' -type f | wc -l)"
stop_server
