#!/usr/bin/env bash
# Data commons benchmark: openlab push/pull against restic 0.14 on the same files, same run.
#   corpora (../shared/notes/benchmark-conventions.md): one 2 GB file of random bytes, and
#   20,000 files of 100 KB; version 2 changes about 1% of the bytes with 400 edits of 50 KB at
#   random offsets, half overwrites and half insertions (insertions shift everything after them).
# For each corpus: push v1 (ingest MB/s), push v2 (new stored bytes / corpus bytes), pull v2
# (MB/s), peak RSS of the client; then restic backup of v1 and v2 to a fresh repository (MB/s,
# stored bytes). The server runs on loopback on the same 2 cores; data from the page cache.
# Usage: bench/data_bench.sh [SIZE_MB (default 2048)] [--big GB]   (after `make build`)
#   --big GB also pushes one GB-sized corpus and reports the client's and server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-2048}
BIG_GB=""
[ "${2:-}" = "--big" ] && BIG_GB=${3:-20}
BIN=$(realpath "${BIN:-build/openlab}")
if ! command -v restic >/dev/null; then
  echo "data_bench: installing restic (the baseline) with apt" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y -qq restic >/dev/null
fi
restic version | head -1

work=$(mktemp -d /var/tmp/openlab-data-bench.XXXXXX)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_server() {  # STATE_DIR -> sets URL, TOKEN
  local port=$(( 30000 + RANDOM % 10000 ))
  "$BIN" serve --listen 127.0.0.1:$port --state "$1" --quiet --no-data-compression \
    --max-connections 256 2>"$1.log" &
  srv=$!
  for _ in $(seq 100); do [ -f "$1/bootstrap-token" ] && break; sleep 0.1; done
  sleep 0.3
  export OPENLAB_URL=http://127.0.0.1:$port OPENLAB_TOKEN=$(cat "$1/bootstrap-token")
}
stop_server() { kill "$srv"; wait "$srv" 2>/dev/null || true; srv=""; }

api() {  # METHOD PATH [BODY]
  curl -sf -X "$1" -H "Authorization: Bearer $OPENLAB_TOKEN" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$OPENLAB_URL$2"
}

