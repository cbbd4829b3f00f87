"""Measured overloads end within the guard's time, whatever the devices do (issue 8).

A load meter that lags, a plug switched on by hand, a charger that ignores its profile: the
controller cannot prevent the first overloaded reading, but it must end every episode within
one cycle to confirm it + `overload_grace_s` + one cycle for the devices to follow the cut.
Only an overload the uncontrollable draw causes alone (house, plugs on by hand, disobeying
devices) may last longer, and only while that draw alone is above the breaker. The random
sites put some loads behind a metered sub-panel (`circuits[].metered`), as the guard can only
cut what a meter measures.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from load_juggler.engine.control_types import ControlSettings, SiteStatus
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import load_scenario, parse_scenario

from .running import DATA, series

STEP_S = 5.0


def guard_s(step_s: float, grace_s: float | None) -> float:
    """Longest allowed episode: confirm (one cycle) + grace + the devices' one-cycle lag."""
    return step_s + (grace_s or 0.0) + step_s


def episodes(result: RunResult) -> dict[str, list[list[float]]]:
    return {k: v for k, v in result.metrics["overload_episodes"].items() if v}


def simulate(name: str, control: ControlSettings | None = None) -> RunResult:
    return run(load_scenario(DATA / f"{name}.yaml"), settings=control)


def test_a_heater_switched_on_by_hand_makes_the_car_give_way() -> None:
    # 1 phase, 25 A: house 10 A + car 15 A. The heater (10 A) goes on by hand at 300 s: 35 A.
    # 25 - 10 - 10 = 5 A is below the car's 6 A min, so the car stops until the heater is off.
    result = simulate("manual-heater-on-car-phase")
    found = episodes(result)
    assert list(found) == ["site.A"] and len(found["site.A"]) == 1
    start, seconds = found["site.A"][0]
    assert start == 300.0 and seconds <= guard_s(STEP_S, None)
    car = series(result, "car")
    assert car[295.0] == 15.0
    assert all(car[t] == 0.0 for t in car if start + seconds <= t < 600.0)
    assert car[895.0] > 0.0  # back on after the heater was switched off
    assert SiteStatus.OVERLOAD in result.series.status


def test_a_lagging_car_meter_does_not_make_the_controller_raise_the_car_again() -> None:
    # 32 A breaker, house 4 A -> 20 A at 305 s, between two of the car's 60 s meter updates.
    # The car may take 32 - 20 = 12 A; its meter shows the old 27.5 A until 360 s. Believing it
    # would make the house look like 32 - 27.5 = 4.5 A and raise the car by 1 A a cycle back
    # towards 27.5 A: overloaded for most of the next minute.
    result = simulate("lagging-car-meter")
    found = episodes(result)
    assert list(found) == ["site.A"]
    assert found["site.A"][0][0] == 305.0
    for _start, seconds in found["site.A"]:
        assert seconds <= guard_s(STEP_S, None), found
    assert sum(seconds for _, seconds in found["site.A"]) <= 3 * guard_s(STEP_S, None)
    first_end = sum(found["site.A"][0])
    car = series(result, "car")
    # At most half an ampere of smoothing above the 12 A of room, never a climb.
    assert all(car[t] <= 12.5 for t in car if first_end <= t < 605.0)
    grid = {step["t"]: step["grid_a"][0] for step in result.steps}
    assert grid[305.0] > 32.0  # the house step did overload the breaker


def test_a_cloud_that_leaves_twice_the_breaker_on_a_phase_is_cut_at_once() -> None:
    # 25 A site, 12 kW of sun (17.4 A per phase) carries car1 10 A + plug 4.35 A + car2 up to
    # 22 A + car3 6 A on phase A. At 900 s the sun is gone and the house takes 12.3 A on A:
    # 12.3 + 42.3 = 54.6 A, above twice the breaker (50 A), yet every ampere of it is
    # explained by the loads' own meters. Cut within the guard, not after the grid goes stale.
    result = simulate("cloud-over-loaded-phase")
    grid = {step["t"]: step["grid_a"][0] for step in result.steps}
    assert grid[895.0] <= 25.0 and grid[900.0] > 50.0
    found = episodes(result)
    assert list(found) == ["site.A"] and len(found["site.A"]) == 1
    start, seconds = found["site.A"][0]
    assert start == 900.0 and seconds <= guard_s(STEP_S, None)
    assert SiteStatus.OVERLOAD in result.series.status
    assert not any("stale" in message for _, message in result.messages)
    # Room left on A: 25 - 12.3 = 12.7 A, two of the three cars at their 6 A minimum at most.
    on_a = [series(result, name) for name in ("car1", "plug", "car2", "car3")]
    assert all(sum(s[t] for s in on_a) <= 12.7 for t in on_a[0] if t >= start + seconds)


