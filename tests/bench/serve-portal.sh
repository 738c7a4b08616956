#!/usr/bin/env bash
# Serves an already harvested data folder and measures it as musubi-bench does, one step at a
# time: time from start to the first answer of the portal query, wrk at 1, 16 and 64
# connections, peak RSS. For catalogues where musubi-bench's whole run (harvest, two serve
# starts, the in-process index) takes too long, e.g. 1,000,000 datasets (BENCHMARKS.md).
#
#   tests/bench/serve-portal.sh DATA_FOLDER [PORT]     (MUSUBI=path/to/musubi, DURATION=5)
#
# The response cache is as the data folder's musubi.toml says (`[cache] bytes = 0`: off).
set -euo pipefail
data=${1:?usage: serve-portal.sh DATA_FOLDER [PORT]}; port=${2:-7878}
musubi=${MUSUBI:-target/release/musubi}; duration=${DURATION:-5}
work=$(mktemp -d); trap 'kill $pid 2>/dev/null && wait $pid; rm -rf "$work"' EXIT
body='{"query": "query Portal($q: String!) {\n  search(query: $q, filter: { kind: [DATASET], assays: [\"WGS\"], referenceGenomes: [\"GRCh38\"] },\n         facets: [ASSAYS, REFERENCE_GENOMES], first: 20) {\n    totalCount\n    facets { field values { value count } }\n    nodes {\n      ... on Dataset {\n        id accession title { value lang } description { value lang } accessLevel\n        releaseDate subjectCount assays platforms referenceGenomes keywords sources\n      }\n    }\n  }\n}", "variables": {"q": "cancer"}}'
printf '%s' "$body" > "$work/body.json"
cat > "$work/portal.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$body]==]
LUA
start=$(date +%s%N)
"$musubi" --data "$data" serve --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pid=$!
until curl -sf -XPOST -H 'content-type: application/json' --data @"$work/body.json" "http://127.0.0.1:$port/graphql" 2>/dev/null | grep -q totalCount; do
  kill -0 $pid 2>/dev/null || { echo "musubi serve stopped:"; tail -5 "$work/serve.log"; exit 1; }
  sleep 0.1
done
echo "first answer $(( ($(date +%s%N) - start) / 1000000 )) ms after start"
grep -m1 '^read model' "$work/serve.log" || true
# Into a file: `| head -c` would end curl with SIGPIPE, and this script with it (pipefail).
curl -s -XPOST -H 'content-type: application/json' --data @"$work/body.json" "http://127.0.0.1:$port/graphql" -o "$work/answer.json"
head -c 200 "$work/answer.json"; echo
for c in 1 16 64; do
  echo "$c connections: $(wrk --latency -t$(( c < 2 ? 1 : 2 )) -c$c -d${duration}s -s "$work/portal.lua" "http://127.0.0.1:$port/graphql" | grep -E 'Requests/sec|50%|99%' | tr -s ' \n' ' ')"
done
grep -E 'VmHWM|VmRSS|RssAnon|RssFile' /proc/$pid/status | tr -s '\t\n' '  '; echo
