#!/usr/bin/env bash
# Load test against an already running buurtpeil server (see benches/README.md).
#
#   benches/load.sh [BASE_URL]        # default http://127.0.0.1:8080
#
# Runs wrk twice (-t2 -c64 -d10s unless overridden):
#   a) GET  /healthz                                      (baseline)
#   b) POST /api/v1/questionnaires/geluk/responses        (benches/submit.lua)
# and prints requests/second for both plus submissions/healthz as a
# percentage, as markdown table rows.
#
# Environment:
#   BUURTPEIL_BENCH_BUURTEN comma-separated buurt codes, one picked at random
#                           per request (default: every buurt the server knows)
#   BUURTPEIL_BENCH_KEY1    first answer key  (random 0–10) (default tevredenheid_leven)
#   BUURTPEIL_BENCH_KEY2    second answer key (random 0–10) (default geluk)
#   BUURTPEIL_BENCH_THREADS / _CONNECTIONS / _DURATION   (default 2 / 64 / 10s)
set -euo pipefail

die() { echo "benches/load.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

base=${1:-http://127.0.0.1:8080}
base=${base%/}

export BUURTPEIL_BENCH_KEY1=${BUURTPEIL_BENCH_KEY1:-tevredenheid_leven}
export BUURTPEIL_BENCH_KEY2=${BUURTPEIL_BENCH_KEY2:-geluk}
threads=${BUURTPEIL_BENCH_THREADS:-2}
connections=${BUURTPEIL_BENCH_CONNECTIONS:-64}
duration=${BUURTPEIL_BENCH_DURATION:-10s}

if ! command -v wrk >/dev/null 2>&1; then
    echo "==> Installing wrk"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "wrk is missing and there is no sudo: apt-get install wrk" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Requests/sec from wrk's report, e.g. "Requests/sec:  91234.56".
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

wrk_args=(-t"$threads" -c"$connections" -d"$duration" --latency)

echo "==> a) GET $base/healthz  (wrk ${wrk_args[*]})"
wrk "${wrk_args[@]}" "$base/healthz" | tee "$out/healthz.txt" \
    || die "wrk failed on $base/healthz: is the server running? (cargo run --release -- serve --demo)"

submit_url="$base/api/v1/questionnaires/geluk/responses"
# Residents of every buurt, as in real use: the server's own buurt list.
if [ -z "${BUURTPEIL_BENCH_BUURTEN:-}" ]; then
    BUURTPEIL_BENCH_BUURTEN=$(curl -fsS "$base/api/v1/areas" \
        | python3 -c 'import json,sys; print(",".join(a["code"] for a in json.load(sys.stdin) if a["level"] == "buurt"))') \
        || die "could not read the buurt list from $base/api/v1/areas"
fi
export BUURTPEIL_BENCH_BUURTEN
echo
echo "==> b) POST $submit_url  (wrk ${wrk_args[*]} -s benches/submit.lua)"
wrk "${wrk_args[@]}" -s "$here/submit.lua" "$submit_url" | tee "$out/submit.txt" \
    || die "wrk failed on $submit_url"

healthz_rps=$(rps "$out/healthz.txt")
submit_rps=$(rps "$out/submit.txt")
non201=$(awk '/^non-201 responses:/ { print $3 }' "$out/submit.txt")
healthz_bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$out/healthz.txt")

if [ -z "$healthz_rps" ] || [ -z "$submit_rps" ]; then
    echo "could not read Requests/sec from wrk's output" >&2
    exit 1
fi
if awk -v r="$healthz_rps" 'BEGIN { exit !(r == 0) }'; then
    echo "no request to $base/healthz succeeded: is the server running? (cargo run --release -- serve --demo)" >&2
    exit 1
fi

ratio=$(awk -v s="$submit_rps" -v h="$healthz_rps" 'BEGIN { printf "%.1f", 100 * s / h }')
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo "-")

echo
echo "| date | commit | wrk | GET /healthz req/s | POST …/geluk/responses req/s | submissions/healthz | non-201 |"
echo "|------|--------|-----|-------------------:|----------------------------:|--------------------:|--------:|"
printf '| %s | %s | -t%s -c%s -d%s | %s | %s | %s %% | %s |\n' \
    "$(date +%Y-%m-%d)" "$commit" "$threads" "$connections" "$duration" \
    "$healthz_rps" "$submit_rps" "$ratio" "${non201:-?}"

if [ -n "$healthz_bad" ]; then
    echo "warning: $healthz_bad GET /healthz responses were not 2xx/3xx" >&2
fi
if [ "${non201:-0}" != "0" ]; then
    echo "warning: ${non201:-?} submissions were not answered 201 Created: their req/s is not a real submission rate" >&2
fi
