"""DESIGN.md's scenario contract key by key: each key is read into the right place and changes
what the simulated site does (excess_threshold_w, allow_grid_charging, inverter, faults for
grid|solar|battery, the phase_map default, draws, `circuit:` on a load next to `members:`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from load_juggler.engine.model import InverterLimits, LoadKind, Mode, Strategy
from load_juggler.sim.plant import SimulatedSite
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import (
    BATTERY_KEYS,
    CIRCUIT_KEYS,
    INVERTER_KEYS,
    LOAD_KEYS,
    SITE_KEYS,
    load_scenario,
    parse_scenario,
)

from .running import DATA, REPO, on_off_changes, series, total_overload_s
from .test_simulate_cli import cli

EVERY_KEY = DATA / "contract-every-key.yaml"


def scenario(site: dict[str, Any], loads: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {
        "name": "contract",
        "duration_s": 900,
        "site": {"main_breaker_a": 25, "house_a": [2.0, 2.0, 2.0], **site},
        "loads": loads,
        **top,
    }


def simulate(data: dict[str, Any]) -> RunResult:
    return run(parse_scenario(data))


def test_every_key_of_the_example_lands_where_the_contract_says() -> None:
    s = load_scenario(EVERY_KEY)
    assert (s.name, s.step_s, s.duration_s) == ("contract-every-key", 5.0, 900.0)
    site = s.site.site
    assert (site.phases, site.voltage_v, site.main_breaker_a, site.max_import_w) == (
        3,
        230.0,
        25.0,
        17250.0,
    )
    assert site.distribution is Strategy.PRIORITY
    assert (site.excess_threshold_w, site.allow_grid_charging) == (500.0, True)
    assert (s.site.solar_w, s.site.house_a) == (0.0, (2.0, 2.0, 2.0))
    battery = s.site.battery
    assert battery is not None and battery.soc_pct == 75.0
    cfg = battery.config
    assert (cfg.min_soc_pct, cfg.target_soc_pct, cfg.max_charge_w, cfg.max_discharge_w) == (
        20.0,
        80.0,
        4140.0,
        4140.0,
    )
    assert site.inverter == InverterLimits(max_w=12000.0, max_w_per_phase=6000.0, asymmetric=True)
    assert [c.id for c in s.circuits] == ["garage"]
    assert s.circuits[0].limit_a == 20.0 and s.circuits[0].parent is None
    loads = {spec.load.id: spec for spec in s.loads}
    evse1, evse2, heater = loads["evse1"], loads["evse2"], loads["heater"]
    # `circuit:` on the load and `members:` on the circuit both hang a load on the garage.
    assert evse1.load.circuit == "garage" and evse2.load.circuit == "garage"
    assert heater.load.circuit is None
    assert (evse1.load.mode, evse1.load.priority, evse1.load.min_a, evse1.load.max_a) == (
        Mode.CONTINUOUS,
        1,
        6.0,
        16.0,
    )
    assert (evse1.load.phases, evse1.load.phase_map, evse1.draws) == (3, ("A", "B", "C"), True)
    assert (evse2.load.site_phases, evse2.draws) == (("C",), False)
    assert heater.load.kind is LoadKind.PLUG and heater.load.power_w == 2000.0
    assert heater.load.site_phases == ("B",)
    assert [(e.t_s, e.site, e.loads, e.faults) for e in s.timeline] == [
        (300.0, {"solar_w": 6000}, {}, {}),
        (600.0, {}, {"evse1": {"mode": "solar_only"}}, {}),
        (700.0, {}, {}, {"grid": "unavailable"}),
    ]


def test_the_every_key_example_runs_through_the_cli_with_the_json_contract() -> None:
    done = cli(EVERY_KEY, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"final", "metrics", "steps"}
    assert set(out["final"]) == {"evse1", "evse2", "heater"}
    assert all(set(v) == {"allocated_a", "on"} for v in out["final"].values())
    metrics = out["metrics"]
    assert (
        set(metrics["overload_s"])
        == set(metrics["peak_a"])
        == {f"{node}.{p}" for node in ("site", "garage") for p in "ABC"}
    )
    assert total_overload_s(metrics) == 0.0
    assert set(metrics["energy_wh"]) == set(metrics["start_stops"]) == set(out["final"])
    assert len(out["steps"]) == 180
    assert set(out["steps"][0]) == {"t", "grid_a", "loads"}
    # evse1 (on the garage by `circuit:`) at 16 A holds the garage's phase C at 16 A: the
    # idle evse2 on C (by `members:`) is not offered its 6 A min until evse1 drops to 6 A.
    steps = {s["t"]: s["loads"] for s in out["steps"]}
    assert steps[595.0] == {"evse1": 16.0, "evse2": 0.0, "heater": 0.0}
    assert steps[600.0]["evse2"] == 6.0
    # draws: false -> offered, never drawn.
    assert metrics["energy_wh"]["evse2"] == 0.0


def test_excess_threshold_w_keeps_a_plug_off_until_export_clears_it() -> None:
    # 6000 W sun - 1380 W house = 4620 W export, below a 5000 W threshold: off. At 300 s the
    # threshold drops to 2000 W: 4620 W is above it, on after the 60 s start delay.
    data = scenario(
        {"solar_w": 6000, "excess_threshold_w": 5000},
        [{"id": "boiler", "type": "plug", "mode": "excess", "power_w": 2000, "phase_map": ["B"]}],
        timeline=[{"t": 300, "site": {"excess_threshold_w": 2000}}],
    )
    assert on_off_changes(simulate(data), "boiler") == [(360.0, True)]
    data["timeline"] = []
    assert on_off_changes(simulate(data), "boiler") == []


def test_allow_grid_charging_false_never_imports_for_a_continuous_car() -> None:
    # No sun: a continuous car would take 16 A from the grid, but grid charging is off.
    # 9000 W sun at 300 s: 9000 - 1380 = 7620 W = 11.04 A on 3 phases, so at most 11 A.
    data = scenario(
        {"allow_grid_charging": False},
        [{"id": "car", "type": "evse", "mode": "continuous", "min_a": 6, "max_a": 16}],
        timeline=[{"t": 300, "site": {"solar_w": 9000}}],
    )
    result = simulate(data)
    car = series(result, "car")
    assert all(car[t] == 0.0 for t in car if t < 300.0)
    assert 10.0 <= max(car.values()) <= 11.0
    for step in result.steps:
        assert sum(step["grid_a"]) * 230.0 <= 1380.0 + 1e-6  # the house alone, never the car
        if step["t"] > 300.0:
            assert sum(step["grid_a"]) <= 1e-6, step
    data["site"]["allow_grid_charging"] = True
    assert max(series(simulate(data), "car").values()) == 16.0


def test_inverter_keys_limit_a_one_phase_solar_car_under_per_phase_metering() -> None:
    # 6000 W sun spread evenly (2000 W = 8.69 A a phase), house 8 A on B: pool 6000 - 1840 =
    # 4160 W. Symmetric inverter: phase A gets a third, 1386 W = 6.03 A -> 6.0 A.
    # Asymmetric from 450 s: what A exports, 2000 W = 8.69 A -> 8.6 A.
    # max_w_per_phase 1840 W from 700 s: 8 A.
    data = scenario(
        {
            "solar_w": 6000,
            "house_a": [0.0, 8.0, 0.0],
            "metering": "per_phase",
            "inverter": {"asymmetric": False},
        },
        [{"id": "car", "type": "evse", "mode": "solar_only", "min_a": 6, "max_a": 16, "phases": 1}],
        timeline=[
            {"t": 450, "site": {"inverter": {"asymmetric": True}}},
            {"t": 700, "site": {"inverter": {"max_w_per_phase": 1840}}},
        ],
    )
    car = series(simulate(data), "car")
    assert car[445.0] == 6.0
    assert car[695.0] == 8.6
    assert car[700.0] == 8.0 and car[895.0] == 8.0


def test_inverter_per_phase_limits_do_not_apply_under_net_metering() -> None:
    # Net metering sums the phases: the whole 6000 W - 1840 W house = 4160 W pool is green
    # for the 1-phase car on A: 18 A, capped at its 16 A max, whatever the inverter's split.
    data = scenario(
        {
            "solar_w": 6000,
            "house_a": [0.0, 8.0, 0.0],
            "inverter": {"asymmetric": False, "max_w_per_phase": 1840},
        },
        [{"id": "car", "type": "evse", "mode": "solar_only", "min_a": 6, "max_a": 16, "phases": 1}],
    )
    assert series(simulate(data), "car")[595.0] == 16.0


def test_phase_map_defaults_to_a_for_a_one_phase_load() -> None:
    data = scenario({}, [{"id": "car", "type": "evse", "mode": "continuous", "phases": 1}])
    s = parse_scenario(data)
    assert s.loads[0].load.site_phases == ("A",)
    assert simulate(data).steps[-1]["grid_a"] == [18.0, 2.0, 2.0]


def test_draws_false_is_offered_min_but_draws_nothing() -> None:
    data = scenario({}, [{"id": "car", "type": "evse", "mode": "continuous", "draws": False}])
    result = simulate(data)
    assert result.final == {"car": {"allocated_a": 6.0, "on": True}}
    assert result.metrics["energy_wh"] == {"car": 0.0}
    assert {tuple(step["grid_a"]) for step in result.steps} == {(2.0, 2.0, 2.0)}


def test_circuit_on_a_load_is_measured_and_respected_like_members() -> None:
    by_load = scenario(
        {},
        [{"id": "car", "type": "evse", "mode": "continuous", "circuit": "shed"}],
        circuits=[{"id": "shed", "limit_a": 10}],
    )
    by_members = scenario(
        {},
        [{"id": "car", "type": "evse", "mode": "continuous"}],
        circuits=[{"id": "shed", "limit_a": 10, "members": ["car"]}],
    )
    one, other = simulate(by_load), simulate(by_members)
    assert one.steps == other.steps
    assert one.metrics["peak_a"]["shed.A"] == 10.0
    assert total_overload_s(one.metrics) == 0.0
    assert one.final == {"car": {"allocated_a": 10.0, "on": True}}


@pytest.mark.parametrize(
    ("sensor", "field"),
    [("grid", "grid_a"), ("solar", "solar_w"), ("battery", "battery_soc_pct")],
)
def test_a_fault_makes_the_sensor_unavailable_until_ok(sensor: str, field: str) -> None:
    data = scenario(
        {"solar_w": 3000, "battery": {"soc": 85}},
        [{"id": "car", "type": "evse", "mode": "continuous"}],
        timeline=[
            {"t": 100, "faults": {sensor: "unavailable"}},
            {"t": 200, "faults": {sensor: "ok"}},
        ],
    )
    s = parse_scenario(data)
    plant = SimulatedSite(
        site=s.site, loads={spec.load.id: spec for spec in s.loads}, circuits=s.circuits
    )
    modes = {"car": "continuous"}
    assert getattr(plant.readings(plant.grid_a(), modes), field) is not None
    plant.faults.add(sensor)
    assert getattr(plant.readings(plant.grid_a(), modes), field) is None
    if sensor == "battery":
        assert plant.readings(plant.grid_a(), modes).battery_power_w is None
    assert total_overload_s(run(s).metrics) == 0.0


def test_a_battery_fault_holds_the_last_soc_and_the_solar_only_car_keeps_charging() -> None:
    # SoC 85 % >= target 80 %: solar_only takes the surplus. The SoC sensor drops out for
    # 300 s; the held value keeps the car running (a fresh start would wait for the battery).
    data = scenario(
        {"solar_w": 9000, "battery": {"soc": 85, "max_charge_w": 3000}},
        [{"id": "car", "type": "evse", "mode": "solar_only", "min_a": 6, "max_a": 16}],
        timeline=[
            {"t": 300, "faults": {"battery": "unavailable"}},
            {"t": 600, "faults": {"battery": "ok"}},
        ],
    )
    car = series(simulate(data), "car")
    assert car[295.0] > 6.0
    assert all(car[t] >= 6.0 for t in car if t >= 295.0)


def test_a_solar_fault_holds_the_last_solar_value() -> None:
    # Solar only sets the inverter's room for battery discharge here (max_w 6000 W): with the
    # last 5000 W held, 1000 W is left; a "0 W" reading would free all 6000 W.
    data = scenario(
        {
            "solar_w": 5000,
            "battery": {"soc": 85, "max_discharge_w": 4000},
            "inverter": {"max_w": 6000},
            "allow_grid_charging": False,
        },
        [{"id": "car", "type": "evse", "mode": "continuous", "min_a": 6, "max_a": 16}],
        timeline=[{"t": 300, "faults": {"solar": "unavailable"}}],
    )
    result = simulate(data)
    before = series(result, "car")[295.0]
    assert before > 0
    assert all(a == before for t, a in series(result, "car").items() if t >= 295.0)


def scenario_format_names(prefix: str) -> set[str]:
    """Every backticked name in the README's "Scenario format" rows whose key starts `prefix`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Scenario format", 1)[1].split("\n#", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith(f"| `{prefix}"):
            key_cell, meaning = line.strip("|").split("|", 2)[:2]
            for name in re.findall(r"`([^`]+)`", key_cell + meaning):
                names.add(name.removeprefix(prefix).lstrip("."))
    return names


@pytest.mark.parametrize(
    ("prefix", "keys"),
    [
        ("loads[].", LOAD_KEYS),
        ("site.", tuple(k for k in SITE_KEYS if k not in ("battery", "inverter"))),
        ("site.battery", BATTERY_KEYS),
        ("site.inverter", INVERTER_KEYS),
        ("circuits[]", CIRCUIT_KEYS),
    ],
)
def test_the_readme_scenario_format_names_every_key_the_parser_accepts(
    prefix: str, keys: tuple[str, ...]
) -> None:
    assert set(keys) <= scenario_format_names(prefix)