@pytest.mark.parametrize("grace_s", [None, 10.0])
def test_a_charger_that_ignores_its_profile_makes_the_other_one_give_way(
    grace_s: float | None,
) -> None:
    # 3 phases, 25 A, house 5 A. At 200 s `stubborn` (commanded 6 A) starts drawing 16 A:
    # 5 + 16 + polite's 14 = 35 A. 25 - 5 - 16 = 4 A < 6 A: `polite` must stop.
    result = simulate("charger-ignores-profile", ControlSettings(overload_grace_s=grace_s))
    found = episodes(result)
    assert set(found) == {"site.A", "site.B", "site.C"}
    for key, runs in found.items():
        assert len(runs) == 1, (key, runs)
        start, seconds = runs[0]
        assert start == 200.0 and seconds <= guard_s(STEP_S, grace_s), (key, runs)
    polite = series(result, "polite")
    end = 200.0 + guard_s(STEP_S, grace_s)
    assert all(polite[t] == 0.0 for t in polite if t >= end)
    assert result.steps[-1]["grid_a"] == [21.0, 21.0, 21.0]


# ------------------------------------------------------------------------ random disobedience

BREAKER_A = 25.0
GARAGE_A = 16.0
VOLTAGE_V = 230.0

house = st.lists(st.sampled_from([0.0, 3.0, 8.0, 14.0, 27.0]), min_size=3, max_size=3)
sun = st.sampled_from([0.0, 4000.0, 12000.0])
house_under_breaker = st.sampled_from([0.0, 3.0, 8.0, 14.0, 20.0])

evse = st.fixed_dictionaries(
    {
        "type": st.just("evse"),
        "mode": st.sampled_from(["continuous", "solar_priority"]),
        "priority": st.integers(1, 3),
        "min_a": st.just(6),
        "max_a": st.sampled_from([16, 32]),
        "phases": st.sampled_from([1, 3]),
        "phase_map": st.permutations(["A", "B", "C"]),
        "meter_interval_s": st.sampled_from([0, 0, 30, 60]),
    }
)
plug = st.fixed_dictionaries(
    {
        "type": st.just("plug"),
        "mode": st.sampled_from(["continuous", "excess", "off"]),
        "priority": st.integers(1, 3),
        "power_w": st.sampled_from([1150, 2300, 3450]),
        "phases": st.just(1),
        "phase_map": st.sampled_from([["A"], ["B"], ["C"]]),
        "meter_interval_s": st.sampled_from([0, 60]),
    }
)


@st.composite
def disobedient_sites(draw: Any) -> dict[str, Any]:
    loads = draw(st.lists(st.one_of(evse, plug), min_size=1, max_size=4))
    for i, load in enumerate(loads):
        load["id"] = f"load{i}"
        load["phase_map"] = load["phase_map"][: load["phases"]]  # one site phase per load phase
    garage = [load["id"] for load in loads if draw(st.booleans())]
    timeline = []
    for t in sorted(set(draw(st.lists(st.integers(1, 35).map(lambda k: k * 25), max_size=5)))):
        load = draw(st.sampled_from(loads))
        kind = draw(st.sampled_from(["house", "sun", "load"]))
        if kind == "house":
            change: dict[str, Any] = {"site": {"house_a": draw(house)}}
        elif kind == "sun":
            # A cloud (or the sun back): what the sun carried lands on the grid in one cycle.
            change = {"site": {"solar_w": draw(sun)}}
        elif load["type"] == "plug":
            on = draw(st.booleans())
            change = {"loads": {load["id"]: {"manual_on": on}}}
        else:
            obeys = draw(st.booleans())
            stuck = draw(st.sampled_from([6, 10, 16]))
            change = {"loads": {load["id"]: {"obeys": obeys, "stuck_a": stuck}}}
        timeline.append({"t": t, **change})
    return {
        "name": "disobedient",
        "step_s": STEP_S,
        "duration_s": 900,
        "site": {
            "main_breaker_a": BREAKER_A,
            "voltage": VOLTAGE_V,
            "house_a": draw(house),
            "solar_w": draw(sun),
        },
        # A metered sub-panel (like a hub circuit with a current_sensor): the guard measures it.
        "circuits": [{"id": "garage", "limit_a": GARAGE_A, "members": garage, "metered": True}]
        if garage
        else [],
        "loads": loads,
        "timeline": timeline,
    }


def uncontrollable_a(data: dict[str, Any], t_s: float) -> dict[str, dict[str, float]]:
    """What the controller cannot command at `t_s`, per breaker and site phase: the house (site
    only), plugs on by hand, devices that do not obey (worked from the scenario, not from the
    plant)."""
    house_a = list(data["site"]["house_a"])
    state = {load["id"]: dict(load) for load in data["loads"]}
    for event in data["timeline"]:
        if event["t"] > t_s:
            break
        house_a = list(event.get("site", {}).get("house_a", house_a))
        for load_id, change in event.get("loads", {}).items():
            state[load_id].update(change)
    garage = set(data["circuits"][0]["members"]) if data["circuits"] else set()
    nodes = {"site": dict(zip("ABC", house_a, strict=True)), "garage": dict.fromkeys("ABC", 0.0)}
    for load in state.values():
        site_phases = load["phase_map"][: load["phases"]]
        amps = 0.0
        if load["type"] == "plug":
            if load.get("manual_on") or load.get("obeys") is False:
                amps = load["power_w"] / VOLTAGE_V
        elif load.get("obeys") is False:
            amps = load["stuck_a"]
        for node in ("site", "garage") if load["id"] in garage else ("site",):
            for phase in site_phases:
                nodes[node][phase] += amps
    return nodes


