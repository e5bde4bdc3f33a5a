#!/usr/bin/env bash
# Panel selection: buurtpeil LEXIMIN against the PyPI package
# sortition-algorithms on the same generated pools (see BENCHMARKS.md).
#
#   benches/panel_compare.sh [SIZES]      # SIZES: e.g. "300-30 1000-60" (default: all three)
#   PANEL_PY_ALGORITHMS="leximin legacy"  # which sortition-algorithms runs (default: leximin legacy)
#
# Needs a venv with the package: python3 -m venv /tmp/sortvenv &&
# /tmp/sortvenv/bin/pip install sortition-algorithms highspy (or PANEL_VENV=DIR).
# Times are wall clock and CPU (user + system; robust on a shared machine).
# Prints one JSON line per run and writes them to target/panel-bench/results.jsonl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=${PANEL_VENV:-/tmp/sortvenv}
SIZES=${1:-"300-30 1000-60 2000-150"}
PY_ALGORITHMS=${PANEL_PY_ALGORITHMS:-"leximin legacy"}
OUT=target/panel-bench
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"

cargo build --release --quiet --bin buurtpeil --example panel_pools
target/release/examples/panel_pools "$OUT/pools" >/dev/null

for size in $SIZES; do
    dir="$OUT/pools/pool-$size"
    k=${size#*-}
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$OUT/cpu-$size" target/release/buurtpeil panel select --people "$dir/people.csv" --features "$dir/features.csv" \
        --size "$k" --seed "bench $size" --out "$OUT/buurtpeil-$size" >/dev/null
    end=$(date +%s.%N)
    python3 - "$OUT/buurtpeil-$size/protocol.json" "$size" "$start" "$end" "$OUT/cpu-$size" <<'PY' | tee -a "$RESULTS"
import json, sys
p = json.load(open(sys.argv[1]))
cpu = sum(float(x) for x in open(sys.argv[5]).read().split())
print(json.dumps({"pool": sys.argv[2], "tool": p["software"], "requested": "leximin", "used": p["algorithm"],
                  "min_probability": p["min_probability"], "seconds": round(float(sys.argv[4]) - float(sys.argv[3]), 2),
                  "cpu_seconds": round(cpu, 2),
                  "note": f"{p['solver']['columns']} panels, {p['solver']['levels']} levels, {p['solver']['pricing_rounds']} pricing rounds"}))
PY
    for algorithm in $PY_ALGORITHMS; do
        "$VENV/bin/python" benches/panel_compare.py "$dir/people.csv" "$dir/features.csv" "$k" "$algorithm" | tail -n 1 \
            | python3 -c "import json,sys; r=json.loads(sys.stdin.read()); r['pool']='$size'; print(json.dumps(r))" \
            | tee -a "$RESULTS"
    done
done
