#!/usr/bin/env bash
# Load run of the results against an already running buurtpeil server (see
# BENCHMARKS.md for the data set it was measured on).
#
#   benches/results_load.sh [BASE_URL]        # default http://127.0.0.1:8080
#
# Runs wrk (-t2 -c16 -d10s --latency unless overridden) on
#   a) GET /healthz                                            (baseline)
#   b) GET /api/v1/questionnaires/geluk/results?level=buurt    (JSON, ETag)
#   c) GET /r/geluk?niveau=buurt                               (the page)
# and prints requests/second, median and 99th percentile latency of each
# and the ratio to /healthz, as markdown table rows.
#
# Environment: BUURTPEIL_BENCH_THREADS / _CONNECTIONS / _DURATION
set -euo pipefail

base=${1:-http://127.0.0.1:8080}
base=${base%/}
threads=${BUURTPEIL_BENCH_THREADS:-2}
connections=${BUURTPEIL_BENCH_CONNECTIONS:-16}
duration=${BUURTPEIL_BENCH_DURATION:-10s}

command -v wrk >/dev/null 2>&1 || { echo "benches/results_load.sh: install wrk (apt-get install wrk)" >&2; exit 1; }
curl -fsS "$base/healthz" >/dev/null || { echo "benches/results_load.sh: no server at $base" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { # name path
    echo "==> $1: GET $base$2 (wrk -t$threads -c$connections -d$duration --latency)" >&2
    wrk -t"$threads" -c"$connections" -d"$duration" --latency "$base$2" > "$out/$1.txt"
    cat "$out/$1.txt" >&2
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$out/$1.txt"; }
pct() { awk -v p="$2" '$1 == p { print $2 }' "$out/$1.txt"; }
bad() { awk '/Non-2xx or 3xx responses:/ { print $5 }' "$out/$1.txt"; }

run healthz /healthz
run api "/api/v1/questionnaires/geluk/results?level=buurt"
run page "/r/geluk?niveau=buurt"

h=$(rps healthz)
echo
echo "| endpoint | req/s | median | 99 % | req/s vs /healthz | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|"
for name in healthz api page; do
    r=$(rps $name)
    ratio=$(awk -v r="$r" -v h="$h" 'BEGIN { printf "%.1f %%", 100 * r / h }')
    echo "| $name | $r | $(pct $name 50%) | $(pct $name 99%) | $ratio | $(bad $name || true) |"
done
