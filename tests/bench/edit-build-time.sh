#!/usr/bin/env bash
# The time of `cargo build` (debug, incremental) after a one-line edit: inserts a statement
# after the first line of FILE that matches PATTERN (a function's opening line), builds, then
# takes the edit back out and builds again (not timed). Run it from the workspace root after a
# full `cargo build`, with nothing else building.
#
#   tests/bench/edit-build-time.sh ontology/src/mapping/xpath.rs 'fn compile(text: &str)'
set -euo pipefail
file=${1:?usage: edit-build-time.sh FILE PATTERN}; pattern=${2:?PATTERN}
line=$(grep -nF -m1 -- "$pattern" "$file" | cut -d: -f1)
[ -n "$line" ] || { echo "no line of $file matches $pattern"; exit 1; }
cp "$file" "$file.orig"; trap 'mv "$file.orig" "$file"; cargo build -q' EXIT
sed -i "${line}a\\        let _one_line_edit = ${RANDOM}u32;" "$file"
start=$(date +%s.%N)
cargo build -q 2>&1 | grep -v '^warning\|^ *|\|^ *=\|^$\|-->' || true
echo "$file ($pattern): $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s"
