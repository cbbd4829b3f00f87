"""Situations users meet, each of which once showed a behaviour a user would call a bug."""

from __future__ import annotations

from load_juggler.engine.control_types import Command, LoadState
from load_juggler.sim.plant import SimulatedSite
from load_juggler.sim.scenario import load_scenario

from .running import DATA, on_off_changes, series, simulate, total_overload_s


def test_strict_does_not_switch_on_a_plug_only_to_cut_it_again() -> None:
    result = simulate("strict-idle-offer")
    assert total_overload_s(result.metrics) == 0.0
    assert result.final["carA"] == {"allocated_a": 11.0, "on": True}
    # Before: the off plug was offered its power as "not drawing", switched on, then cut as a
    # drawing load waiting for carA, 4 times in 10 minutes.
    assert result.metrics["start_stops"] == {"carA": 1, "carB": 0, "heat": 0}


def test_a_load_in_its_min_off_time_does_not_slow_a_running_car() -> None:
    result = simulate("min-off-lockout")
    car, car1 = series(result, "car"), series(result, "car1")
    # The spike is one cycle on the breaker, cut at once.
    assert result.metrics["overload_s"]["site.A"] == 5.0
    assert car[200.0] == 0.0
    assert on_off_changes(result, "car")[1:] == [(200.0, False), (380.0, True)]
    # Before: car1 was cut to 8 then 6 A at 300 s for the car that could not start until 380 s.
    assert all(car1[t] == 16.0 for t in car1 if 245.0 <= t < 380.0)
    assert car[380.0] == 6.0
    assert car1[380.0] == 6.0
    assert sum(result.metrics["overload_s"].values()) == 5.0


def test_a_switched_off_plug_reads_as_ready_to_draw_like_the_switch_adapter() -> None:
    scenario = load_scenario(DATA / "solar-day.yaml")
    plant = SimulatedSite(
        site=scenario.site,
        loads={spec.load.id: spec for spec in scenario.loads},
        circuits=scenario.circuits,
    )
    off = Command("boiler", 0.0, False, True, LoadState.OFF, "")
    plant.apply({"boiler": off})
    reading = plant.readings(plant.grid_a(), {"car": "solar_only", "boiler": "excess"})
    assert reading.loads["boiler"].drawing is True
    assert reading.loads["boiler"].draw_a == (0.0,)
