"""Decision time per cycle of the simulator's controller for 10 and 1000 loads, and the memory
a week-long scenario at `step_s: 1` needs.

Run: `python tests/bench/bench_sim.py` from the repository root (not collected by pytest; the
week takes 4 to 8 minutes). Prints cycle_ms_p50 and cycle_ms_max as the simulator's `--json`
metrics report them, and the resident memory high-water mark of the process after each run.
The week runs first, through the command line's own `main()` without `--json`/`--plot`, so its
figure is the whole process's peak; it must stay under 60 MiB (before streaming: 616 MB).
`--week-only` runs just that part.
"""

from __future__ import annotations

import contextlib
import io
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "apps"))

from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario
from load_juggler.simulate import main as simulate_main

WEEK_S = 7 * 24 * 3600
PEAK_LIMIT_MIB = 60.0

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
            # 12 A a load, within the 1000 A a scenario (like apps.yaml) allows.
            "main_breaker_a": min(12 * load_count, 1000),
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


def week() -> dict[str, Any]:
    """Seven days at 1 s steps: a car, a plug and a battery under a daily sun and house curve
    (a change every 15 minutes), 604800 cycles."""
    timeline = []
    for t in range(900, WEEK_S, 900):
        hour = (t % 86400) / 3600
        sun = max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.0
        evening = 6.0 if 18 <= hour < 22 else 0.0
        timeline.append(
            {"t": t, "site": {"solar_w": round(9000 * sun), "house_a": [1 + evening, 1.0, 1.0]}}
        )
    return {
        "name": "week-at-1s",
        "step_s": 1,
        "duration_s": WEEK_S,
        "site": {
            "main_breaker_a": 25,
            "house_a": [1.0, 1.0, 1.0],
            "battery": {"soc": 50, "max_charge_w": 3000, "max_discharge_w": 3000},
        },
        "loads": [
            {"id": "car", "type": "evse", "mode": "solar_priority", "min_a": 6, "max_a": 16},
            {"id": "boiler", "type": "plug", "mode": "excess", "power_w": 2000},
        ],
        "timeline": timeline,
    }


def bench_week() -> float:
    """Run the week through the CLI's `main()` (summary only) and return the peak RSS in MiB."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "week.yaml"
        path.write_text(yaml.safe_dump(week()), encoding="utf-8")
        before = _max_rss_mib()
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = simulate_main([str(path)])
        elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the week scenario failed (exit {code})")
    peak = _max_rss_mib()
    print(
        f"7 days at step_s 1 ({WEEK_S} cycles, {elapsed:.0f} s): max RSS {peak:.1f} MiB "
        f"(after imports {before:.1f} MiB), limit {PEAK_LIMIT_MIB:.0f} MiB: "
        + ("ok" if peak < PEAK_LIMIT_MIB else "OVER")
    )
    assert "overload: none" in out.getvalue(), out.getvalue()
    return peak


def main() -> None:
    peak = bench_week()
    if "--week-only" in sys.argv:
        sys.exit(0 if peak < PEAK_LIMIT_MIB else 1)
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
