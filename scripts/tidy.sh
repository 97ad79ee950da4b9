#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy; every finding is an error) on the C++ files changed
# since BASE, as they are in the working tree (new files not yet added too). BASE defaults to
# HEAD~1; without one there is nothing to check. Needs $BUILD/compile_commands.json (cmake writes
# it); files the build does not compile (the fuzz targets, unless built) are skipped with a note.
#   scripts/tidy.sh [BASE]        e.g. scripts/tidy.sh origin/main
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOBS=${JOBS:-$(nproc)}

base=${1:-}
if [ -z "$base" ]; then
  if ! git rev-parse -q --verify HEAD~1 >/dev/null; then
    echo "tidy: no HEAD~1 to compare with; nothing to check"
    exit 0
  fi
  base=HEAD~1
fi
db="$BUILD/compile_commands.json"
[ -f "$db" ] || { echo "tidy: error: $db is missing; run cmake first" >&2; exit 1; }
command -v clang-tidy >/dev/null || { echo "tidy: error: clang-tidy is not installed (scripts/deps.sh)" >&2; exit 1; }

files=()
while IFS= read -r f; do
  if grep -qF "\"file\": \"$PWD/$f\"" "$db"; then
    files+=("$f")
  else
    echo "tidy: skipping $f (not in $db)"
  fi
done < <(git diff --name-only --diff-filter=d "$base" -- '*.cc'
         git ls-files --others --exclude-standard -- '*.cc')  # new, not yet added

if [ ${#files[@]} -eq 0 ]; then
  echo "tidy: no C++ files changed since $base"
  exit 0
fi
echo "tidy: ${#files[@]} file(s) changed since $base"
if ! printf '%s\0' "${files[@]}" |
  xargs -0 -n 1 -P "$JOBS" clang-tidy -p "$BUILD" --quiet --warnings-as-errors='*'; then
  echo "tidy: error: clang-tidy found problems (above); fix them or, where a finding is wrong," \
    "say why in a NOLINT(check-name) comment" >&2
  exit 1
fi
echo "tidy: clean"
