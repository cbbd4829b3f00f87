"""A week of 5 s cycles in a noisy house whose wiring is exactly as configured, per seed: the
phase detector must neither remap nor tell anything (issue 11). The test suite runs two hours
of the same house (`tests/scenarios/test_phase_intelligence.py`); this is the long run.

Run: `python tests/bench/bench_phase_noise.py [SEEDS...]` from the repository root (not
collected by pytest; 2 to 11 minutes per seed). Prints per seed the seconds it took, the remaps
and notifications (both must be empty) and exits 1 if any seed had one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "apps"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario
from tests.scenarios.noisy_house import noisy_house

WEEK_S = 7 * 24 * 3600


def main(seeds: list[int]) -> int:
    failed = 0
    for seed in seeds:
        started = time.perf_counter()
        result = run(parse_scenario(noisy_house(seed, WEEK_S)), keep_steps=False, keep_series=False)
        metrics = result.metrics
        remaps = {k: v for k, v in metrics["phase_remaps"].items() if v}
        told = metrics["notifications"]
        failed += bool(remaps or told)
        seconds = time.perf_counter() - started
        print(f"seed {seed}: {seconds:.0f} s, remaps {remaps}, notifications {told}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [1, 2, 3, 4, 5]))
