"""Scenario keys for the wiring real houses have (`phases: 2`, a repeated `phase_map`) and for
`site.metering`, run through the simulator: parsed, counted by the plant and the engine alike."""

from __future__ import annotations

from typing import Any

import pytest

from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import Metering
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import parse_scenario

from .running import series, total_overload_s


def simulate_data(data: dict[str, Any]) -> RunResult:
    return run(parse_scenario(data))


def test_three_phase_charger_on_a_one_phase_supply_never_overloads_phase_a() -> None:
    # 32 A breaker, 2 A house: 30 A on A for three lines on A = 10 A per line.
    result = simulate_data(
        {
            "name": "one-phase-supply",
            "duration_s": 300,
            "site": {"phases": 1, "main_breaker_a": 32, "house_a": [2.0]},
            "loads": [
                {"id": "car", "type": "evse", "phases": 3, "phase_map": ["A", "A", "A"]},
            ],
        }
    )
    assert total_overload_s(result.metrics) == 0.0
    assert result.final["car"] == {"allocated_a": 10.0, "on": True}
    assert result.metrics["peak_a"]["site.A"] == pytest.approx(32.0)


def test_two_phase_car_loads_l1_and_l2_only() -> None:
    # House 2 A per phase, 25 A breaker; the 2-phase car takes 16 A (its max) on A and B.
    result = simulate_data(
        {
            "name": "two-phase-car",
            "duration_s": 300,
            "site": {"main_breaker_a": 25, "house_a": [2.0, 2.0, 2.0]},
            "loads": [{"id": "car", "type": "evse", "phases": 2}],
        }
    )
    assert result.final["car"] == {"allocated_a": 16.0, "on": True}
    assert result.metrics["peak_a"]["site.A"] == pytest.approx(18.0)
    assert result.metrics["peak_a"]["site.C"] == pytest.approx(2.0)
    assert series(result, "car")[0.0] == 6.0  # a start goes to the min, then ramps


def test_per_phase_metering_limits_a_one_phase_solar_car_to_its_phase() -> None:
    # 6900 W of sun, 2300 W per phase; house 1 A = 230 W on A. Net: 6900 - 230 = 6670 W =
    # 29 A; per phase: 2300 - 230 = 2070 W = 9 A.
    def final(metering: str) -> float:
        data = {
            "name": f"metering-{metering}",
            "duration_s": 600,
            "site": {
                "main_breaker_a": 40,
                "solar_w": 6900,
                "house_a": [1.0, 0.0, 0.0],
                "metering": metering,
            },
            "loads": [
                {
                    "id": "car",
                    "type": "evse",
                    "mode": "solar_only",
                    "phases": 1,
                    "max_a": 32,
                }
            ],
        }
        assert parse_scenario(data).site.site.metering is Metering(metering)
        return simulate_data(data).final["car"]["allocated_a"]

    assert final("net") == 29.0
    assert final("per_phase") == 9.0


def test_bad_metering_and_phases_are_refused_with_the_key() -> None:
    with pytest.raises(ConfigError, match="metering"):
        parse_scenario({"name": "x", "site": {"metering": "gross"}, "loads": []})
    with pytest.raises(ConfigError, match="phases"):
        parse_scenario({"name": "x", "loads": [{"id": "car", "phases": 4}]})
