"""The tank's thermal model (volume figures, online learning, draw-offs) and the latest-start
planner, with hand-worked numbers: 200 l hold 1.163 * 200 = 232.6 Wh per kelvin."""

from __future__ import annotations

import pytest

from load_juggler.engine.thermal import (
    PLAN_MARGIN_S,
    TankLearner,
    TankModel,
    latest_start_s,
    model_from_dict,
    volume_model,
)

MODEL_200 = volume_model(200.0)


def test_a_200_litre_tank_starts_from_its_heat_capacity() -> None:
    # 1000 Wh / 232.6 Wh/K = 4.2992 K per kWh; 60 W of loss / 232.6 = 0.2580 K per hour.
    assert MODEL_200.heat_c_per_kwh == pytest.approx(4.2992, abs=1e-4)
    assert MODEL_200.loss_c_per_h == pytest.approx(0.2580, abs=1e-4)
    # From 30 to 50 C: 20 K * 232.6 Wh/K.
    assert MODEL_200.energy_wh(30.0, 50.0) == pytest.approx(4652.0, abs=0.5)
    assert MODEL_200.energy_wh(50.0, 45.0) == 0.0
    # 2 kW: 2 * 4.2992 - 0.2580 = 8.340 K per hour.
    assert MODEL_200.heating_c_per_h(2000.0) == pytest.approx(8.340, abs=1e-3)


def test_the_latest_start_counts_the_loss_while_waiting_and_the_margins() -> None:
    # 30 -> 50 C by 17 h from now at 2 kW, planned at 90 % of the element:
    # r = 0.9 * 2 * 4.29923 - 0.25795 = 7.48065 K/h; w = (17 r - 20) / (r + 0.25795)
    #   = 107.1711 / 7.73861 = 13.84888 h = 49855.97 s, minus the 900 s margin.
    start = latest_start_s(0.0, 17 * 3600.0, 30.0, 50.0, 2000.0, MODEL_200)
    assert start == pytest.approx(49855.97 - PLAN_MARGIN_S, abs=1.0)


def test_no_start_when_the_tank_stays_warm_enough_and_now_when_it_is_late() -> None:
    # 55 C loses 17 * 0.258 = 4.4 K by the deadline: still 50.6 >= 50.
    assert latest_start_s(0.0, 17 * 3600.0, 55.0, 50.0, 2000.0, MODEL_200) is None
    # One hour cannot lift 20 K: start now (never a start in the past).
    assert latest_start_s(100.0, 3700.0, 30.0, 50.0, 2000.0, MODEL_200) == 100.0
    # An element weaker than the loss never gets there: start now.
    assert latest_start_s(0.0, 36000.0, 30.0, 50.0, 50.0, MODEL_200) == 0.0


def feed(
    learner: TankLearner,
    hours: float,
    *,
    start_s: float,
    temp_c: float,
    energy_wh: float,
    power_w: float,
    heat_c_per_kwh: float,
    loss_c_per_h: float,
    draw_offs: dict[int, float] | None = None,
) -> tuple[float, float, float]:
    """Minute samples of a tank whose true rates are given; `draw_offs` {minute: drop C}."""
    t_s = start_s
    for minute in range(int(hours * 60)):
        t_s += 60.0
        energy_wh += power_w / 60.0
        temp_c += power_w / 60.0 / 1000.0 * heat_c_per_kwh - loss_c_per_h / 60.0
        temp_c -= (draw_offs or {}).get(minute, 0.0)
        learner.observe(t_s, round(temp_c, 1), energy_wh)
    return t_s, temp_c, energy_wh


def test_idle_windows_teach_the_true_loss_and_a_draw_off_does_not_count_as_loss() -> None:
    learner = TankLearner(MODEL_200)
    # True loss 0.5 K/h (twice the volume's guess); a 6 K shower every 5 hours.
    showers = {m: 6.0 for m in range(150, 60 * 48, 300)}
    feed(
        learner,
        48,
        start_s=0.0,
        temp_c=70.0,
        energy_wh=0.0,
        power_w=0.0,
        heat_c_per_kwh=4.3,
        loss_c_per_h=0.5,
        draw_offs=showers,
    )
    model = learner.model
    assert model.loss_samples >= 5
    # Had the showers counted, 6 K per 5 h would add 1.2 K/h.
    assert model.loss_c_per_h == pytest.approx(0.5, abs=0.08)
    assert model.heat_c_per_kwh == MODEL_200.heat_c_per_kwh  # nothing heated: unchanged


def test_heating_windows_teach_the_heating_rate_through_draw_offs() -> None:
    learner = TankLearner(MODEL_200)
    # The element really gives 5.0 K per kWh (sensor high in the tank), loss as guessed.
    feed(
        learner,
        3,
        start_s=0.0,
        temp_c=20.0,
        energy_wh=0.0,
        power_w=2000.0,
        heat_c_per_kwh=5.0,
        loss_c_per_h=0.258,
        draw_offs={40: 5.0, 100: 4.0},
    )
    assert learner.model.heat_samples >= 5
    assert learner.model.heat_c_per_kwh == pytest.approx(5.0, abs=0.25)


def test_a_heating_window_without_a_rise_is_dropped() -> None:
    learner = TankLearner(MODEL_200)
    # Energy counted (no power sensor, switch on) but the tank's own thermostat has cut.
    feed(
        learner,
        2,
        start_s=0.0,
        temp_c=60.0,
        energy_wh=0.0,
        power_w=2000.0,
        heat_c_per_kwh=0.0,
        loss_c_per_h=0.0,
    )
    assert learner.model.heat_c_per_kwh == MODEL_200.heat_c_per_kwh
    assert "without a rise" in learner.note


def test_a_gap_forgets_the_window() -> None:
    learner = TankLearner(MODEL_200)
    learner.observe(0.0, 50.0, 0.0)
    learner.forget()
    # Three hours later 2 K lower: a window across the gap would teach 0.667 K/h.
    learner.observe(3 * 3600.0, 48.0, 0.0)
    learner.observe(3 * 3600.0 + 60, 48.0, 0.0)
    assert learner.model.loss_samples == 0


def test_a_kept_model_is_adopted_only_when_plausible() -> None:
    kept = {"heat_c_per_kwh": 5.0, "loss_c_per_h": 0.4, "heat_samples": 3, "loss_samples": 2}
    assert model_from_dict(kept, MODEL_200) == TankModel(5.0, 0.4, 3, 2)
    # 100 K per kWh is no water tank (more than 3x the volume's figure): start afresh.
    assert model_from_dict({**kept, "heat_c_per_kwh": 100.0}, MODEL_200) == MODEL_200
    assert model_from_dict({"heat_c_per_kwh": "x"}, MODEL_200) == MODEL_200
    assert model_from_dict(None, MODEL_200) == MODEL_200
