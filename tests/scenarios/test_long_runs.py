"""Long runs: memory does not grow with the duration unless steps are printed or plotted.

`tests/bench/bench_sim.py` measures the real week at 1 s steps; these tests guard the
mechanisms cheaply: no steps kept without `--json`, a bounded plot series that keeps peaks,
and metrics that aggregate instead of listing every cycle.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from load_juggler.engine.model import SITE_NODE
from load_juggler.sim.metrics import Metrics
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario


def site(duration_s: float, timeline: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "name": "long",
        "step_s": 1,
        "duration_s": duration_s,
        "site": {"main_breaker_a": 25, "house_a": [2.0, 2.0, 2.0], "solar_w": 3000},
        "loads": [{"id": "car", "type": "evse", "mode": "solar_priority"}],
        "timeline": timeline or [],
    }


def without_timing(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if not k.startswith("cycle_ms")}


def test_a_run_without_steps_or_series_keeps_neither_and_measures_the_same() -> None:
    timeline = [{"t": 200, "site": {"house_a": [30.0, 2.0, 2.0]}}, {"t": 210, "site": {}}]
    scenario = parse_scenario(site(400, timeline))
    full = run(scenario)
    lean = run(scenario, keep_steps=False, keep_series=False)
    assert len(full.steps) == 400 and len(full.series.t_s) == 400
    assert lean.steps == [] and lean.series.t_s == [] and lean.series.grid_a == []
    assert without_timing(lean.metrics) == without_timing(full.metrics)
    assert lean.final == full.final
    assert lean.metrics["overload_episodes"]["site.A"] == [[200.0, 200.0]]


def live_bytes_after(duration_s: float, keep_steps: bool) -> int:
    """Memory still held once the run is over (its result alive, garbage collected)."""
    scenario = parse_scenario(site(duration_s))
    gc.collect()
    tracemalloc.start()
    try:
        result = run(scenario, keep_steps=keep_steps, keep_series=False)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert result.metrics["overload_s"]
    return held


def test_memory_does_not_grow_with_the_duration_without_steps() -> None:
    lean = live_bytes_after(1200, False) - live_bytes_after(200, False)
    kept = live_bytes_after(1200, True) - live_bytes_after(200, True)
    assert kept > 200_000, kept  # 1000 more steps kept: a dict and two lists each
    assert lean < 30_000, lean


def test_the_plot_series_is_bounded_and_keeps_a_one_step_peak() -> None:
    # 2000 cycles into at most 50 points: buckets of 40 cycles. The house alone takes 30 A on
    # phase A for the single second 1234..1235; that lands in bucket 30 (t = 1200).
    timeline = [
        {"t": 1234, "site": {"house_a": [30.0, 2.0, 2.0]}},
        {"t": 1235, "site": {"house_a": [2.0, 2.0, 2.0]}},
    ]
    result = run(parse_scenario(site(2000, timeline)), keep_steps=False, max_series_points=50)
    series = result.series
    assert len(series.t_s) == 50 and series.t_s[:2] == [0.0, 40.0]
    assert series.t_s[30] == 1200.0
    peaks = [grid[0] for grid in series.grid_a]
    assert max(peaks) == peaks[30]
    assert peaks[30] > 25.0  # the overload shows even though 39 of its 40 cycles were quiet
    assert all(len(values) == 50 for values in series.loads_a.values())


def test_cycle_time_median_and_max_without_keeping_every_cycle() -> None:
    metrics = Metrics(limits_a={SITE_NODE: 25.0}, phases=("A",))
    for ms in (0.5, 0.2, 3.0, 0.3, 0.2):
        metrics.add_cycle_ms(ms)
    out = metrics.as_dict()
    assert (out["cycle_ms_p50"], out["cycle_ms_max"]) == (0.3, 3.0)
    metrics.add_cycle_ms(0.4)  # six cycles: the lower of the two middle ones
    assert metrics.as_dict()["cycle_ms_p50"] == 0.3
    assert sum(metrics.cycle_bins.values()) == 6 and len(metrics.cycle_bins) == 5
