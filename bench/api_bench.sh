#!/usr/bin/env bash
# API benchmark: wrk on loopback against a release build of openlab on SQLite.
#   1. an authenticated GET of a 50-item list (GET /api/v1/orgs?limit=50),
#   2. a small authenticated POST (create an organisation, a durable write),
#   3. baselines in the same run: openlab's /healthz (HTTP stack only, no store, no auth), and
#      nginx serving the same 50-item JSON as a static file (the ceiling on this machine).
# Usage: bench/api_bench.sh [DURATION_SECONDS]   (from the repository root, after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
BIN=${BIN:-build/openlab}
CONNS=64
THREADS=2
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }

work=$(mktemp -d /tmp/openlab-bench.XXXXXX)
port=$(( 30000 + RANDOM % 10000 ))
"$BIN" serve --listen 127.0.0.1:$port --state "$work/state" --quiet 2>"$work/server.log" &
srv=$!
cleanup() { kill $srv 2>/dev/null || true; [ -n "${ngx:-}" ] && kill $ngx 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 50); do [ -f "$work/state/bootstrap-token" ] && break; sleep 0.1; done
sleep 0.3
TOKEN=$(cat "$work/state/bootstrap-token")
URL=http://127.0.0.1:$port

for i in $(seq -w 1 50); do
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"org-$i\",\"kind\":\"startup\",\"region\":\"KR-29\",\"display_name\":\"Org $i\"}" \
    "$URL/api/v1/orgs"
done
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/api/v1/orgs?limit=50" > "$work/list.json"
bytes=$(wc -c < "$work/list.json")

cat > "$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
local n = 0
local tag = ""
init = function(args)
  -- Each wrk thread has its own Lua state: the address of a fresh table tells them apart.
  tag = string.gsub(tostring({}), "[^%x]", ""):sub(-8) .. tostring(os.time())
end
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil,
    '{"name":"b' .. tag .. '-' .. n .. '","kind":"startup","region":"KR-29"}')
end
LUA

run() {  # name, wrk args...
  local name=$1; shift
  local out
  out=$(wrk -t$THREADS -c$CONNS -d${DUR}s --latency "$@")
  echo "$out" >> "$work/wrk.log"
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%-44s %12s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "openlab API benchmark: wrk -t$THREADS -c$CONNS -d${DUR}s, list payload $bytes bytes, $(nproc) cores"
run "openlab GET /api/v1/orgs?limit=50 (auth)" -s "$work/auth.lua" "$URL/api/v1/orgs?limit=50"
run "openlab POST /api/v1/orgs (auth, durable)" -s "$work/post.lua" "$URL/api/v1/orgs"
run "baseline: openlab GET /healthz" "$URL/healthz"

# The same GET with every request answered from the store (no read cache).
kill $srv; wait $srv 2>/dev/null || true
"$BIN" serve --listen 127.0.0.1:$port --state "$work/state" --quiet --no-read-cache 2>>"$work/server.log" &
srv=$!
sleep 0.5
run "openlab GET ...limit=50 (auth, --no-read-cache)" -s "$work/auth.lua" "$URL/api/v1/orgs?limit=50"
if command -v nginx >/dev/null; then
  mkdir -p "$work/nginx/html" "$work/nginx/logs"
  chmod 755 "$work" "$work/nginx" "$work/nginx/html"
  chmod 644 "$work/list.json"
  cp "$work/list.json" "$work/nginx/html/list.json"
  nport=$((port + 1))
  cat > "$work/nginx/nginx.conf" <<NGX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$nport; root $work/nginx/html; default_type application/json; }
}
NGX
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
  ngx=$!
  sleep 0.5
  run "baseline: nginx static list.json (same bytes)" "http://127.0.0.1:$nport/list.json"
else
  echo "(nginx not installed: apt-get install nginx-light for the static-file baseline)"
fi
