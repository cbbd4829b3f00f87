"""Hot water tanks in the simulator with a variable-power heater (`min_power_w` /
`max_power_w` / `step_w`) or a staged one (`stages`), as the WaterHeater app's: the engine
sees the heater's current range or steps and the planner heats at its max power. Hand-worked
figures: a 200 l tank holds 232.6 Wh per kelvin, so 3 kW lift it 12.90 K/h (12.65 K/h net of a
0.25 K/h loss) and 2 kW 8.60 K/h; on 230 V, 3000 W are 13.04 A and 1000 W 4.35 A."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from load_juggler.engine.errors import ConfigError
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario

from .running import on_off_changes

H = 3600.0
POWER = {"min_power_w": 300, "max_power_w": 3000, "step_w": 100}
#: 1 kW and 2 kW elements on the one line: steps of 1 kW and 3 kW.
STAGED = {"stages": [{"power_w": 1000}, {"power_w": 2000}]}


def tank_day(heater: dict[str, Any], solar_w: float = 0.0, **tank: Any) -> dict[str, Any]:
    return {
        "name": "tank",
        "step_s": 60,
        "duration_s": 86400,
        "site": {"phases": 1, "main_breaker_a": 40, "house_a": [1.0], "solar_w": solar_w},
        "loads": [
            {"id": "tank", "type": "water_heater", "start_c": 40, "loss_c_per_h": 0.25}
            | heater
            | tank
        ],
    }


def tank_amps(result: Any) -> list[float]:
    return [step["loads"]["tank"] for step in result.steps]


@pytest.mark.parametrize(("heater", "start_a"), [(POWER, 1.30), (STAGED, 4.35)])
def test_continuous_heats_at_the_heaters_max_power_and_stops_at_target(
    heater: dict[str, Any], start_a: float
) -> None:
    result = run(parse_scenario(tank_day(heater, mode="continuous")))
    amps = tank_amps(result)
    # A start at the lowest power (300 W: 1.30 A; the 1 kW step: 4.35 A), then all 3 kW.
    assert amps[0] == pytest.approx(start_a, abs=0.01)
    assert amps[1] == pytest.approx(13.04, abs=0.01)
    # 40 -> 55 C: 15 K at 12.65 K/h take 1.19 h; off then, and never on again.
    changes = on_off_changes(result, "tank")
    assert changes[1][1] is False and 1.1 * H <= changes[1][0] <= 1.25 * H
    assert result.metrics["max_c"]["tank"] == pytest.approx(55.0, abs=0.1)


def test_a_variable_power_tank_follows_the_surplus_in_steps() -> None:
    result = run(parse_scenario(tank_day(POWER, solar_w=1500, mode="solar_only")))
    # 1500 W of sun less 230 W of house: 1270 W = 5.52 A, floored to the engine's 0.1 A.
    assert tank_amps(result)[2:10] == [5.5] * 8
    assert result.metrics["grid_wh"] == {"tank": 0.0}


def test_a_staged_tank_takes_the_step_the_surplus_covers() -> None:
    result = run(parse_scenario(tank_day(STAGED, solar_w=1500, mode="solar_only")))
    # 1270 W of surplus: the 1 kW step fits, the 3 kW one does not.
    assert tank_amps(result)[1:10] == [pytest.approx(4.348, abs=0.001)] * 9
    assert result.metrics["grid_wh"] == {"tank": 0.0}


def test_the_planner_starts_later_with_a_stronger_heater() -> None:
    # 36 C at midnight, no sun, min_c 50 by 17:00. By 15:00 the loss leaves 32.25 C: 17.75 K,
    # planned at 90 % of the rate and 15 min early. 2 kW: 17.75 / (7.74 - 0.25) + 0.25 = 2.62 h
    # (14:23); 3 kW: 17.75 / (11.61 - 0.25) + 0.25 = 1.81 h (about 15:11).
    starts = {}
    for name, heater in (("switch", {"power_w": 2000}), ("power", POWER)):
        data = tank_day(heater, mode="solar_only", start_c=36, min_c=50)
        result = run(parse_scenario(data))
        starts[name] = on_off_changes(result, "tank")[0][0]
        assert result.metrics["deadline_missed"] == {"tank": 0}
    assert 14.2 * H <= starts["switch"] <= 14.5 * H
    assert 15.0 * H <= starts["power"] <= 15.3 * H


@pytest.mark.parametrize(
    ("heater", "message"),
    [
        (
            {"power_w": 2000, "max_power_w": 3000},
            "key 'power_w / max_power_w' = [2000, 3000] is invalid: a tank's heater is one of",
        ),
        (
            {**STAGED, "step_w": 100},
            "key 'step_w / stages' = [100, [{'power_w': 1000}, {'power_w': 2000}]] is invalid",
        ),
        ({"min_power_w": 300}, "key 'max_power_w' = None is invalid: required"),
    ],
)
def test_a_tank_has_one_heater(heater: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(tank_day(heater))
    assert message in str(err.value)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    heater=st.sampled_from([POWER, STAGED]),
    solar=st.lists(st.sampled_from([0, 800, 2500, 5000]), min_size=24, max_size=24),
    draws=st.lists(st.tuples(st.integers(0, 86399), st.integers(5, 150)), max_size=5),
    mode=st.sampled_from(["continuous", "solar_only", "excess", "boost"]),
    start_c=st.floats(10.0, 69.0),
)
def test_no_day_heats_a_tank_with_either_heater_above_max_c(
    heater: dict[str, Any],
    solar: list[int],
    draws: list[tuple[int, int]],
    mode: str,
    start_c: float,
) -> None:
    data = tank_day(
        heater,
        mode=mode,
        start_c=start_c,
        target_c=62,
        max_c=70,
        min_c=50,
        draw_offs=[{"t": t, "litres": litres} for t, litres in draws],
    )
    data["timeline"] = [{"t": h * 3600, "site": {"solar_w": w}} for h, w in enumerate(solar)]
    metrics = run(parse_scenario(data), keep_steps=False, keep_series=False).metrics
    assert metrics["max_c"]["tank"] <= 70.0
    assert sum(metrics["overload_s"].values()) == 0
