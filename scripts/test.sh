#!/usr/bin/env bash
# `make test`: builds openlab and runs every test: unit and integration tests (ctest), the
# PostgreSQL suite against a real PostgreSQL 15 started here on loopback, the Slurm suite against a
# real single-node Slurm 22.05 started here on loopback, the web console's checks (OpenAPI lint,
# API types current, tsc) and its browser suite in Debian's Chromium, clang-tidy on the files the
# last commit changed, and a bounded fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" -j "$JOBS"

# The map names only what exists; no capability runs SQL on another's tables.
scripts/check_doc_paths.sh
scripts/check_tables.sh

pgdir=$(mktemp -d /tmp/openlab-pg.XXXXXX)
chmod 755 "$pgdir"
slurmdir=$(mktemp -d /tmp/openlab-slurm.XXXXXX)
cleanup() {
  scripts/slurm.sh stop "$slurmdir" || true
  rm -rf "$slurmdir"
  scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"
}
trap cleanup EXIT
port=$(( 20000 + RANDOM % 20000 ))
export OPENLAB_TEST_PG_URL
OPENLAB_TEST_PG_URL=$(scripts/pg.sh start "$pgdir" "$port")
echo "PostgreSQL 15 for the tests: $OPENLAB_TEST_PG_URL"

# The Slurm suite must run here: a Slurm that does not start fails the run (it is not skipped).
export OPENLAB_TEST_SLURM_CONF
if ! OPENLAB_TEST_SLURM_CONF=$(scripts/slurm.sh start "$slurmdir"); then
  echo "openlab: error: the test Slurm did not start; its logs:" >&2
  scripts/slurm.sh logs "$slurmdir" || true
  exit 1
fi
echo "Slurm for the tests: SLURM_CONF=$OPENLAB_TEST_SLURM_CONF"

# Debian's scikit-learn, which the validation metrics' tests run in the same run.
scripts/sklearn.sh "$BUILD/sklearn" >/dev/null
(cd "$BUILD" && ctest --output-on-failure -j "$JOBS" --timeout 600)
# The web console: built, checked against the API's document, and driven in Chromium against a
# real server (a Chromium that does not start fails the run).
BUILD="$BUILD" scripts/console.sh build
BUILD="$BUILD" scripts/console.sh check
BUILD="$BUILD" scripts/console.sh test
# clang-tidy on the C++ files changed by the last commit (and not yet committed): any finding fails.
BUILD="$BUILD" JOBS="$JOBS" scripts/tidy.sh

# Fuzz: libFuzzer + ASan/UBSan, bounded, from the checked-in corpora: raw HTTP requests through
# parsing, routing, policy and handlers; the scheduler's trace parser with a short replay; and a
# signed validation report's envelope, statement and public key; organisers' program metadata
# and the scores files their programs write; a Codabench bundle's competition.yaml; participants'
# predictions files, scored with every metric of their task type, and code submissions' JSON.
# This clang build also checks the thread-safety annotations (-Werror=thread-safety), so it builds
# every library with a lock, not only those the fuzz targets link: the server, the executors, the
# compute service and the data CLI.
cmake -S . -B "$BUILD-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENLAB_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ >/dev/null
ninja -C "$BUILD-fuzz" -j "$JOBS" fuzz_request fuzz_trace fuzz_manifest fuzz_upload \
  fuzz_report_envelope fuzz_codabench fuzz_bundle_yaml fuzz_predictions openlab_server \
  openlab_exec openlab_service openlab_slurm openlab_cli_data
fuzz() {  # target corpus seconds
  local scratch
  scratch=$(mktemp -d /tmp/openlab-fuzz.XXXXXX)
  cp -r "fuzz/corpus/$2/." "$scratch/"
  "$BUILD-fuzz/$1" -max_total_time="$3" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$scratch" "fuzz/corpus/$2" 2>&1 | tail -n 4
  rm -rf "$scratch"
  echo "fuzz $1: no crash in $3 s"
}
fuzz fuzz_request request "$FUZZ_SECONDS"
fuzz fuzz_trace trace "$(( FUZZ_SECONDS / 2 ))"
fuzz fuzz_manifest manifest "$(( FUZZ_SECONDS / 2 ))"
fuzz fuzz_upload upload "$(( FUZZ_SECONDS / 2 ))"
fuzz fuzz_report_envelope report_envelope "$(( FUZZ_SECONDS / 2 ))"
fuzz fuzz_codabench codabench "$(( FUZZ_SECONDS / 2 ))"
fuzz fuzz_bundle_yaml bundle_yaml "$(( FUZZ_SECONDS / 2 ))"
fuzz fuzz_predictions predictions "$(( FUZZ_SECONDS / 2 ))"
