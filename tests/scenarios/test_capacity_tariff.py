"""The capacity tariff through the simulator: every window's average import stays under the limit.

A few random days (`LJ_CAPACITY_DAYS` [2]; 30 for a month, about a minute per example) at a
60 s cycle: the house changes every hour (at most half the limit, so the limit can be met at
all), solar comes and goes, and two cars in modes that take the grid try to use all they can.
A house step shows only in the sample after it, so a cycle much shorter than the window is
what keeps the average: the hub's cycle is seconds, this test's a minute. The window averages
are computed here from the steps' grid currents, independently of the simulator's
`capacity_peak_w`, which must agree.
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario

VOLTS = 230.0
WINDOW_S = 900.0
STEP_S = 60.0
DAYS = int(os.environ.get("LJ_CAPACITY_DAYS", "2"))


def month(seed: int, limit_w: float, hours: int) -> dict[str, Any]:
    """Deterministic random hours from `seed`: one house/solar change every hour."""
    import random

    rng = random.Random(seed)
    house_max_a = limit_w * 0.5 / (3 * VOLTS)
    timeline = []
    for hour in range(1, hours):
        house = [round(rng.uniform(0.3, house_max_a), 2) for _ in range(3)]
        solar = rng.choice([0, 0, 0, 1500, 4000])
        timeline.append({"t": hour * 3600, "site": {"house_a": house, "solar_w": solar}})
    return {
        "name": "capacity-month",
        "start": "2026-03-01T00:07:30+01:00",  # windows do not start with the run
        "step_s": STEP_S,
        "duration_s": hours * 3600,
        "site": {
            "main_breaker_a": 32,
            "house_a": [1.0, 1.0, 1.0],
            "capacity_limit_w": limit_w,
        },
        "loads": [
            {"id": "car", "type": "evse", "mode": "continuous", "min_a": 6, "max_a": 16},
            {
                "id": "van",
                "type": "evse",
                "mode": "solar_priority",
                "min_a": 6,
                "max_a": 16,
                "phases": 1,
                "phase_map": ["B"],
            },
        ],
        "timeline": timeline,
    }


def window_averages(steps: list[dict[str, Any]], start_s: float) -> dict[float, float]:
    energy: dict[float, float] = {}
    for step in steps:
        clock_s = start_s + step["t"]
        window = math.floor(clock_s / WINDOW_S) * WINDOW_S
        import_w = max(0.0, sum(step["grid_a"]) * VOLTS)
        energy[window] = energy.get(window, 0.0) + import_w * STEP_S
    return {window: ws / WINDOW_S for window, ws in energy.items()}


# No shrinking: one example is seconds of simulation, a failure's seed is enough to replay.
@settings(max_examples=3, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(seed=st.integers(0, 2**32 - 1), limit_w=st.sampled_from([5000.0, 7500.0, 10000.0]))
def test_every_window_average_stays_under_the_limit_over_random_days(seed, limit_w):
    result = run(parse_scenario(month(seed, limit_w, DAYS * 24)))
    start_s = result.scenario.plan.start_s
    averages = window_averages(result.steps, start_s)
    worst = max(averages.values())
    assert worst <= limit_w, f"window average {worst:.0f} W above {limit_w:.0f} W"
    assert result.metrics["capacity_peak_w"] == pytest.approx(worst, abs=0.2)
    # The cars did charge: the limit was used, not avoided by stopping everything.
    assert result.metrics["energy_wh"]["car"] > 0
    assert worst > limit_w * 0.8


def test_without_the_tariff_the_same_site_goes_over():
    # The guard above can fail: the same cars without `capacity_limit_w` exceed 5000 W.
    data = month(7, 5000.0, 6)
    del data["site"]["capacity_limit_w"]
    result = run(parse_scenario(data))
    worst = max(window_averages(result.steps, result.scenario.plan.start_s).values())
    assert worst > 5000.0
    assert result.metrics["capacity_peak_w"] == pytest.approx(worst, abs=0.2)
