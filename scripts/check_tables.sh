#!/usr/bin/env bash
# Checks that no capability runs SQL on another capability's tables: it calls the owner's
# functions instead (docs/architecture.md, "Tables and migrations").
# Who owns a table comes from the schema files themselves: a table belongs to the capability
# whose src/<capability>/schema.cc creates it (CREATE TABLE / CREATE VIRTUAL TABLE), so the map
# cannot drift from the schema. Every non-test .cc file under src/<capability>/ is then read for
# SQL: the text of its string literals (adjacent literals joined, a keyword at the end of one line
# carried to the next) and its raw R"SQL(...)SQL" strings. A table named after FROM, JOIN, INTO,
# UPDATE or TABLE must be the file's own capability's. Route files (src/<capability>/api/) name
# no table at all: handlers call the capability. FOREIGN KEY references between capabilities'
# tables are allowed (REFERENCES is not read). A table name built at run time ("FROM {}") is not
# seen: keep such names in the owner's own files.
# Usage: scripts/check_tables.sh        (exits 1 naming file, line and table on a violation)
set -euo pipefail
cd "$(dirname "$0")/.."
# The capabilities are the folders with a schema (src/<capability>/schema.cc): a new one is
# checked without an edit here.
capabilities=()
for f in src/*/schema.cc; do
  d=${f#src/}
  capabilities+=("${d%/schema.cc}")
done

owners=$(mktemp)
trap 'rm -f "$owners"' EXIT
for cap in "${capabilities[@]}"; do
  schema=src/$cap/schema.cc
  [ -f "$schema" ] || { echo "openlab: error: $schema is missing" >&2; exit 1; }
  grep -oE 'CREATE (VIRTUAL )?TABLE (IF NOT EXISTS )?[a-z_][a-z_0-9]*' "$schema" |
    awk -v cap="$cap" '{print $NF, cap}'
done | sort -u >"$owners"  # a table made by both stores' scripts of one migration counts once
if [ ! -s "$owners" ]; then
  echo "openlab: error: no CREATE TABLE found in src/*/schema.cc" >&2
  exit 1
fi
dup=$(awk '{print $1}' "$owners" | uniq -d)
if [ -n "$dup" ]; then
  echo "openlab: error: tables created by two capabilities: $dup" >&2
  exit 1
fi

status=0
for cap in "${capabilities[@]}"; do
  while IFS= read -r file; do
    awk -v cap="$cap" -v file="$file" -v owners="$owners" '
      BEGIN {
        while ((getline l < owners) > 0) { split(l, f, " "); owner[f[1]] = f[2] }
        api = (file ~ /\/api\//)
        kw = "(FROM|JOIN|INTO|UPDATE|TABLE)[ \t]+[a-z_][a-z_0-9]*"
      }
      function flag(table) {
        if (!(table in owner)) return
        if (api) {
          printf "%s:%d: names the table %s (%s): route files call their capability, no SQL\n",
                 file, FNR, table, owner[table]
          bad = 1
        } else if (owner[table] != cap) {
          printf "%s:%d: names the table %s, owned by %s: %s calls the owner'\''s functions instead\n",
                 file, FNR, table, owner[table], cap
          bad = 1
        }
      }
      {
        line = $0
        text = ""
        if (raw) {
          end = index(line, ")SQL\"")
          if (end > 0) { text = substr(line, 1, end - 1); raw = 0 } else text = line
        } else if (line ~ /^[ \t]*\/\//) {
          next
        } else {
          start = index(line, "R\"SQL(")
          if (start > 0) {
            rest = substr(line, start + 6)
            end = index(rest, ")SQL\"")
            if (end > 0) text = substr(rest, 1, end - 1); else { text = rest; raw = 1 }
            line = substr(line, 1, start - 1)
          }
          s = line
          while (match(s, /"([^"\\]|\\.)*"/)) {
            lit = substr(s, RSTART + 1, RLENGTH - 2)
            text = text lit
            s = substr(s, RSTART + RLENGTH)
          }
          if (text == "") next
        }
        text = carry text
        s = text
        while (match(s, kw)) {
          n = split(substr(s, RSTART, RLENGTH), w, /[ \t]+/)
          flag(w[n])
          s = substr(s, RSTART + RLENGTH)
        }
        carry = ""
        if (match(text, /(FROM|JOIN|INTO|UPDATE|TABLE)[ \t]*$/)) carry = substr(text, RSTART) " "
      }
      END { exit bad }
    ' "$file" || status=1
  done < <(find "src/$cap" -name '*.cc' ! -name '*_test.cc' | sort)
done
if [ "$status" -ne 0 ]; then
  echo "openlab: error: SQL on another capability's tables (call the owner's functions, or move" \
    "the statement into the owner)" >&2
  exit 1
fi
echo "tables: each capability's SQL names only its own tables ($(wc -l <"$owners") tables in" \
  "${capabilities[*]})"
