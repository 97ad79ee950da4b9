#!/usr/bin/env bash
# The web console (console/): its npm packages, its build, its checks and its browser suite.
#   scripts/console.sh deps    npm ci in console/ when node_modules is missing or older than
#                              console/package-lock.json (the lock pins every package)
#   scripts/console.sh build   $BUILD/openapi.json from `openlab openapi`, then the console into
#                              $BUILD/console (what `openlab serve` serves at /)
#   scripts/console.sh check   Redocly's lint of $BUILD/openapi.json (console/redocly.yaml), the
#                              committed API types current with it, and tsc
#   scripts/console.sh types   regenerate console/src/api/schema.d.ts from $BUILD/openapi.json
#   scripts/console.sh test    the browser suite: Debian's Chromium against a real `openlab serve`;
#                              screenshots in $BUILD/console-artifacts
# Nothing is downloaded but the npm packages the lock names (no browser: Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BUILD_ABS=$(realpath -m "$BUILD")
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

die() { echo "openlab: error: $*" >&2; exit 1; }

need_node() {
  command -v node >/dev/null || die "node is missing (scripts/deps.sh installs Debian's nodejs)"
  command -v npm >/dev/null || die "npm is missing (scripts/deps.sh installs Debian's npm)"
  # Debian 12 ships Node 18.20; the console's packages need 18.17 or later.
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>18||(a===18&&b>=17)?0:1)' ||
    die "node $(node -v) is too old for the console: it needs 18.17 or later"
}

deps() {
  need_node
  if [ ! -f console/node_modules/.package-lock.json ] ||
     [ console/package-lock.json -nt console/node_modules/.package-lock.json ]; then
    (cd console && npm ci --loglevel=error --no-audit --no-fund >/dev/null) ||
      die "npm ci in console/ failed"
  fi
}

openapi() {  # $BUILD/openapi.json from the binary built here
  [ -x "$BUILD/openlab" ] || die "$BUILD/openlab is not built (make build)"
  "$BUILD/openlab" openapi > "$BUILD/openapi.json.tmp"
  mv "$BUILD/openapi.json.tmp" "$BUILD/openapi.json"
}

build() {
  deps
  openapi
  (cd console && OPENLAB_CONSOLE_OUT="$BUILD_ABS/console" npx --no-install vite build --logLevel error)
}

gen_types() {  # gen_types OUT
  (cd console && npx --no-install openapi-typescript "$BUILD_ABS/openapi.json" -o "$1" >/dev/null 2>&1) ||
    die "openapi-typescript could not read $BUILD/openapi.json"
}

check() {
  deps
  openapi
  (cd console && node scripts/lint-openapi.mjs "$BUILD_ABS/openapi.json")
  local tmp
  tmp=$(mktemp /tmp/openlab-schema.XXXXXX.d.ts)
  gen_types "$tmp"
  if ! cmp -s "$tmp" console/src/api/schema.d.ts; then
    diff -u console/src/api/schema.d.ts "$tmp" | head -n 40 >&2 || true
    rm -f "$tmp"
    die "console/src/api/schema.d.ts is not the types of the current OpenAPI document; run scripts/console.sh types and commit it"
  fi
  rm -f "$tmp"
  echo "console: API types are current"
  (cd console && npx --no-install tsc --noEmit)
  echo "console: tsc: no error"
}

types() {
  deps
  openapi
  gen_types "$PWD/console/src/api/schema.d.ts"
  echo "console: wrote console/src/api/schema.d.ts"
}

test_suite() {
  deps
  [ -f "$BUILD/console/index.html" ] || die "$BUILD/console is not built (scripts/console.sh build)"
  [ -x "$BUILD/openlab" ] || die "$BUILD/openlab is not built (make build)"
  mkdir -p "$BUILD/console-artifacts"
  (cd console && OPENLAB_BIN="$BUILD_ABS/openlab" OPENLAB_CONSOLE_DIR="$BUILD_ABS/console" \
     OPENLAB_ARTIFACTS="$BUILD_ABS/console-artifacts" node --test tests/*.test.mjs)
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  check) check ;;
  types) types ;;
  test) test_suite ;;
  *) echo "usage: scripts/console.sh deps|build|check|types|test" >&2; exit 2 ;;
esac
