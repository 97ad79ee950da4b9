#!/usr/bin/env bash
# Job sandbox benchmark (docs/benchmarks.md, "Job sandbox"): builds openlab, sandbox_bench, its
# probe and the executor-only supervisor, then runs sandbox_bench; arguments are passed on
# (see the comment at the top of bench/sandbox_bench.cc).
# Usage: bench/sandbox_bench.sh [--jobs N] [--rounds R] ...   (as root, from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ "$(id -u)" = 0 ] || { echo "run as root: jobs run as their projects' uids"; exit 1; }
[ -f "$BUILD/build.ninja" ] || cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" openlab sandbox_bench sandbox_probe openlab-supervise >/dev/null
exec "$BUILD/sandbox_bench" "$@"
