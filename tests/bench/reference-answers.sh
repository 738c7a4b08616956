#!/usr/bin/env bash
# Serves a harvested data folder and writes the answers to four reference queries, for comparing
# two builds byte for byte (a restructure must not change a single answer): a page of datasets
# with their studies, a page of studies with their datasets, the portal search with three facets,
# and the search's second page by cursor. Anonymous caller; the response cache is not involved
# (each query is asked once).
#
#   tests/bench/reference-answers.sh DATA_FOLDER OUT_FOLDER [PORT]     (MUSUBI=path/to/musubi,
#                                                                       SOURCES=manifests folder)
#   diff -r OUT_BEFORE OUT_AFTER
set -euo pipefail
data=${1:?usage: reference-answers.sh DATA_FOLDER OUT_FOLDER [PORT]}; out=${2:?OUT_FOLDER}; port=${3:-7879}
musubi=${MUSUBI:-target/release/musubi}
mkdir -p "$out"
"$musubi" --data "$data" ${SOURCES:+--sources "$SOURCES"} serve --listen "127.0.0.1:$port" > "$out/serve.log" 2>&1 &
pid=$!; trap 'kill $pid 2>/dev/null && wait $pid' EXIT
ask() { # NAME JSON_BODY
  curl -sf -XPOST -H 'content-type: application/json' --data "$2" "http://127.0.0.1:$port/graphql" -o "$out/$1.json"
}
until curl -sf "http://127.0.0.1:$port/graphql?query=%7B__typename%7D" >/dev/null 2>&1; do
  kill -0 $pid 2>/dev/null || { echo "musubi serve stopped:"; tail -5 "$out/serve.log"; exit 1; }
  sleep 0.2
done
ask datasets-with-studies '{"query":"{ datasets(first: 100) { totalCount pageInfo { endCursor hasNextPage } edges { cursor node { id accession title { value lang } accessLevel releaseDate assays sources study { accession title { value lang } } } } } }"}'
ask studies-with-datasets '{"query":"{ studies(first: 100) { accession title { value lang } datasets { accession accessLevel } } }"}'
portal='search(query: \"cancer\", filter: { kind: [DATASET], assays: [\"WGS\"], referenceGenomes: [\"GRCh38\"] }, facets: [ASSAYS, REFERENCE_GENOMES, PLATFORMS], first: 20'
ask portal-search "{\"query\":\"{ $portal) { totalCount pageInfo { endCursor hasNextPage } facets { field values { value count } } edges { cursor score node { ... on Dataset { id accession title { value lang } description { value lang } accessLevel releaseDate subjectCount assays platforms referenceGenomes keywords sources } } } } }\"}"
cursor=$(grep -o '"endCursor":"[^"]*"' "$out/portal-search.json" | head -1 | cut -d'"' -f4)
ask cursor-page "{\"query\":\"{ $portal, after: \\\"$cursor\\\") { totalCount edges { cursor score node { ... on Dataset { accession title { value lang } } } } } }\"}"
for f in datasets-with-studies studies-with-datasets portal-search cursor-page; do
  printf '%s %s bytes %s\n' "$f" "$(wc -c < "$out/$f.json")" "$(sha256sum < "$out/$f.json" | cut -c1-16)"
done
