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
#   d) GET /resultaten/geluk/rapport/WK077211                  (a wijk's report)
#   e) GET /resultaten/geluk/kaart                             (the map page;
#      only with BUURTPEIL_BENCH_LOGIN=email:password of a professional,
#      e.g. the demo login `serve --demo` prints)
# and prints requests/second, median and 99th percentile latency of each
# and the ratio to /healthz, as markdown table rows.
#
# Environment: BUURTPEIL_BENCH_THREADS / _CONNECTIONS / _DURATION, _LOGIN
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

run() { # name path [header]
    echo "==> $1: GET $base$2 (wrk -t$threads -c$connections -d$duration --latency)" >&2
    wrk -t"$threads" -c"$connections" -d"$duration" --latency ${3:+-H "$3"} "$base$2" > "$out/$1.txt"
    cat "$out/$1.txt" >&2
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$out/$1.txt"; }
pct() { awk -v p="$2" '$1 == p { print $2 }' "$out/$1.txt"; }
bad() { awk '/Non-2xx or 3xx responses:/ { print $5 }' "$out/$1.txt"; }

run healthz /healthz
run api "/api/v1/questionnaires/geluk/results?level=buurt"
run page "/r/geluk?niveau=buurt"
run report "/resultaten/geluk/rapport/WK077211"
names="healthz api page report"
if [ -n "${BUURTPEIL_BENCH_LOGIN:-}" ]; then
    jar="$out/cookies"
    csrf=$(curl -fsS -c "$jar" "$base/inloggen" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
    curl -fsS -o /dev/null -b "$jar" -c "$jar" --data-urlencode "email=${BUURTPEIL_BENCH_LOGIN%%:*}" \
        --data-urlencode "password=${BUURTPEIL_BENCH_LOGIN#*:}" --data-urlencode "csrf=$csrf" "$base/inloggen"
    cookie=$(awk '{ sub(/^#HttpOnly_/, "") } !/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar")
    run map "/resultaten/geluk/kaart" "Cookie: $cookie"
    names="$names map"
fi

h=$(rps healthz)
echo
echo "| endpoint | req/s | median | 99 % | req/s vs /healthz | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|"
for name in $names; do
    r=$(rps $name)
    ratio=$(awk -v r="$r" -v h="$h" 'BEGIN { printf "%.1f %%", 100 * r / h }')
    echo "| $name | $r | $(pct $name 50%) | $(pct $name 99%) | $ratio | $(bad $name || true) |"
done
