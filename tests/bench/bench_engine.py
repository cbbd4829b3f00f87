"""Decision time of `allocate` for 10, 100 and 1000 loads under 50 circuits, per strategy.

Run from the repository root: `python tests/bench/bench_engine.py [--repeats N]`.
Prints median and max milliseconds per decision, and the peak memory one decision allocates
(tracemalloc). Cost should grow about linearly with loads.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "apps"))

from load_juggler.engine.allocate import allocate
from load_juggler.engine.model import (
    BatteryConfig,
    Circuit,
    Load,
    LoadKind,
    Mode,
    Site,
    Snapshot,
    Strategy,
)

CIRCUITS = 50
MODES = [Mode.CONTINUOUS, Mode.SOLAR_PRIORITY, Mode.SOLAR_ONLY, Mode.EXCESS]


def build(n_loads: int, strategy: Strategy, seed: int = 1) -> Snapshot:
    """A large site: 10 feeders, each with 4 sub-circuits (50 circuits, depth 2)."""
    rng = random.Random(seed)
    circuits: list[Circuit] = []
    for f in range(10):
        circuits.append(Circuit(f"feeder{f}", limit_a=40.0 * n_loads / 10, max_power_w=None))
        for s in range(4):
            circuits.append(
                Circuit(
                    f"sub{f}_{s}",
                    parent=f"feeder{f}",
                    limit_a=12.0 * max(1, n_loads // 40),
                    max_power_w=8000.0 * max(1, n_loads // 40),
                )
            )
    loads: list[Load] = []
    for i in range(n_loads):
        phases = rng.choice([1, 3])
        phase_map = tuple(rng.sample(["A", "B", "C"], 3))
        circuit = rng.choice([c.id for c in circuits] + [None])
        if rng.random() < 0.2:
            loads.append(
                Load(
                    id=f"plug{i:04d}",
                    kind=LoadKind.PLUG,
                    mode=rng.choice(MODES),
                    priority=rng.randint(1, 10),
                    phases=phases,
                    phase_map=phase_map,
                    power_w=rng.choice([1000.0, 2000.0, 3000.0]),
                    circuit=circuit,
                )
            )
        else:
            loads.append(
                Load(
                    id=f"evse{i:04d}",
                    mode=rng.choice(MODES),
                    priority=rng.randint(1, 10),
                    phases=phases,
                    phase_map=phase_map,
                    min_a=6.0,
                    max_a=rng.choice([16.0, 32.0]),
                    circuit=circuit,
                    drawing=rng.random() > 0.1,
                    draw_a=tuple(rng.uniform(0, 16) for _ in range(phases)),
                )
            )
    site = Site(
        main_breaker_a=8.0 * n_loads,
        max_import_w=1500.0 * n_loads,
        distribution=strategy,
        battery=BatteryConfig(max_charge_w=5000.0, max_discharge_w=5000.0),
    )
    grid = tuple(rng.uniform(-2.0, 4.0) * n_loads for _ in range(3))
    return Snapshot(
        site=site,
        loads=tuple(loads),
        circuits=tuple(circuits),
        grid_a=grid,
        battery_soc_pct=85.0,
    )


def measure(snapshot: Snapshot, repeats: int) -> tuple[float, float]:
    allocate(snapshot)  # warm-up
    times_ms = []
    for _ in range(repeats):
        start = time.perf_counter()
        allocate(snapshot)
        times_ms.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times_ms), max(times_ms)


def peak_kib(snapshot: Snapshot) -> float:
    """Peak memory one decision allocates; measured apart from the timing, which it slows."""
    tracemalloc.start()
    allocate(snapshot)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(
        f"{'strategy':<10} {'loads':>6} {'circuits':>8} {'median ms':>10} {'max ms':>8}"
        f" {'peak KiB':>9}"
    )
    for strategy in Strategy:
        for n_loads in (10, 100, 1000):
            snapshot = build(n_loads, strategy)
            median_ms, max_ms = measure(snapshot, args.repeats)
            print(
                f"{strategy.value:<10} {n_loads:>6} {CIRCUITS:>8} {median_ms:>10.2f} {max_ms:>8.2f}"
                f" {peak_kib(snapshot):>9.0f}"
            )


if __name__ == "__main__":
    main()
