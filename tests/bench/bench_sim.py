"""Decision time per cycle of the simulator's controller for 10 and 1000 loads.

Run: `python tests/bench/bench_sim.py` from the repository root (not collected by pytest).
Prints cycle_ms_p50 and cycle_ms_max as the simulator's `--json` metrics report them, and the
resident memory high-water mark of the process after each run.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "apps"))

from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario

MODES = ("continuous", "solar_priority", "solar_only", "excess")


def scenario(load_count: int, duration_s: float) -> dict[str, Any]:
    """A site big enough that most loads run, with a mix of modes, circuits and plugs."""
    circuits = [
        {"id": f"panel{i}", "limit_a": 40 * 16, "members": []}
        for i in range(max(1, load_count // 50))
    ]
    loads = []
    for i in range(load_count):
        circuit = circuits[i % len(circuits)]
        if i % 5 == 4:
            load = {"id": f"plug{i}", "type": "plug", "mode": MODES[i % 4], "power_w": 2000,
                    "phases": 1, "phase_map": ["ABC"[i % 3]], "priority": 1 + i % 10}  # fmt: skip
        else:
            load = {"id": f"evse{i}", "type": "evse", "mode": MODES[i % 4], "min_a": 6, "max_a": 16,
                    "phases": 3, "priority": 1 + i % 10}  # fmt: skip
        circuit["members"].append(load["id"])
        loads.append(load)
    return {
        "name": f"bench-{load_count}",
        "duration_s": duration_s,
        "site": {
            "main_breaker_a": 12 * load_count,
            "distribution": "shared",
            "solar_w": 2500 * load_count,
            "house_a": [2.0 * load_count / 10] * 3,
        },
        "circuits": circuits,
        "loads": loads,
        "timeline": [{"t": duration_s / 2, "site": {"solar_w": 500 * load_count}}],
    }


def _max_rss_mib() -> float:
    """The process's resident high-water mark (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    for load_count, duration_s in ((10, 900.0), (1000, 300.0)):
        result = run(parse_scenario(scenario(load_count, duration_s)))
        metrics = result.metrics
        print(
            f"{load_count:>5} loads: cycle_ms_p50 {metrics['cycle_ms_p50']:.3f} ms, "
            f"cycle_ms_max {metrics['cycle_ms_max']:.3f} ms "
            f"({len(result.steps)} cycles), max RSS {_max_rss_mib():.0f} MiB"
        )


if __name__ == "__main__":
    main()
