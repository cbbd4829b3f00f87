"""The apps.yaml parser (pure, no AppDaemon): defaults, one message per problem, entity naming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from load_juggler.config import (
    HubConfigError,
    LoadConfigError,
    parse_hub,
    parse_mode,
    parse_ocpp,
    parse_switch,
)
from load_juggler.config.kinds.power import parse_power
from load_juggler.config.kinds.staged import parse_staged
from load_juggler.config.kinds.water_heater import parse_water_heater
from load_juggler.engine.control_types import ControlSettings
from load_juggler.engine.model import LoadKind, Metering, Mode, Strategy

EXAMPLE = Path(__file__).resolve().parents[2] / "apps.yaml.example"
MINIMAL_HUB: dict[str, Any] = {
    "site": {"main_breaker_a": 25},
    "sensors": {"grid_current": "sensor.grid"},
}


def problems(err: pytest.ExceptionInfo[Any]) -> list[str]:
    return [str(p) for p in err.value.problems]


def test_hub_defaults() -> None:
    cfg = parse_hub(
        "lj_hub", {"module": "load_juggler.hub", "class": "Hub", "priority": 10, **MINIMAL_HUB}
    )
    assert cfg.period_s == 5.0
    assert cfg.site.phases == 3
    assert cfg.site.voltage_v == 230.0
    assert cfg.site.main_breaker_a == 25.0
    assert cfg.site.distribution is Strategy.PRIORITY
    assert cfg.site.battery is None
    assert cfg.control == ControlSettings()
    assert cfg.sensors.grid.entities == ("sensor.grid",)
    assert cfg.sensors.grid.attributes == ("L1", "L2", "L3")
    assert cfg.sensors.grid.unit == "A"
    assert cfg.entity_prefix == "load_juggler"
    assert cfg.circuits == ()


def test_hub_reports_every_problem_once() -> None:
    args = {
        "site": {"phases": 3, "voltage": "abc", "main_breaker_a": -5, "distribution": "fair"},
        "sensors": {"grid_current": ["sensor.a", "sensor.b"], "battery_soc": "sensor.soc"},
        "control": {"smoothing_alpha": 2, "deadband": 1},
        "circuits": {
            "garage": {"limit_a": 20, "parent": "sub", "members": ["evse1"]},
            "sub": {"limit_a": 32, "parent": "garage", "members": ["evse1"]},
        },
        "period_s": 0,
    }
    with pytest.raises(HubConfigError) as err:
        parse_hub("lj_hub", args)
    assert problems(err) == [
        "app 'lj_hub': key 'period_s' = 0 is invalid: must be a number >= 1 and <= 300",
        "app 'lj_hub': key 'site.voltage' = 'abc' is invalid: must be a number",
        "app 'lj_hub': key 'site.main_breaker_a' = -5 is invalid: must be a number > 0 and <= 1000",
        "app 'lj_hub': key 'site.distribution' = 'fair' is invalid: must be one of priority, "
        "shared, optimized, strict",
        "app 'lj_hub': key 'circuits.garage.parent' = 'sub' is invalid: circuits must form a tree "
        "(loop found)",
        "app 'lj_hub': key 'circuits.sub.parent' = 'garage' is invalid: circuits must form a tree "
        "(loop found)",
        "app 'lj_hub': key 'circuits.sub.members' = 'evse1' is invalid: a load can be in one "
        "circuit only; 'evse1' is also in 'garage'",
        "app 'lj_hub': key 'control.smoothing_alpha' = 2 is invalid: must be a number > 0 and <= 1",
        "app 'lj_hub': key 'control.deadband' = 1 is invalid: unknown key; did you mean "
        "'deadband_a'? allowed: deadband_a, draw_tolerance_a, grid_stale_timeout_s, min_off_s, "
        "min_on_s, overload_grace_s, pause_budget, ramp_up_a_per_s, sensor_stale_timeout_s, "
        "smoothing_alpha, start_delay_s, stop_delay_s",
        "app 'lj_hub': key 'sensors.grid_current' = ['sensor.a', 'sensor.b'] is invalid: must be "
        "one entity id or a list of 1 or 3 entity ids",
        "app 'lj_hub': key 'sensors.battery_soc' = 'sensor.soc' is invalid: needs a battery: "
        "section with its limits",
    ]


def test_hub_ignores_appdaemon_keys_and_constraints() -> None:
    args = {
        **MINIMAL_HUB,
        "name": "lj_hub",
        "config_path": Path("/conf/apps/apps.yaml"),
        "module": "load_juggler.hub",
        "class": "Hub",
        "dependencies": {"other"},
        "priority": 10,
        "log_level": "DEBUG",
        "constrain_input_boolean": "input_boolean.lj_enabled",
    }
    assert parse_hub("lj_hub", args).name == "lj_hub"


def test_hub_grid_alternatives() -> None:
    both = {**MINIMAL_HUB, "sensors": {"grid_current": "sensor.a", "grid_power": "sensor.b"}}
    with pytest.raises(HubConfigError) as err:
        parse_hub("h", both)
    assert problems(err) == [
        "app 'h': key 'sensors.grid_power' = ['sensor.b'] is invalid: give grid_current or "
        "grid_power, not both"
    ]
    with pytest.raises(HubConfigError) as err:
        parse_hub("h", {"site": {"main_breaker_a": 25}})
    assert len(problems(err)) == 1
    assert "key 'sensors.grid_current' = None" in problems(err)[0]
    power = parse_hub(
        "h",
        {
            "site": {"main_breaker_a": 40, "phases": 1},
            "sensors": {"grid_power": "sensor.net_power", "grid_invert": True},
        },
    )
    assert power.sensors.grid.unit == "W"
    assert power.sensors.grid.attributes is None  # one phase: the state itself
    assert power.sensors.grid.invert is True


def test_hub_site_metering() -> None:
    assert parse_hub("h", MINIMAL_HUB).site.metering is Metering.NET
    per_phase = {**MINIMAL_HUB, "site": {"main_breaker_a": 25, "metering": "per_phase"}}
    assert parse_hub("h", per_phase).site.metering is Metering.PER_PHASE
    with pytest.raises(HubConfigError) as err:
        parse_hub("h", {**MINIMAL_HUB, "site": {"main_breaker_a": 25, "metering": "gross"}})
    assert problems(err) == [
        "app 'h': key 'site.metering' = 'gross' is invalid: must be one of net, per_phase"
    ]


def test_battery_circuits_and_inverter() -> None:
    cfg = parse_hub(
        "h",
        {
            **MINIMAL_HUB,
            "sensors": {"grid_current": "sensor.grid", "battery_soc": "sensor.soc"},
            "battery": {
                "min_soc": 15,
                "target_soc": 90,
                "max_charge_w": 5000,
                "max_discharge_w": 4000,
            },
            "inverter": {"max_w": 10000, "asymmetric": False},
            "circuits": {"sub": {"limit_a": 32}, "garage": {"limit_a": 20, "parent": "sub"}},
        },
    )
    assert cfg.site.battery is not None
    assert (cfg.site.battery.min_soc_pct, cfg.site.battery.target_soc_pct) == (15.0, 90.0)
    assert cfg.site.battery.max_charge_w == 5000.0
    assert cfg.site.inverter is not None and cfg.site.inverter.asymmetric is False
    assert [(c.id, c.parent, c.limit_a) for c in cfg.circuits] == [
        ("sub", None, 32.0),
        ("garage", "sub", 20.0),
    ]


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("Solar Priority", Mode.SOLAR_PRIORITY),
        ("solar_only", Mode.SOLAR_ONLY),
        ("solar-only", Mode.SOLAR_ONLY),
        ("EXCESS", Mode.EXCESS),
        ("Off", Mode.OFF),
        ("Turbo", None),
        (3, None),
    ],
)
def test_parse_mode(text: Any, mode: Mode | None) -> None:
    assert parse_mode(text) is mode


def test_ocpp_defaults_and_entity_names() -> None:
    common, ocpp = parse_ocpp("evse1", {"hub": "lj_hub", "charger": "garage_left"})
    assert common.kind is LoadKind.EVSE
    assert (common.mode, common.priority, common.min_a, common.max_a) == (
        Mode.CONTINUOUS,
        5,
        6.0,
        16.0,
    )
    assert (common.phases, common.phase_map) == (3, ("A", "B", "C"))
    assert (ocpp.devid, ocpp.conn_id, ocpp.stack_level, ocpp.profile_id) == (
        "garage_left",
        1,
        5,
        901,
    )
    assert (ocpp.rate_unit, ocpp.profile_validity, ocpp.validity_s, ocpp.refresh_s) == (
        "auto",
        "absolute",
        120.0,
        80.0,
    )
    e = ocpp.entities
    assert e.current_import == ("sensor.garage_left_current_import",)
    assert e.current_offered == "sensor.garage_left_current_offered"
    assert e.power_active_import == "sensor.garage_left_power_active_import"
    assert e.status_connector == "sensor.garage_left_status_connector"
    assert e.transaction_id == "sensor.garage_left_transaction_id"

    _, multi = parse_ocpp(
        "evse2",
        {
            "hub": "lj_hub",
            "charger": "Duo-Box",
            "connectors": 2,
            "conn_id": 2,
            "entities": {"status_connector": "sensor.duo_status_2"},
        },
    )
    assert multi.entities.current_import == ("sensor.duo_box_connector_2_current_import",)
    assert multi.entities.voltage == "sensor.duo_box_connector_2_voltage"
    assert multi.entities.status_connector == "sensor.duo_status_2"
    assert multi.profile_id == 902


def test_ocpp_two_phase_car_and_charger_on_a_one_phase_supply() -> None:
    base = {"hub": "lj_hub", "charger": "garage_left"}
    common, _ = parse_ocpp("evse1", {**base, "phases": 2})
    assert (common.phases, common.phase_map) == (2, ("A", "B"))
    common, _ = parse_ocpp("evse1", {**base, "phases": 3, "phase_map": ["a", "A", "A"]})
    assert (common.phases, common.phase_map) == (3, ("A", "A", "A"))
    assert common.engine_load(230.0, None).site_phases == ("A", "A", "A")


def test_ocpp_problems() -> None:
    with pytest.raises(LoadConfigError) as err:
        parse_ocpp(
            "evse1",
            {
                "priority": 11,
                "phases": 4,
                "phase_map": ["A", "D", "B"],
                "min_a": 20,
                "profile_validity": "forever",
                "rate_unit": "kW",
                "entities": {"current_imprt": "sensor.x"},
            },
        )
    assert problems(err) == [
        "app 'evse1': key 'hub' = None is invalid: required: a text value",
        "app 'evse1': key 'priority' = 11 is invalid: must be a whole number >= 1 and <= 10",
        "app 'evse1': key 'phases' = 4 is invalid: must be one of 1, 2, 3",
        "app 'evse1': key 'phase_map' = ['A', 'D', 'B'] is invalid: must list 3 site "
        "phase(s) of A, B, C (the site phase of L1, L2, L3)",
        "app 'evse1': key 'min_a' = 20.0 is invalid: must be <= max_a (16)",
        "app 'evse1': key 'charger' = None is invalid: required: a text value",
        "app 'evse1': key 'rate_unit' = 'kW' is invalid: must be one of auto, A, W",
        "app 'evse1': key 'profile_validity' = 'forever' is invalid: must be one of relative, "
        "absolute",
        "app 'evse1': key 'entities.current_imprt' = 'sensor.x' is invalid: unknown key; did you "
        "mean 'current_import'? allowed: current_import, current_offered, power_active_import, "
        "power_offered, status_connector, transaction_id, voltage",
    ]


def test_switch_settings_and_problems() -> None:
    common, sw = parse_switch(
        "boiler", {"hub": "lj_hub", "switch": "switch.boiler", "power_w": 2500, "phase_map": "C"}
    )
    assert (common.kind, common.mode, common.phases, common.phase_map) == (
        LoadKind.PLUG,
        Mode.EXCESS,
        1,
        ("C",),
    )
    assert common.power_w == 2500.0
    assert (sw.switch, sw.power_sensor) == ("switch.boiler", None)
    with pytest.raises(LoadConfigError) as err:
        parse_switch("boiler", {"hub": "h", "switch": "light.boiler", "max_a": 10})
    assert problems(err) == [
        "app 'boiler': key 'power_w' = None is invalid: required: a number",
        "app 'boiler': key 'switch' = 'light.boiler' is invalid: must be an entity of domain "
        "switch or input_boolean",
        "app 'boiler': key 'max_a' = 10 is invalid: unknown key; allowed: auto_remap, circuit, "
        "fix_mode_options, hub, idle_timeout_s, max_price, mode, mode_select, phase_map, phases, "
        "power_sensor, power_w, price_attribute, price_sensor, priority, schedule, switch",
    ]


def test_example_apps_yaml_is_valid() -> None:
    """apps.yaml.example must parse without a single problem, app by app."""
    apps = yaml.safe_load(EXAMPLE.read_text())
    parsers = {
        "load_juggler.hub": parse_hub,
        "load_juggler.loads.ocpp": parse_ocpp,
        "load_juggler.loads.switch": parse_switch,
        "load_juggler.loads.power": parse_power,
        "load_juggler.loads.staged": parse_staged,
        "load_juggler.loads.water_heater": parse_water_heater,
    }
    kinds: dict[str, list[str]] = {}
    for name, args in apps.items():
        parsers[args["module"]](name, args)
        kinds.setdefault(args["module"], []).append(name)
    assert len(kinds["load_juggler.hub"]) == 1
    assert len(kinds["load_juggler.loads.ocpp"]) == 2
    assert len(kinds["load_juggler.loads.switch"]) == 1
    assert len(kinds["load_juggler.loads.power"]) == 1
    assert len(kinds["load_juggler.loads.staged"]) == 1
    assert len(kinds["load_juggler.loads.water_heater"]) == 1
    hub = parse_hub(kinds["load_juggler.hub"][0], apps[kinds["load_juggler.hub"][0]])
    assert hub.site.main_breaker_a == 25.0
    assert hub.site.battery is not None
    assert [c.id for c in hub.circuits] == ["garage"]
    for name in (
        kinds["load_juggler.loads.ocpp"]
        + kinds["load_juggler.loads.switch"]
        + kinds["load_juggler.loads.water_heater"]
    ):
        assert apps[name]["mode_select"].startswith("input_select.")
        assert apps[name]["hub"] == kinds["load_juggler.hub"][0]
