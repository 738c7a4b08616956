#!/usr/bin/env bash
# A hub killed just as a scheduled harvest lands, started again: how long until it answers.
# Harvests a generated catalogue, serves it once (views, records and index written), then serves
# it with the NBDC source of a second catalogue scheduled, stops that harvest for good just after
# its graph is swapped in (test-only MUSUBI_TEST_PAUSE_HARVEST=after-swap), kills the server with
# SIGKILL and starts it again: prints the time from spawn to the first GraphQL answer and how the
# read model was made. "before" is the same folder without the view the harvest wrote ahead (a
# start that projects the source from the graph, as every such restart did before).
#
#   tests/bench/restart-after-kill.sh [DATASETS] [WORK]     (MUSUBI=path/to/musubi, MUSUBI_BENCH=path/to/musubi-bench)
set -euo pipefail
datasets=${1:-100000}; work=${2:-/tmp/restart-after-kill}
musubi=${MUSUBI:-target/release/musubi}; bench=${MUSUBI_BENCH:-$(dirname "$musubi")/musubi-bench}
rm -rf "$work"; mkdir -p "$work"
"$bench" gen --datasets "$datasets" --seed 1 --out "$work/gen-1" | head -1
"$musubi" --data "$work/data" --sources "$work/gen-1/sources" harvest 2>/dev/null | grep '^ok'
wait_open() { for _ in $(seq 1 6000); do grep -q '^open http' "$1" && return 0; sleep 0.1; done; return 1; }
"$musubi" --data "$work/data" serve --listen 127.0.0.1:0 >"$work/first.out" 2>"$work/first.err" & pid=$!
wait_open "$work/first.out"; grep 'read model' "$work/first.out"; kill $pid; wait $pid || true

"$bench" gen --datasets "$datasets" --seed 2 --out "$work/gen-2" | head -1
mkdir -p "$work/gen-2/scheduled"
{ echo 'schedule = "1s"'; cat "$work/gen-2/sources/gen-nbdc-datasets.toml"; } >"$work/gen-2/scheduled/gen-nbdc-datasets.toml"
MUSUBI_TEST_PAUSE_HARVEST=after-swap "$musubi" --data "$work/data" --sources "$work/gen-2/scheduled" serve --listen 127.0.0.1:0 \
    >"$work/killed.out" 2>"$work/killed.err" & pid=$!
for _ in $(seq 1 6000); do [ -e "$work/data/paused-at-after-swap" ] && break; sleep 0.1; done
kill -9 $pid; wait $pid || true; rm -f "$work/data/paused-at-after-swap"
cp -a "$work/data" "$work/data-before"; rm -f "$work/data-before/views/gen-nbdc-datasets.view.next"

query='{"query":"{ datasets(first: 5) { totalCount nodes { accession } } }"}'
restart() {
    local data=$1 name=$2 t0 t1 url
    t0=$(date +%s.%N)
    "$musubi" --data "$data" serve --listen 127.0.0.1:0 >"$work/$name.out" 2>"$work/$name.err" & local pid=$!
    wait_open "$work/$name.out"
    url=$(sed -n 's/^open //p' "$work/$name.out")
    until curl -sf -H 'content-type: application/json' -d "$query" "$url" >"$work/$name.json"; do sleep 0.05; done
    t1=$(date +%s.%N)
    echo "$name: first answer after $(echo "$t1 - $t0" | bc) s; $(grep 'read model' "$work/$name.out")"
    kill $pid; wait $pid || true
}
restart "$work/data-before" before
restart "$work/data" after
restart "$work/data" again
cmp -s "$work/before.json" "$work/after.json" && echo "the same answer from both"
