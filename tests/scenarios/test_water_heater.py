"""Hot water tanks through the simulator (`type: water_heater`): the cloudy day takes the grid
only in the last feasible window before `min_c_by`, the sunny day only solar, and no day of
random sun and draw-offs ever heats a tank above `max_c`. Hand-worked figures: a 200 l tank
holds 232.6 Wh per kelvin, so 2 kW lift it 8.60 K/h, 8.35 K/h net of its 0.25 K/h loss."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from load_juggler.engine.errors import ConfigError
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario

from .running import on_off_changes, simulate

H = 3600.0


def tank_steps(result: Any) -> list[tuple[float, float]]:
    """(t, commanded A) of the tank in every step."""
    return [(step["t"], step["loads"]["tank"]) for step in result.steps]


def test_cloudy_day_reaches_min_c_by_its_deadline_from_the_grid_in_the_last_window() -> None:
    result = simulate("tank-cloudy-day")
    metrics = result.metrics
    # 36 C at midnight, 34.25 C at the 07:00 shower: 40 l of 12 C water leave
    # (34.25 * 160 + 12 * 40) / 200 = 29.8 C; by 14:00 the loss has taken it to 28.05 C.
    # 50 - 28 = 22 K at 8.35 K/h take 2.63 h: 14:22 is the last moment that still makes it.
    changes = on_off_changes(result, "tank")
    assert changes[0][1] is True
    first_on_s = changes[0][0]
    assert 13.5 * H <= first_on_s <= 14 * H + 22 * 60
    # Off all morning although the tank was below min_c and 370 W of sun were spare.
    assert all(amps == 0 for t, amps in tank_steps(result) if t < first_on_s)
    # On without a break until min_c, then off before 17:00 (solar_only: no grid for target).
    assert changes[1][1] is False and changes[1][0] < 17 * H
    assert metrics["deadline_missed"] == {"tank": 0}
    assert metrics["grid_wh"]["tank"] > 4000.0
    # The sun covered 600 - 230 W of it while it ran before 16:00; nothing before.
    assert 0 < metrics["solar_wh"]["tank"] < 370.0 * (16 * H - first_on_s) / H + 1
    assert metrics["max_c"]["tank"] < 51.0
    assert metrics["min_c"]["tank"] < 29.0


def test_sunny_day_heats_the_tank_from_solar_only() -> None:
    result = simulate("tank-sunny-day")
    metrics = result.metrics
    changes = on_off_changes(result, "tank")
    # Sun at 08:00; the smoothed surplus (alpha 0.5) is (3770 - 230) / 2 = 1770 W < 2 kW at
    # 08:00, 2885 W at 08:01, then the 60 s start delay: on at 08:02 until target
    # (29.8 - 0.25 = 29.55 C at 08:00; 25.5 K at 8.35 K/h take 3.05 h), then never again.
    assert changes[0] == (8 * H + 120, True)
    assert changes[1][1] is False and 11 * H <= changes[1][0] <= 11.3 * H
    assert len(changes) == 2
    assert metrics["grid_wh"] == {"tank": 0.0}
    # 25.5 K * 232.6 Wh/K plus the loss while heating: about 6 kWh, all of it from the sun.
    assert metrics["solar_wh"]["tank"] == pytest.approx(6100.0, rel=0.05)
    assert metrics["deadline_missed"] == {"tank": 0}
    assert metrics["max_c"]["tank"] == pytest.approx(55.0, abs=0.2)


def tank_day(**tank: Any) -> dict[str, Any]:
    return {
        "name": "tank",
        "step_s": 60,
        "duration_s": 86400,
        "site": {"phases": 1, "main_breaker_a": 40, "house_a": [1.0]},
        "loads": [{"id": "tank", "type": "water_heater", "power_w": 2000, **tank}],
    }


def test_a_missed_deadline_is_counted() -> None:
    # 20 C at 16:00 with min_c 50: 30 K need 3.6 h, one is left.
    data = tank_day(mode="off", min_c=50, start_c=20)
    data["timeline"] = [{"t": 16 * 3600, "loads": {"tank": {"mode": "continuous"}}}]
    metrics = run(parse_scenario(data)).metrics
    assert metrics["deadline_missed"] == {"tank": 1}
    assert metrics["grid_wh"]["tank"] > 0


def test_a_draw_off_cools_the_tank_by_mixing_cold_water() -> None:
    # 40 C, 100 of 200 l replaced by 10 C water at 01:00 -> 25 C, no element (mode off).
    data = tank_day(mode="off", start_c=40, inlet_c=10, loss_c_per_h=0)
    data["loads"][0]["draw_offs"] = [{"t": 3600, "litres": 100}]
    data["duration_s"] = 7200
    metrics = run(parse_scenario(data)).metrics
    assert metrics["min_c"]["tank"] == pytest.approx(25.0)
    assert metrics["max_c"]["tank"] == pytest.approx(40.0)


def test_boost_in_a_timeline_heats_to_target_and_returns_to_the_mode_before() -> None:
    data = tank_day(mode="solar_only", start_c=40, loss_c_per_h=1)
    data["timeline"] = [
        {"t": 3600, "loads": {"tank": {"mode": "boost"}}},
        # Another key changes after the boost ended: no second boost.
        {"t": 5 * 3600, "loads": {"tank": {"hysteresis_c": 4}}},
    ]
    result = run(parse_scenario(data))
    changes = on_off_changes(result, "tank")
    # 39 C at 01:00; 16 K at 8.60 - 1 = 7.60 K/h: 2.11 h of grid, then back to solar_only
    # (no sun: off), although the tank cools below target again (52 C by 05:00).
    assert changes[0] == (3600.0, True)
    assert changes[1][1] is False and 3.0 * H <= changes[1][0] <= 3.2 * H
    assert len(changes) == 2


@pytest.mark.parametrize(
    ("tank", "message"),
    [
        ({"target_c": 80, "max_c": 75}, "key 'target_c' = 80.0 is invalid: must be < max_c (75)"),
        ({"min_c_by": "5pm"}, "key 'min_c_by' = '5pm' is invalid: must be a time of day"),
        ({"mode": "solar_priority"}, "key 'mode' = 'solar_priority' is invalid: must be one of"),
        ({"draw_offs": [{"t": 10}]}, "draw_offs[0]: key 'litres' = None is invalid: required"),
    ],
)
def test_bad_tank_keys_are_named(tank: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(tank_day(**tank))
    assert message in str(err.value)


def test_tank_keys_on_another_kind_are_unknown() -> None:
    data = tank_day()
    data["loads"][0]["type"] = "plug"
    data["loads"][0]["min_c"] = 40
    with pytest.raises(ConfigError, match="key 'min_c' = 40 is invalid: unknown key"):
        parse_scenario(data)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    solar=st.lists(st.sampled_from([0, 300, 1500, 2500, 5000]), min_size=24, max_size=24),
    draws=st.lists(st.tuples(st.integers(0, 86399), st.integers(5, 150)), min_size=0, max_size=6),
    start_c=st.floats(10.0, 70.0),
    mode=st.sampled_from(["continuous", "solar_only", "excess", "boost"]),
    headroom_c=st.floats(0.5, 10.0),
    legionella=st.booleans(),
    step_s=st.sampled_from([30, 60]),
)
def test_no_day_of_sun_and_draw_offs_heats_a_tank_above_max_c(
    solar: list[int],
    draws: list[tuple[int, int]],
    start_c: float,
    mode: str,
    headroom_c: float,
    legionella: bool,
    step_s: int,
) -> None:
    max_c = 70.0 + headroom_c
    tank: dict[str, Any] = {
        "mode": mode,
        "start_c": min(start_c, max_c - 0.1),
        "target_c": 62.0,
        "max_c": max_c,
        "min_c": 50,
        "draw_offs": [{"t": t, "litres": litres} for t, litres in draws],
    }
    if legionella:
        # Just under the safety stop: the run must stop at its goal, never at max_c.
        tank["legionella"] = {"temp_c": max_c - 0.4, "every_days": 1}
    data = tank_day(**tank)
    data["step_s"] = step_s
    data["timeline"] = [{"t": h * 3600, "site": {"solar_w": w}} for h, w in enumerate(solar)]
    metrics = run(parse_scenario(data), keep_steps=False, keep_series=False).metrics
    assert metrics["max_c"]["tank"] <= max_c
    assert sum(metrics["overload_s"].values()) == 0


def test_the_plot_shows_the_tank_temperature(tmp_path: Any) -> None:
    from load_juggler.sim.plot import write_plot

    result = simulate("tank-cloudy-day")
    temps = result.series.tank_c["tank"]
    assert len(temps) == len(result.series.t_s) == 1440
    at = dict(zip(result.series.t_s, temps, strict=True))
    # The 07:00 shower: 34.25 C mixed with 40 l of 12 C water -> 29.8 C.
    assert at[7 * H - 60] == pytest.approx(34.25, abs=0.02)
    assert at[7 * H] == pytest.approx(29.8, abs=0.02)
    out = write_plot(result, tmp_path / "tank.png")
    assert out.stat().st_size > 10_000
