"""Deadlines and prices through the simulator (issue 13's "done when").

A 3-phase car at 16 A takes 16 x 3 x 230 = 11040 W. The scenarios start at 17:00 (+01:00), so
07:00 is t = 50400 s, 00:00 t = 25200 s, 03:00 t = 36000 s; 04:00 in the third is t = 0.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.control_types import LoadReading, Readings
from load_juggler.engine.controller import Controller
from load_juggler.engine.deadline import ChargeGoal
from load_juggler.sim.runner import plant_of, run
from load_juggler.sim.scenario import load_scenario

from .running import DATA, simulate

VOLTS = 230.0
STEP_S = 30.0


def car_energy_between(steps, start_t: float, end_t: float) -> float:
    """Energy (Wh) of the car's commands over [start_t, end_t), 3 phases at 230 V."""
    return sum(
        s["loads"]["car"] * 3 * VOLTS * STEP_S / 3600.0 for s in steps if start_t <= s["t"] < end_t
    )


def test_a_car_needing_20_kwh_by_seven_meets_it_through_the_evening_peak():
    result = simulate("deadline-evening-peak")
    metrics = result.metrics
    assert metrics["deadline_missed_s"] == {"car": 0.0}
    assert metrics["energy_at_deadline_wh"]["car"] >= 20000.0
    assert sum(metrics["overload_s"].values()) == 0.0
    # solar_only with no sun: nothing before the latest start. 20 kWh at 90 % of 11040 W is
    # 7246 s, plus 600 s margin: start at 50400 - 7846 = 42554 s (04:49), one run, no restart.
    first_on = next(s["t"] for s in result.steps if s["loads"]["car"] > 0)
    assert 42554.0 <= first_on <= 42554.0 + STEP_S
    assert metrics["start_stops"] == {"car": 1}
    assert car_energy_between(result.steps, 0.0, 42554.0) == 0.0


def test_with_prices_it_charges_in_the_cheapest_hours():
    result = simulate("deadline-cheapest-slots")
    metrics = result.metrics
    assert metrics["deadline_missed_s"] == {"car": 0.0}
    # Everything the car took was in 00:00-03:00 (t 25200..36000) at 0.05.
    total = car_energy_between(result.steps, 0.0, 50400.0)
    assert total >= 20000.0
    assert car_energy_between(result.steps, 25200.0, 36000.0) == pytest.approx(total)
    # Cost of all import, worked from the steps: 0.05 per kWh from 00:00 to 03:00, else 0.30.
    cost = 0.0
    for s in result.steps:
        import_kwh = max(0.0, sum(s["grid_a"]) * VOLTS) * STEP_S / 3.6e6
        cost += import_kwh * (0.05 if 25200.0 <= s["t"] < 36000.0 else 0.30)
    assert metrics["cost"] == pytest.approx(cost, abs=1e-3)
    # The same car at its latest start (no prices) pays 0.30 for its 20 kWh: 5 more.
    late = simulate("deadline-evening-peak")
    late_cost = sum(
        max(0.0, sum(s["grid_a"]) * VOLTS)
        * STEP_S
        / 3.6e6
        * (0.05 if 25200 <= s["t"] < 36000 else 0.3)
        for s in late.steps
    )
    assert late_cost - metrics["cost"] > 0.25 * 20.0


def test_an_impossible_target_runs_at_once_and_reports_the_miss():
    result = simulate("deadline-impossible")
    metrics = result.metrics
    # (90 - 30) % of 77 kWh at 90 % efficiency = 51333 Wh from the grid; at 11040 W that is
    # 16739 s from 04:00, so 07:00 (10800 s) is missed by about 5939 s (plus the ramp).
    assert result.steps[0]["loads"]["car"] > 0
    assert 5939.0 <= metrics["deadline_missed_s"]["car"] <= 5939.0 + 120.0
    # By 07:00 it had 3 h at up to 11040 W: at most 33120 Wh.
    assert 32500.0 <= metrics["energy_at_deadline_wh"]["car"] <= 33120.0


def test_the_controller_publishes_the_miss_and_the_energy_still_needed():
    scenario = load_scenario(DATA / "deadline-impossible.yaml")
    controller = Controller(plant_of(scenario))
    now_s = scenario.plan.start_s
    goal = ChargeGoal(ready_by_s=now_s + 10800.0, energy_wh=51333.0)
    readings = Readings(
        grid_a=(3.0, 3.0, 3.0),
        voltage_v=VOLTS,
        loads={"car": LoadReading(draw_a=(0.0, 0.0, 0.0), mode="solar_only", goal=goal)},
    )
    result = controller.step(now_s, readings)
    plan = result.plans["car"]
    # First cycle: the car's rating, 11040 W, planned at 90 % = 9936 W: 18599 s of running,
    # 7799 s too many = 130 min.
    assert plan.power_w == pytest.approx(9936.0)
    assert plan.energy_wh == 51333.0
    assert plan.reason == "deadline: will miss by 130 min"
    assert result.mode_reasons == {"car": "deadline: will miss by 130 min"}
    assert result.commands["car"].on