@settings(max_examples=int(os.environ.get("LJ_DISOBEDIENT_SITES", "20")), deadline=None)
@given(data=disobedient_sites())
def test_no_overload_episode_outlasts_the_guard_unless_uncontrollable_draw_alone_is_over(
    data: dict[str, Any],
) -> None:
    result = run(parse_scenario(data))
    allowed_s = guard_s(STEP_S, None)
    limits = {"site": BREAKER_A, "garage": GARAGE_A}
    for key, runs in result.metrics["overload_episodes"].items():
        node, phase = key.split(".")
        for start, seconds in runs:
            steps = [start + i * STEP_S for i in range(round(seconds / STEP_S))]
            excused = [t for t in steps if uncontrollable_a(data, t)[node][phase] > limits[node]]
            # Counted from the last reading the controller could not have fixed.
            counted = seconds if not excused else start + seconds - (excused[-1] + STEP_S)
            assert counted <= allowed_s + 1e-6, (key, start, seconds, excused)


@st.composite
def clouded_phase_sites(draw: Any) -> dict[str, Any]:
    """Sun carries 1-phase loads crowded on phase A; a cloud and a house step come together,
    leaving up to ~70 A on A: a real overload far above twice the breaker."""
    loads = []
    for i in range(draw(st.integers(2, 5))):
        if draw(st.booleans()):
            load = {"type": "evse", "min_a": 6, "max_a": draw(st.sampled_from([10, 16, 32]))}
        else:
            load = {"type": "plug", "power_w": draw(st.sampled_from([1150, 2300, 3450]))}
        load.update(id=f"load{i}", mode="continuous", priority=draw(st.integers(1, 3)))
        loads.append({**load, "phases": 1, "phase_map": ["A"]})
    t_cloud = draw(st.integers(20, 50)) * 25
    return {
        "name": "clouded-phase",
        "step_s": STEP_S,
        "duration_s": t_cloud + 300,
        "site": {
            "main_breaker_a": BREAKER_A,
            "voltage": VOLTAGE_V,
            "house_a": [0, 0, 0],
            "solar_w": draw(st.sampled_from([9000.0, 12000.0, 15000.0])),
        },
        "loads": loads,
        "timeline": [
            # The house alone stays under the breaker: every overload is the loads' to cut.
            {"t": t_cloud, "site": {"solar_w": 0, "house_a": [draw(house_under_breaker), 0, 0]}},
        ],
    }


@settings(max_examples=int(os.environ.get("LJ_CLOUDED_SITES", "10")), deadline=None)
@given(data=clouded_phase_sites())
def test_an_overload_the_loads_explain_is_cut_within_the_guard_however_large(
    data: dict[str, Any],
) -> None:
    result = run(parse_scenario(data))
    for key, runs in result.metrics["overload_episodes"].items():
        for start, seconds in runs:
            assert seconds <= guard_s(STEP_S, None) + 1e-6, (key, start, seconds)
    assert not any("stale" in message for _, message in result.messages)


def test_a_disobeying_charger_in_a_circuit_without_a_meter_makes_its_peer_give_way() -> None:
    # Garage 16 A on phase A, no meter of its own; the site's 40 A breaker is never in danger.
    # Heater 2300 W (10 A) + car = 16 A, the car held to 6 A by the garage. At 200 s the car
    # ignores its profile and draws 10 A: the garage carries 20 A. Only the load meters show
    # it: the car's excess counts against the garage, and the heater (the only load that
    # obeys) must go off and stay off while the car keeps ignoring its command.
    data = {
        "name": "unmetered-garage",
        "step_s": STEP_S,
        "duration_s": 600,
        "site": {"main_breaker_a": 40, "voltage": VOLTAGE_V, "house_a": [0, 0, 0]},
        "circuits": [{"id": "garage", "limit_a": 16, "members": ["heater", "car"]}],
        "loads": [
            {"id": "heater", "type": "plug", "power_w": 2300, "phase_map": ["A"], "priority": 1},
            {
                "id": "car",
                "type": "evse",
                "phases": 1,
                "phase_map": ["A"],
                "min_a": 6,
                "max_a": 16,
                "priority": 2,
            },
        ],
        "timeline": [{"t": 200, "loads": {"car": {"obeys": False, "stuck_a": 10}}}],
    }
    result = run(parse_scenario(data))
    found = episodes(result)
    assert list(found) == ["garage.A"] and len(found["garage.A"]) == 1
    start, seconds = found["garage.A"][0]
    assert start == 200.0 and seconds <= guard_s(STEP_S, None)
    heater = series(result, "heater")
    assert heater[195.0] > 0.0
    assert all(heater[t] == 0.0 for t in heater if t >= start + seconds)
    assert result.metrics["peak_a"]["site.A"] <= 20.0