make_dataset() {  # -> prints the dataset id (an org, a project with the operator as PI)
  local me org prj
  me=$(api GET /api/v1/me | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  org=$(api POST /api/v1/orgs '{"name":"bench","kind":"university","region":"KR-29"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  api PUT "/api/v1/orgs/$org/members/$me" '{"role":"org_admin"}' >/dev/null
  prj=$(api POST /api/v1/projects "{\"org_id\":\"$org\",\"name\":\"bench\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  api POST /api/v1/datasets "{\"project_id\":\"$prj\",\"name\":\"corpus\",\"license\":\"CC0-1.0\",\"access_level\":\"project\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

usage_bytes() { api GET "/api/v1/datasets/$1/usage" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stored_bytes"])'; }

# N random bytes on stdout (openssl rand takes at most 2^31-1 bytes at a time).
rand_bytes() {
  local left=$1 piece
  while [ "$left" -gt 0 ]; do
    piece=$(( left < 268435456 ? left : 268435456 ))
    openssl rand "$piece"
    left=$(( left - piece ))
  done
}

# Corpus generation (random bytes from OpenSSL's CSPRNG; deterministic edits).
gen_corpus() {  # KIND DIR
  mkdir -p "$2"
  if [ "$1" = one ]; then
    rand_bytes $(( SIZE_MB * 1024 * 1024 )) > "$2/data.bin"
  else
    local n=$(( SIZE_MB * 1024 * 1024 / 102400 ))
    rand_bytes $(( n * 102400 )) > "$work/all.bin"
    python3 - "$work/all.bin" "$2" "$n" <<'PY'
import os, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, 'rb') as f:
    for i in range(n):
        d = os.path.join(out, f"{i // 1000:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{i:05d}.bin"), 'wb') as o:
            o.write(f.read(102400))
PY
    rm -f "$work/all.bin"
  fi
}

edit_corpus() {  # DIR: 400 edits of 50 KB, half overwrites, half insertions, at random offsets
  python3 - "$1" <<'PY'
import os, random, sys
root = sys.argv[1]
files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs)
sizes = [os.path.getsize(f) for f in files]
total = sum(sizes)
rng = random.Random(42)
edits = {}
for k in range(400):
    pos = rng.randrange(total)
    for f, s in zip(files, sizes):
        if pos < s:
            edits.setdefault(f, []).append((pos, k % 2 == 0))
            break
        pos -= s
for f, es in edits.items():
    data = bytearray(open(f, 'rb').read())
    for pos, insert in sorted(es, reverse=True):
        blob = rng.randbytes(50 * 1024)
        if insert:
            data[pos:pos] = blob
        else:
            data[pos:pos + len(blob)] = blob
    open(f, 'wb').write(data)
PY
}

now() { date +%s.%N; }
mbps() { python3 -c "print(f'{$1 / 1e6 / ($3 - $2):.0f}')"; }  # SI: 10^6 bytes/s

run_corpus() {  # KIND (AVG_KIB: the client's average chunk size, default 64)
  local kind="$1 avg ${AVG_KIB:-64} KiB" dir="$work/corpus-$1" state="$work/state-$1"
  local gen=$1
  gen_corpus "$gen" "$dir"
  cp -a "$dir" "$dir.v1"  # restic gets the very same bytes and the same edits afterwards
  local bytes
  bytes=$(du -sb "$dir" | cut -f1)
  find "$dir" -type f -exec cat {} + >/dev/null
  start_server "$state"
  local ds
  ds=$(make_dataset)
  # v1
  local t0 t1 rss1
  t0=$(now)
  /usr/bin/time -f %M -o "$work/rss1" "$BIN" data push "$dir" "$ds" --tag v1 \
    --avg-chunk "${AVG_KIB:-64}" >"$work/push1.out"
  t1=$(now)
  local v1_s
  v1_s=$(python3 -c "print(f'{$t1-$t0:.2f}')")
  local v1_rate
  v1_rate=$(mbps "$bytes" "$t0" "$t1")
  rss1=$(cat "$work/rss1")
  local stored1
  stored1=$(usage_bytes "$ds")
  local ds2
  ds2=$(api POST /api/v1/datasets "{\"project_id\":\"$(api GET "/api/v1/datasets/$ds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])')\",\"name\":\"again\",\"license\":\"CC0-1.0\",\"access_level\":\"project\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  t0=$(now)
  "$BIN" data push "$dir" "$ds2" --avg-chunk "${AVG_KIB:-64}" >/dev/null
  t1=$(now)
  echo "[$kind] push of the same bytes to a second dataset (all chunks already stored): $(mbps "$bytes" "$t0" "$t1") MB/s"
  echo "[$kind] push v1: $bytes bytes in $v1_s s = $v1_rate MB/s, client peak RSS $(( rss1 / 1024 )) MiB, stored $stored1 bytes"
  # v2
  edit_corpus "$dir"
  local bytes2
  bytes2=$(du -sb "$dir" | cut -f1)
  find "$dir" -type f -exec cat {} + >/dev/null
  t0=$(now)
  "$BIN" data push "$dir" "$ds" --tag v2 --avg-chunk "${AVG_KIB:-64}" >"$work/push2.out"
  t1=$(now)
  local stored2
  stored2=$(usage_bytes "$ds")
  echo "[$kind] push v2 (1% changed): $(python3 -c "print(f'{$t1-$t0:.2f}')") s, new stored bytes $(( stored2 - stored1 )) = $(python3 -c "print(f'{100*($stored2-$stored1)/$bytes:.2f}')")% of the corpus"
  # pull v2
  sync; t0=$(now)
  /usr/bin/time -f %M -o "$work/rss3" "$BIN" data pull "$ds@v2" "$work/pulled-$kind" >"$work/pull.out"
  t1=$(now)
  echo "[$kind] pull v2: $bytes2 bytes in $(python3 -c "print(f'{$t1-$t0:.2f}')") s = $(mbps "$bytes2" "$t0" "$t1") MB/s, client peak RSS $(( $(cat "$work/rss3") / 1024 )) MiB"
  diff -r -q "$dir" "$work/pulled-$kind" >/dev/null && echo "[$kind] pulled copy identical" || { echo "[$kind] PULLED COPY DIFFERS"; exit 1; }
  rm -rf "$work/pulled-$kind"
  stop_server
  rm -rf "$state"
  # restic: the same v1 bytes, then the same edits (the edit generator is seeded).
  rm -rf "$dir"
  mv "$dir.v1" "$dir"
  find "$dir" -type f -exec cat {} + >/dev/null
  export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="$work/restic-$kind"
  restic init -q
  t0=$(now)
  /usr/bin/time -f %M -o "$work/rss4" restic backup -q "$dir" >/dev/null
  t1=$(now)
  local r1
  r1=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)
  echo "[$kind] restic backup v1: $(python3 -c "print(f'{$t1-$t0:.2f}')") s = $(mbps "$bytes" "$t0" "$t1") MB/s, peak RSS $(( $(cat "$work/rss4") / 1024 )) MiB, repository $r1 bytes"
  edit_corpus "$dir"
  find "$dir" -type f -exec cat {} + >/dev/null
  t0=$(now)
  restic backup -q "$dir" >/dev/null
  t1=$(now)
  local r2
  r2=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)
  echo "[$kind] restic backup v2: $(python3 -c "print(f'{$t1-$t0:.2f}')") s, new stored bytes $(( r2 - r1 )) = $(python3 -c "print(f'{100*($r2-$r1)/$bytes:.2f}')")% of the corpus"
  rm -rf "$RESTIC_REPOSITORY" "$dir"
}

# The machine's own ceilings, same run: writing new bytes to the filesystem (page cache only,
# and made durable), which every store of new chunks and every pulled file must do.
dd_rate() { dd if=/dev/zero of="$work/dd.bin" bs=16M count=64 "$@" 2>&1 | tail -1 | sed 's/.*, //'; rm -f "$work/dd.bin"; }
echo "[machine] dd of 1 GiB of new file pages: $(dd_rate); made durable (conv=fdatasync): $(dd_rate conv=fdatasync)"

run_corpus one
AVG_KIB=32 run_corpus one
run_corpus many

if [ -n "$BIG_GB" ]; then
  dir="$work/big"; mkdir -p "$dir"
  for i in $(seq 1 "$BIG_GB"); do rand_bytes $(( 1024 * 1024 * 1024 )) > "$dir/part-$i.bin"; done
  start_server "$work/state-big"
  ds=$(make_dataset)
  t0=$(now)
  /usr/bin/time -f %M -o "$work/rssb" "$BIN" data push "$dir" "$ds" >/dev/null
  t1=$(now)
  srv_rss=$(grep VmHWM /proc/$srv/status | awk '{print $2}')
  echo "[big] push of ${BIG_GB} GB: $(mbps $(( BIG_GB * 1073741824 )) "$t0" "$t1") MB/s, client peak RSS $(( $(cat "$work/rssb") / 1024 )) MiB, server peak RSS $(( srv_rss / 1024 )) MiB"
  stop_server
fi
