"""Devices that do not do what they are told, through the simulator's plant and runner.

Scenario keys `loads[].meter_interval_s`, `obeys`, `stuck_a`, `manual_on`, `draw_limit_a`,
`site.inverter.max_w` as a cap on the AC output, and the `overload_episodes` metric. Every
number below is worked by hand from the scenario, not read back from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from load_juggler.engine.control_types import Command, LoadState
from load_juggler.engine.errors import ConfigError
from load_juggler.sim.plant import SimulatedSite
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario
from load_juggler.simulate import main

from .running import series


def scenario(site: dict[str, Any], loads: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {
        "name": "devices",
        "duration_s": 300,
        "site": {"main_breaker_a": 63, "house_a": [0.0, 0.0, 0.0], **site},
        "loads": loads,
        **top,
    }


def plant_of(data: dict[str, Any]) -> SimulatedSite:
    s = parse_scenario(data)
    return SimulatedSite(
        site=s.site, loads={spec.load.id: spec for spec in s.loads}, circuits=s.circuits
    )


def command(load_id: str, amps: float, on: bool = True) -> dict[str, Command]:
    return {load_id: Command(load_id, amps, on, True, LoadState.CHARGING, "test")}


MODES = {"car": "continuous", "heater": "excess"}


def test_a_lagging_meter_reports_the_old_draw_while_the_grid_carries_the_new_one() -> None:
    plant = plant_of(
        scenario({}, [{"id": "car", "phases": 3, "meter_interval_s": 60, "max_a": 32}])
    )
    assert plant.readings(plant.grid_a(), {"car": "continuous"}, 0.0).loads["car"].draw_a == (
        0.0,
        0.0,
        0.0,
    )
    plant.apply(command("car", 10.0))
    grid = plant.grid_a()
    assert grid == (10.0, 10.0, 10.0)  # the breakers see the car at once
    at_55 = plant.readings(grid, {"car": "continuous"}, 55.0)
    assert at_55.loads["car"].draw_a == (0.0, 0.0, 0.0)  # the meter last read at t = 0
    assert at_55.grid_a == (10.0, 10.0, 10.0)
    at_60 = plant.readings(grid, {"car": "continuous"}, 60.0)
    assert at_60.loads["car"].draw_a == (10.0, 10.0, 10.0)
    plant.apply(command("car", 0.0, on=False))
    assert plant.readings(plant.grid_a(), {"car": "continuous"}, 115.0).loads["car"].draw_a == (
        10.0,
        10.0,
        10.0,
    )
    assert plant.readings(plant.grid_a(), {"car": "continuous"}, 120.0).loads["car"].draw_a == (
        0.0,
        0.0,
        0.0,
    )


def test_without_meter_interval_the_meter_follows_every_cycle() -> None:
    plant = plant_of(scenario({}, [{"id": "car", "phases": 3}]))
    plant.readings(plant.grid_a(), {"car": "continuous"}, 0.0)
    plant.apply(command("car", 7.0))
    reading = plant.readings(plant.grid_a(), {"car": "continuous"}, 5.0)
    assert reading.loads["car"].draw_a == (7.0, 7.0, 7.0)


def test_a_charger_that_does_not_obey_draws_its_max_whatever_it_is_told() -> None:
    plant = plant_of(scenario({}, [{"id": "car", "phases": 3, "max_a": 20, "obeys": False}]))
    assert plant.grid_a() == (20.0, 20.0, 20.0)  # never commanded: still 20 A
    plant.apply(command("car", 8.0))
    assert plant.grid_a() == (20.0, 20.0, 20.0)
    plant.apply(command("car", 0.0, on=False))
    assert plant.grid_a() == (20.0, 20.0, 20.0)
    assert plant.readings(plant.grid_a(), {"car": "continuous"}).loads["car"].draw_a == (
        20.0,
        20.0,
        20.0,
    )


def test_stuck_a_as_one_number_or_per_load_phase() -> None:
    one = plant_of(scenario({}, [{"id": "car", "phases": 3, "obeys": False, "stuck_a": 9}]))
    assert one.grid_a() == (9.0, 9.0, 9.0)
    per_phase = scenario(
        {},
        [
            {
                "id": "car",
                "phases": 3,
                "phase_map": ["B", "C", "A"],
                "obeys": False,
                "stuck_a": [12, 0, 3],
            }
        ],
    )
    # L1 = 12 A on site phase B, L2 = 0 A on C, L3 = 3 A on A.
    assert plant_of(per_phase).grid_a() == (3.0, 12.0, 0.0)


def test_a_disobeying_plug_draws_its_rated_power_when_switched_off() -> None:
    plant = plant_of(
        scenario({}, [{"id": "heater", "type": "plug", "power_w": 2300, "obeys": False}])
    )
    plant.apply(command("heater", 0.0, on=False))
    assert plant.grid_a() == (10.0, 0.0, 0.0)  # 2300 W / 230 V on phase A


def test_a_plug_switched_on_by_hand_draws_until_switched_off_by_hand() -> None:
    data = scenario(
        {"house_a": [2.0, 0.0, 0.0]},
        [{"id": "heater", "type": "plug", "mode": "off", "power_w": 2300}],
        duration_s=60,
        timeline=[
            {"t": 20, "loads": {"heater": {"manual_on": True}}},
            {"t": 40, "loads": {"heater": {"manual_on": False}}},
        ],
    )
    result = run(parse_scenario(data))
    grid_a = {step["t"]: step["grid_a"][0] for step in result.steps}
    # Mode off: decided off all along; by hand 10 A on top of the 2 A house from 20 s to 40 s.
    assert [grid_a[t] for t in (15.0, 20.0, 35.0, 40.0)] == [2.0, 12.0, 12.0, 2.0]
    assert set(series(result, "heater").values()) == {0.0}
    plant = plant_of(
        scenario({}, [{"id": "heater", "type": "plug", "power_w": 2300, "manual_on": True}])
    )
    assert plant.readings(plant.grid_a(), MODES).loads["heater"].draw_a == (10.0,)


def test_draw_limit_a_caps_what_a_car_takes_and_can_change_on_the_timeline() -> None:
    data = scenario(
        {},
        [{"id": "car", "phases": 1, "min_a": 6, "max_a": 16, "draw_limit_a": 10}],
        duration_s=600,
        timeline=[{"t": 300, "loads": {"car": {"draw_limit_a": 4}}}],
    )
    result = run(parse_scenario(data))
    grid_a = {step["t"]: step["grid_a"][0] for step in result.steps}
    # Offered 16 A (after the ramp) but the car takes 10 A, then tapers to 4 A.
    assert series(result, "car")[295.0] == 16.0
    assert grid_a[295.0] == 10.0
    assert grid_a[305.0] == 4.0
    plant = plant_of(scenario({}, [{"id": "car", "phases": 3, "draw_limit_a": 5}]))
    plant.apply(command("car", 16.0))
    assert plant.grid_a() == (5.0, 5.0, 5.0)


def test_inverter_max_w_caps_the_ac_output_of_solar() -> None:
    # 10 kW of panels behind a 6 kW inverter, 3 phases, nothing consumed: export 6000 W,
    # 6000 / (230 x 3) = 8.696 A per phase.
    plant = plant_of(scenario({"solar_w": 10000, "inverter": {"max_w": 6000}}, []))
    plant.settle_battery(5.0)
    assert plant.grid_a() == pytest.approx((-8.696, -8.696, -8.696), abs=1e-3)
    assert plant.readings(plant.grid_a(), {}).solar_w == 6000.0


def test_inverter_max_w_caps_solar_plus_battery_discharge() -> None:
    # House 20 A per phase = 13800 W; 4 kW solar + at most 8 - 4 = 4 kW from the battery
    # (its own limit is 5 kW): 8 kW through the inverter, 5800 W = 8.406 A per phase from the grid.
    plant = plant_of(
        scenario(
            {
                "house_a": [20.0, 20.0, 20.0],
                "solar_w": 4000,
                "inverter": {"max_w": 8000},
                "battery": {"soc": 90, "max_discharge_w": 5000},
            },
            [],
        )
    )
    plant.settle_battery(5.0)
    assert plant.battery_w == -4000.0
    assert plant.grid_a() == pytest.approx((8.406, 8.406, 8.406), abs=1e-3)


def test_clipped_solar_charges_the_battery_on_the_dc_side() -> None:
    # 10 kW of panels, a 6 kW inverter, a battery taking 3 kW: the panels make 9 kW,
    # 6 kW leave through the inverter (export 8.696 A per phase).
    plant = plant_of(
        scenario(
            {
                "solar_w": 10000,
                "inverter": {"max_w": 6000},
                "battery": {"soc": 50, "max_charge_w": 3000},
            },
            [],
        )
    )
    plant.settle_battery(5.0)
    assert plant.battery_w == 3000.0
    assert plant.grid_a() == pytest.approx((-8.696, -8.696, -8.696), abs=1e-3)
    assert plant.readings(plant.grid_a(), {}).solar_w == 9000.0


EPISODES = {
    "name": "episodes",
    "duration_s": 80,
    "site": {"main_breaker_a": 25, "house_a": [5.0, 5.0, 5.0]},
    "timeline": [
        {"t": 10, "site": {"house_a": [30.0, 5.0, 5.0]}},
        {"t": 30, "site": {"house_a": [5.0, 5.0, 5.0]}},
        {"t": 40, "site": {"house_a": [5.0, 25.5, 5.0]}},
        {"t": 45, "site": {"house_a": [5.0, 5.0, 5.0]}},
        {"t": 50, "site": {"house_a": [26.0, 5.0, 5.0]}},
        {"t": 60, "site": {"house_a": [5.0, 5.0, 5.0]}},
    ],
}


def test_clipped_solar_serves_the_house_first_and_charges_with_the_rest() -> None:
    # 10 kW of panels, a 6 kW inverter, the house takes 8280 W (12 A x 3 x 230 V): the
    # inverter passes its full 6 kW, the battery takes the 4 kW it could not pass (limit 5 kW),
    # and the grid supplies 2280 W = 3.304 A per phase.
    plant = plant_of(
        scenario(
            {
                "house_a": [12.0, 12.0, 12.0],
                "solar_w": 10000,
                "inverter": {"max_w": 6000},
                "battery": {"soc": 50, "max_charge_w": 5000},
            },
            [],
        )
    )
    plant.settle_battery(5.0)
    assert plant.battery_w == 4000.0
    assert plant.grid_a() == pytest.approx((3.304, 3.304, 3.304), abs=1e-3)


def test_a_metered_circuit_reports_its_true_current_like_a_hub_circuit_sensor() -> None:
    # garage (metered) holds a 3-phase car at 10 A; shed (not metered) a 2300 W plug on B.
    data = scenario(
        {"house_a": [4.0, 4.0, 4.0]},
        [
            {"id": "car", "phases": 3, "meter_interval_s": 60},
            {"id": "heater", "type": "plug", "power_w": 2300, "phase_map": ["B"]},
        ],
        circuits=[
            {"id": "garage", "limit_a": 16, "members": ["car"], "metered": True},
            {"id": "shed", "limit_a": 16, "members": ["heater"]},
        ],
    )
    s = parse_scenario(data)
    assert s.metered_circuits == frozenset({"garage"})
    plant = SimulatedSite(
        site=s.site,
        loads={spec.load.id: spec for spec in s.loads},
        circuits=s.circuits,
        metered_circuits=s.metered_circuits,
    )
    plant.readings(plant.grid_a(), MODES, 0.0)
    plant.apply({**command("car", 10.0), **command("heater", 10.0)})
    reading = plant.readings(plant.grid_a(), MODES, 5.0)
    assert reading.circuit_a == {"garage": (10.0, 10.0, 10.0)}  # at once, unlike the car's meter
    assert reading.loads["car"].draw_a == (0.0, 0.0, 0.0)
    assert reading.grid_a == (14.0, 24.0, 14.0)


def test_overload_episodes_list_each_contiguous_run_above_the_limit() -> None:
    # The house alone goes over the 25 A breaker on phase A twice: 30 A from 10 s to 30 s and
    # 26 A from 50 s to 60 s; phase B once at 40 s for one 5 s step.
    metrics = run(parse_scenario(EPISODES)).metrics
    assert metrics["overload_episodes"] == {
        "site.A": [[10.0, 20.0], [50.0, 10.0]],
        "site.B": [[40.0, 5.0]],
        "site.C": [],
    }
    assert metrics["overload_s"] == {"site.A": 30.0, "site.B": 5.0, "site.C": 0.0}


def test_the_summary_counts_episodes_and_the_longest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "episodes.yaml"
    path.write_text(yaml.safe_dump(EPISODES), encoding="utf-8")
    assert main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "OVERLOAD (s): site.A 30 in 2 episode(s), longest 20, site.B 5 in 1 episode(s), longest 5"
    )


def test_the_new_load_keys_survive_a_timeline_change_of_another_key() -> None:
    data = scenario(
        {},
        [{"id": "car", "phases": 3, "obeys": False, "stuck_a": 7, "meter_interval_s": 30}],
        timeline=[{"t": 100, "loads": {"car": {"mode": "off"}}}],
    )
    result = run(parse_scenario(data))
    assert {step["grid_a"][0] for step in result.steps} == {7.0}


@pytest.mark.parametrize(
    ("load", "message"),
    [
        (
            {"id": "car", "manual_on": True},
            "load 'car': key 'manual_on' = True is invalid: only a plug can be switched on by hand",
        ),
        (
            {"id": "p", "type": "plug", "power_w": 1000, "draw_limit_a": 3},
            "load 'p': key 'draw_limit_a' = 3 is invalid: only a car's draw can be limited; "
            "not a plug",
        ),
        (
            {"id": "car", "phases": 3, "obeys": False, "stuck_a": [16, 16]},
            "load 'car': key 'stuck_a' = [16, 16] is invalid: needs 3 values, one per load phase",
        ),
        (
            {"id": "car", "obeys": "no"},
            "load 'car': key 'obeys' = 'no' is invalid: must be true or false",
        ),
        (
            {"id": "car", "meter_interval_s": -5},
            "load 'car': key 'meter_interval_s' = -5 is invalid: must be a number >= 0",
        ),
    ],
)
def test_bad_device_keys_are_refused_with_the_key_named(load: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(scenario({}, [load]))
    assert str(err.value) == message
