"""Random sites through the whole simulator (real engine, controller, plant): no overload.

A step change of house load or solar can overload a breaker at the very reading that shows it,
before any controller can act; every later reading must be within every limit, whatever the
timers, ramps, holds at min and the deadband are doing.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from load_juggler.engine.model import SITE_NODE
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario

MODES = ["continuous", "solar_priority", "solar_only", "excess", "off"]

evse = st.fixed_dictionaries(
    {
        "type": st.just("evse"),
        "mode": st.sampled_from(MODES),
        "priority": st.integers(1, 10),
        "min_a": st.sampled_from([6, 8]),
        "max_a": st.sampled_from([10, 16, 32]),
        "phases": st.sampled_from([1, 3]),
        "phase_map": st.permutations(["A", "B", "C"]),
        "draws": st.booleans(),
    }
)
plug = st.fixed_dictionaries(
    {
        "type": st.just("plug"),
        "mode": st.sampled_from(MODES),
        "priority": st.integers(1, 10),
        "power_w": st.sampled_from([1000, 2000, 3000]),
        "phases": st.just(1),
        "phase_map": st.sampled_from([["A"], ["B"], ["C"]]),
    }
)
house = st.lists(
    st.floats(0, 14, allow_nan=False).map(lambda a: round(a, 1)), min_size=3, max_size=3
)
event = st.fixed_dictionaries(
    {
        "site": st.fixed_dictionaries(
            {"solar_w": st.sampled_from([0, 2000, 5000, 9000, 12000]), "house_a": house}
        )
    }
)


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    loads = draw(st.lists(st.one_of(evse, plug), min_size=1, max_size=4))
    for i, load in enumerate(loads):
        load["id"] = f"load{i}"
        load["phase_map"] = load["phase_map"][: load["phases"]]  # one site phase per load phase
    garage = [load["id"] for load in loads if draw(st.booleans())]
    times = sorted(set(draw(st.lists(st.integers(1, 29).map(lambda m: m * 60), max_size=6))))
    timeline = [{"t": t, **draw(event)} for t in times]
    return {
        "name": "random",
        "duration_s": 1800,
        "site": {
            "main_breaker_a": 25,
            "distribution": draw(st.sampled_from(["priority", "shared", "optimized", "strict"])),
            "max_import_w": draw(st.sampled_from([None, 9000, 17250])),
            "solar_w": draw(st.sampled_from([0, 4000, 9000])),
            "house_a": draw(house),
        },
        "circuits": [{"id": "garage", "limit_a": 16, "members": garage}] if garage else [],
        "loads": loads,
        "timeline": timeline,
    }


@settings(max_examples=int(os.environ.get("LJ_RANDOM_SITES", "40")), deadline=None)
@given(data=scenarios())
def test_no_reading_after_an_event_step_is_over_any_limit(data: dict[str, Any]) -> None:
    result = run(parse_scenario(data))
    event_times = {float(entry["t"]) for entry in data["timeline"]}
    series = result.series
    for index, t in enumerate(series.t_s):
        if t in event_times or index == 0:
            continue
        assert max(series.grid_a[index]) <= 25.0 + 1e-6, (t, series.grid_a[index])
        cap_w = data["site"]["max_import_w"]
        if cap_w is not None and sum(series.grid_a[index]) * 230.0 > cap_w + 1e-3:
            # Only the house may be above the import cap (up to 3 x 14 A = 9660 W of it):
            # then no load may draw anything.
            drawing = {k: v[index] for k, v in series.loads_a.items() if v[index] > 0}
            assert not drawing, (t, series.grid_a[index], drawing)
        for circuit_id, currents in series.circuits_a.items():
            assert max(currents[index]) <= 16.0 + 1e-6, (t, circuit_id, currents[index])
    limits = result.metrics["overload_s"]
    assert all(key.split(".")[0] in {SITE_NODE, "garage"} for key in limits)
    assert sum(limits.values()) <= 5.0 * 3 * len(event_times) * 2
