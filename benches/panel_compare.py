"""Runs the PyPI package sortition-algorithms on a pool written by
`cargo run --release --example panel_pools` and prints one JSON line:
requested and actually used algorithm, smallest selection probability,
seconds (wall clock and CPU of this process). Used by benches/panel_compare.sh.

    python panel_compare.py PEOPLE FEATURES K ALGORITHM [LEGACY_RUNS]

ALGORITHM: leximin (falls back to maximin without Gurobi, exactly as
sortition_algorithms.core.find_random_sample does and reports), maximin, or
legacy (probabilities estimated from LEGACY_RUNS runs, default 200).
"""

import json
import sys
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

from sortition_algorithms import adapters
from sortition_algorithms.committee_generation import GUROBI_AVAILABLE
from sortition_algorithms.committee_generation.legacy import find_random_sample_legacy
from sortition_algorithms.committee_generation.leximin import find_distribution_leximin
from sortition_algorithms.committee_generation.maximin import find_distribution_maximin
from sortition_algorithms.settings import Settings


def main() -> None:
    people_csv, features_csv, k, algorithm = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    legacy_runs = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    source = adapters.CSVFileDataSource(
        features_file=Path(features_csv),
        people_file=Path(people_csv),
        already_selected_file=None,
        selected_file=Path("/dev/null"),
        remaining_file=Path("/dev/null"),
    )
    data = adapters.SelectionData(source)
    features, _ = data.load_features(k)
    people, _ = data.load_people(Settings(id_column="id", columns_to_keep=[]), features)
    used = algorithm
    note = ""
    if algorithm == "leximin" and not GUROBI_AVAILABLE:
        used = "maximin"
        note = "gurobi_unavailable_switching: leximin needs Gurobi; ran maximin"
    started = time.perf_counter()
    cpu_started = time.process_time()
    if used == "legacy":
        counts: Counter[str] = Counter()
        for _ in range(legacy_runs):
            committees, _ = find_random_sample_legacy(people, features, k, [], max_attempts=100)
            counts.update(committees[0])
        probability = {p: counts[p] / legacy_runs for p in people}
        note = f"probabilities estimated from {legacy_runs} runs"
    else:
        solve = find_distribution_leximin if used == "leximin" else find_distribution_maximin
        committees, probabilities, _ = solve(features, people, k, [])
        probability = dict.fromkeys(people, 0.0)
        for committee, p in zip(committees, probabilities):
            for person in committee:
                probability[person] += p
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print(
        json.dumps(
            {
                "tool": f"sortition-algorithms {version('sortition-algorithms')}",
                "requested": algorithm,
                "used": used,
                "min_probability": min(probability.values()),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "note": note,
            }
        )
    )


if __name__ == "__main__":
    main()
