#!/usr/bin/env bash
# Checks that every repository path a document names exists, so the map stays true.
# A path is a `quoted` word that ends in a source or document extension (.cc .h .md .sh .py
# .txt .cmake) or names a folder (ends in "/"); it may be written from the repository root
# (`scripts/test.sh`) or from src/ (`http/api.cc`); a bare file name (`api.cc`, in a row about
# its folder) must be the name of a file the repository tracks. Words starting with "/" (paths on the
# machine, not in the repository) and patterns ("*", "{") are not paths of the repository, nor
# is anything between <!-- example paths --> and <!-- end example paths --> (a skeleton of files
# to come).
# Usage: scripts/check_doc_paths.sh [DOC...]   (default: docs/architecture.md)
set -euo pipefail
cd "$(dirname "$0")/.."
docs=("$@")
[ ${#docs[@]} -gt 0 ] || docs=(docs/architecture.md)
missing=0
tracked=$(git ls-files --cached --others --exclude-standard 2>/dev/null || find . -type f -not -path './.git/*' | sed 's|^\./||')
for doc in "${docs[@]}"; do
  while IFS= read -r word; do
    case "$word" in
      /* | -* | *'*'* | *'{'* | *'<'* | *' '*) continue ;;
    esac
    if [[ "$word" =~ \.(cc|h|md|sh|py|txt|cmake)$ ]]; then
      :
    elif [[ "$word" == */ ]]; then
      # A folder: only those the repository or src/ could hold (tmp/ in a sentence about a
      # job's view is not one).
      top=${word%%/*}
      [ -d "$top" ] || [ -d "src/$top" ] || continue
    else
      continue
    fi
    if [[ "$word" != */* ]]; then
      if ! grep -qx "\(.*/\)\?$word" <<<"$tracked"; then
        echo "$doc names $word, which is no file of the repository" >&2
        missing=1
      fi
    elif [ ! -e "$word" ] && [ ! -e "src/$word" ]; then
      echo "$doc names $word, which does not exist" >&2
      missing=1
    fi
  done < <(awk '/<!-- example paths -->/{skip=1} !skip{print} /<!-- end example paths -->/{skip=0}' \
             "$doc" | grep -o '`[^`]*`' | tr -d '`' | sort -u)
done
if [ "$missing" -ne 0 ]; then
  echo "openlab: error: a document names paths that do not exist (fix the document or the path)" >&2
  exit 1
fi
echo "documents name only paths that exist: ${docs[*]}"