def test_run_json_has_the_plan_metrics_only_when_the_scenario_asks():
    plain = run(load_scenario(DATA / "garage-circuit.yaml")).metrics
    assert not {"cost", "capacity_peak_w", "deadline_missed_s"} & set(plain)


def base(**top):
    return {
        "site": {"main_breaker_a": 25},
        "loads": [{"id": "car", "type": "evse"}, {"id": "boiler", "type": "plug", "power_w": 2000}],
        **top,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            base(start="tomorrow"),
            "scenario: key 'start' = 'tomorrow' is invalid: must be an ISO date and time, e.g. "
            "2026-01-12T17:00:00+01:00",
        ),
        (
            base(prices=[{"start": "noon", "price": 1}]),
            "prices[0]: key 'start' = 'noon' is invalid: must be an ISO date and time or seconds "
            "from the start",
        ),
        (
            base(prices=[{"start": 0}]),
            "prices[0]: key 'start' = {'start': 0} is invalid: each price is {start, price}",
        ),
        (
            {**base(), "loads": [{"id": "car", "ready_by": "07:00"}]},
            "load 'car': key 'ready_by' = '07:00' is invalid: needs target_energy_kwh or soc",
        ),
        (
            {**base(), "loads": [{"id": "car", "ready_by": "7am", "target_energy_kwh": 5}]},
            "load 'car': key 'ready_by' = '7am' is invalid: must be a time of day such as "
            '"07:00" or an ISO date and time',
        ),
        (
            {**base(), "loads": [{"id": "car", "ready_by": "07:00", "soc": 20, "target_soc": 80}]},
            "load 'car': key 'battery_kwh' = None is invalid: required with soc",
        ),
        (
            {**base(), "loads": [{"id": "b", "type": "plug", "power_w": 2000, "ready_by": 420}]},
            "load 'b': key 'ready_by' = 420 is invalid: only a charger (type evse) has it",
        ),
        (
            {**base(), "site": {"main_breaker_a": 25, "capacity_limit_w": 0}},
            "site: key 'capacity_limit_w' = 0 is invalid: must be a number > 0",
        ),
    ],
)
def test_bad_plan_keys_are_one_line_naming_the_key(data, message):
    from load_juggler.engine.errors import ConfigError
    from load_juggler.sim.scenario import parse_scenario

    with pytest.raises(ConfigError) as info:
        parse_scenario(data)
    assert str(info.value) == message


def test_a_soc_goal_and_a_timed_price_list_are_read_into_the_plan():
    from load_juggler.sim.scenario import parse_scenario

    data = {
        **base(
            start="2026-01-12T22:00:00+01:00",
            prices=[{"start": 0, "price": 0.2}, {"start": 1800, "price": -0.1}],
        ),
        "loads": [
            {
                "id": "car",
                "ready_by": "2026-01-13T06:00:00+01:00",
                "soc": 40,
                "battery_kwh": 50,
                "target_soc": 80,
                "charge_efficiency": 0.8,
            },
        ],
    }
    plan = parse_scenario(data).plan
    start_s = plan.start_s
    assert [(p.start_s - start_s, p.end_s - start_s, p.price) for p in plan.prices] == [
        (0.0, 1800.0, 0.2),
        (1800.0, 3600.0, -0.1),
    ]
    goal = plan.goals["car"]
    assert goal.ready_by_s - start_s == 8 * 3600.0
    # (80 - 40) % of 50 kWh = 20 kWh into the battery, 25 kWh from the grid at 80 %; after
    # 5 kWh drawn (4 kWh stored, SoC 48 %) 20 kWh are left.
    assert goal.needed_wh(0.0) == pytest.approx(25000.0)
    assert goal.needed_wh(5000.0) == pytest.approx(20000.0)


def test_an_excess_plug_runs_from_the_grid_while_the_price_is_at_or_below_max_price():
    from load_juggler.sim.scenario import parse_scenario

    data = {
        "step_s": 60,
        "duration_s": 7200,
        "prices": [{"start": 0, "price": 0.2}, {"start": 3600, "price": -0.01}],
        "site": {"main_breaker_a": 25, "house_a": [1, 1, 1]},
        "loads": [
            {"id": "boiler", "type": "plug", "mode": "excess", "power_w": 2300, "max_price": 0},
        ],
    }
    result = run(parse_scenario(data))
    on = [s["t"] for s in result.steps if s["loads"]["boiler"] > 0]
    # No sun: off while the price is 0.2, on (10 A at 230 V) from the negative hour at 3600.
    assert on and on[0] == 3600.0 and len(on) == 60
    assert result.steps[-1]["loads"]["boiler"] == 10.0
    # Cost: 0.69 kWh of house at 0.2 = 0.138; then at -0.01 one step of house alone (the
    # boiler draws from the step after its command) and 59 steps of 2990 W: 2.95167 kWh.
    assert result.metrics["cost"] == pytest.approx(0.138 - 0.0295167, abs=1e-4)
