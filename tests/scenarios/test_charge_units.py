"""Chargers with several plugs in the simulator: the `units:` key, sequential and concurrent.

25 A site, 2 A of house per phase; both plugs 3-phase 6..16 A. A start begins at the 6 A min
and the ramp adds 0.2 A/s (1 A per 5 s cycle).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import ChargeUnit
from load_juggler.sim.example import example_scenario
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import UNIT_KEYS, parse_scenario

from .running import REPO, series, simulate, total_overload_s


def twin(
    unit: dict[str, Any], left: dict[str, Any], right: dict[str, Any], **top: Any
) -> RunResult:
    return run(
        parse_scenario(
            {
                "name": "twin",
                "duration_s": 600,
                "site": {"main_breaker_a": 25, "house_a": [2.0, 2.0, 2.0], "solar_w": 0},
                "units": [{"id": "twin", "members": ["left", "right"], **unit}],
                "loads": [
                    {"id": "left", "type": "evse", "priority": 1, **left},
                    {"id": "right", "type": "evse", "priority": 2, **right},
                ],
                **top,
            }
        )
    )


def test_sequential_two_cars_arriving_and_leaving() -> None:
    result = simulate("twin-charger-sequential")
    left, right = series(result, "left"), series(result, "right")
    # right holds the unit from the start; left arrives at 300 s and waits until right leaves.
    assert right[295.0] == 16.0 and right[595.0] == 16.0
    assert all(left[t] == 0.0 for t in left if t < 600.0)
    assert (left[600.0], right[600.0]) == (6.0, 0.0)
    assert left[895.0] == 16.0
    # Never both at once, and the 20 A garage and the 16 A unit hold.
    assert all(not (left[t] > 0 and right[t] > 0) for t in left)
    assert total_overload_s(result.metrics) == 0.0
    assert result.metrics["start_stops"] == {"left": 1, "right": 1}


def test_concurrent_two_cars_arriving_and_leaving() -> None:
    result = simulate("twin-charger-concurrent")
    left, right = series(result, "left"), series(result, "right")
    assert right[295.0] == 16.0
    # left arrives: both minimums first (right cut to 6 A at once), left ramps to 20 - 6 = 14 A.
    assert (left[300.0], right[300.0]) == (6.0, 6.0)
    assert left[595.0] == 14.0
    assert all(left[t] + right[t] <= 20.0 for t in left)
    # right leaves: left alone, up to its own 16 A.
    assert (left[895.0], right[895.0]) == (16.0, 0.0)


def test_sequential_unit_goes_first_to_the_more_urgent_mode_then_priority() -> None:
    # Both plugged in from the start; right (priority 2) is continuous, left solar_only: the
    # more urgent mode wins over the better priority.
    result = twin({"unit_max_a": 16}, {"mode": "solar_only"}, {"mode": "continuous"})
    assert series(result, "right")[595.0] == 16.0
    assert set(series(result, "left").values()) == {0.0}
    # Same mode: priority decides.
    result = twin({"unit_max_a": 16}, {"mode": "continuous"}, {"mode": "continuous"})
    assert series(result, "left")[595.0] == 16.0
    assert set(series(result, "right").values()) == {0.0}


def test_a_more_urgent_car_takes_the_unit_only_after_the_min_on_time() -> None:
    # right charges at its solar_priority minimum (no sun); at 100 s left's mode becomes
    # continuous: right has run 100 s of its 300 s min on time, so the swap comes at 300 s.
    result = twin(
        {"unit_max_a": 16},
        {"mode": "solar_only"},
        {"mode": "solar_priority"},
        timeline=[{"t": 100, "loads": {"left": {"mode": "continuous"}}}],
    )
    left, right = series(result, "left"), series(result, "right")
    assert right[295.0] == 6.0 and left[295.0] == 0.0
    assert (left[300.0], right[300.0]) == (6.0, 0.0)
    assert left[400.0] == 16.0


def test_a_concurrent_unit_limit_below_the_plugs_maxima_under_a_circuit() -> None:
    result = twin(
        {"unit_max_a": 24, "concurrent": True},
        {"max_a": 16, "circuit": "garage"},
        {"max_a": 16, "circuit": "garage"},
        circuits=[{"id": "garage", "limit_a": 18}],
    )
    left, right = series(result, "left"), series(result, "right")
    # The 18 A garage binds before the 24 A unit: 6 + 6 first, 6 more to left by priority.
    assert (left[595.0], right[595.0]) == (12.0, 6.0)
    assert total_overload_s(result.metrics) == 0.0


def test_unit_keys_are_the_documented_ones() -> None:
    assert UNIT_KEYS == ("id", "unit_max_a", "concurrent", "members")


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ({"members": ["left"]}, "unit 'twin': key 'members'"),
        ({"members": ["left", "nobody"]}, "names no load"),
        ({"unit_max_a": -1}, "unit 'twin': key 'unit_max_a'"),
        ({"concurrent": "maybe"}, "unit 'twin': key 'concurrent'"),
        ({"size": 2}, "size"),
    ],
)
def test_bad_unit_entries_are_refused_with_one_line(unit: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        twin(unit, {}, {})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_example_day_runs_a_charger_with_a_connector_list(tmp_path: Path) -> None:
    """`simulate --example` reads a `connectors:` list as the app does: one load per plug,
    sharing the unit."""
    entries = yaml.safe_load((REPO / "apps.yaml.example").read_text())
    hub = next(name for name, args in entries.items() if args.get("module") == "load_juggler.hub")
    apps = {
        hub: entries[hub],
        "twin": {
            "module": "load_juggler.loads.ocpp",
            "class": "OcppCharger",
            "hub": hub,
            "charger": "twin",
            "unit_max_a": 16,
            "connectors": [
                {"conn_id": 1, "name": "left", "priority": 1},
                {"conn_id": 2, "name": "right", "priority": 2, "max_a": 10},
            ],
        },
    }
    path = tmp_path / "apps.yaml"
    path.write_text(yaml.safe_dump(apps))
    scenario, _ = example_scenario(path)
    loads = {spec.load.id: spec.load for spec in scenario.loads}
    assert sorted(loads) == ["twin_left", "twin_right"]
    assert loads["twin_right"].max_a == 10.0
    assert loads["twin_left"].unit == ChargeUnit("twin", 16.0, False)
    # The morning is enough: both cars are plugged in from 06:00.
    morning = replace(
        scenario,
        duration_s=3600.0,
        timeline=tuple(e for e in scenario.timeline if e.t_s < 3600 - scenario.step_s),
    )
    result = run(morning)
    left, right = series(result, "twin_left"), series(result, "twin_right")
    assert all(not (left[t] > 0 and right[t] > 0) for t in left)
    assert max(left.values()) == 16.0
