"""The hub's apps.yaml checks for issue 8 and 15: new control options, circuit meters, wiring
slips refused at start, implausible values warned, YAML spellings accepted (pure parser)."""

from __future__ import annotations

from typing import Any

import pytest

from load_juggler.config import (
    HubConfigError,
    LoadConfigError,
    parse_hub,
    parse_mode,
    parse_ocpp,
    parse_switch,
)
from load_juggler.config.hub_config import CircuitMeter
from load_juggler.engine.model import Mode

MINIMAL: dict[str, Any] = {
    "site": {"main_breaker_a": 25},
    "sensors": {"grid_current": "sensor.grid"},
}


def hub(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {k: dict(v) for k, v in MINIMAL.items()}
    for key, value in changes.items():
        args[key] = {**args.get(key, {}), **value} if isinstance(value, dict) else value
    return args


def problems_of(args: dict[str, Any]) -> list[str]:
    with pytest.raises(HubConfigError) as err:
        parse_hub("h", args)
    return [str(p) for p in err.value.problems]


def test_control_options_of_the_overload_guard_and_sensor_staleness() -> None:
    default = parse_hub("h", hub()).control
    assert default.overload_grace_s is None
    assert default.sensor_stale_timeout_s == 300.0
    assert default.draw_tolerance_a == 1.0
    cfg = parse_hub(
        "h",
        hub(
            control={
                "overload_grace_s": 0,
                "sensor_stale_timeout_s": "120",
                "draw_tolerance_a": 2.5,
            }
        ),
    ).control
    assert (cfg.overload_grace_s, cfg.sensor_stale_timeout_s, cfg.draw_tolerance_a) == (
        0.0,
        120.0,
        2.5,
    )
    assert problems_of(hub(control={"overload_grace_s": -1, "draw_tolerance_a": -0.5})) == [
        "app 'h': key 'control.overload_grace_s' = -1 is invalid: must be a number >= 0",
        "app 'h': key 'control.draw_tolerance_a' = -0.5 is invalid: must be a number >= 0",
    ]


def test_stale_timeouts_below_one_period_are_refused() -> None:
    assert problems_of(
        hub(period_s=10, control={"grid_stale_timeout_s": 5, "sensor_stale_timeout_s": 9})
    ) == [
        "app 'h': key 'control.grid_stale_timeout_s' = 5 is invalid: must be >= period_s "
        "(10 s): one cycle at least",
        "app 'h': key 'control.sensor_stale_timeout_s' = 9 is invalid: must be >= period_s "
        "(10 s): one cycle at least",
    ]
    assert parse_hub("h", hub(period_s=10, control={"grid_stale_timeout_s": 10})).control
    # Left out with a long cycle: two cycles, never less than one.
    slow = parse_hub("h", hub(period_s=120)).control
    assert (slow.grid_stale_timeout_s, slow.sensor_stale_timeout_s) == (240.0, 300.0)


def test_circuit_meters_are_parsed() -> None:
    cfg = parse_hub(
        "h",
        hub(
            circuits={
                "garage": {
                    "limit_a": 20,
                    "current_sensor": ["sensor.g1", "sensor.g2", "sensor.g3"],
                },
                "sub": {
                    "limit_a": 32,
                    "current_sensor": "sensor.sub",
                    "current_phase_attributes": ["ia", "ib", "ic"],
                    "power_sensor": "sensor.sub_power",
                },
                "shed": {"max_power_w": 3000, "power_sensor": "sensor.shed_power"},
                "plain": {"limit_a": 10},
            }
        ),
    )
    assert cfg.meters == {
        "garage": CircuitMeter(current=("sensor.g1", "sensor.g2", "sensor.g3")),
        "sub": CircuitMeter(
            current=("sensor.sub",),
            current_attributes=("ia", "ib", "ic"),
            power="sensor.sub_power",
        ),
        "shed": CircuitMeter(power="sensor.shed_power"),
    }
    one = parse_hub("h", hub(circuits={"g": {"limit_a": 16, "current_sensor": "sensor.g"}}))
    assert one.meters["g"].current_attributes == ("L1", "L2", "L3")


def test_copy_paste_wiring_slips_are_refused() -> None:
    assert problems_of(hub(sensors={"grid_current": ["sensor.l1", "sensor.l1", "sensor.l3"]})) == [
        "app 'h': key 'sensors.grid_current' = ['sensor.l1', 'sensor.l1', 'sensor.l3'] is "
        "invalid: lists sensor.l1 for two phases; give one entity per phase"
    ]
    assert problems_of(
        hub(sensors={"grid_current": "sensor.grid", "grid_phase_attributes": ["L1", "L1", "L1"]})
    ) == [
        "app 'h': key 'sensors.grid_phase_attributes' = ['L1', 'L1', 'L1'] is invalid: names "
        "attribute 'L1' for two phases; give one per phase"
    ]
    assert problems_of(
        hub(
            sensors={
                "grid_current": None,
                "grid_power": ["sensor.p1", "sensor.p2", "sensor.p3"],
                "grid_phase_attributes": ["a", "b", "c"],
            }
        )
    ) == [
        "app 'h': key 'sensors.grid_phase_attributes' = ['a', 'b', 'c'] is invalid: goes with "
        "one entity in sensors.grid_power, not 3: give one entity per phase, or one entity with "
        "per-phase attributes"
    ]
    assert problems_of(
        hub(circuits={"g": {"limit_a": 16, "current_phase_attributes": ["a", "b", "c"]}})
    ) == [
        "app 'h': key 'circuits.g.current_phase_attributes' = ['a', 'b', 'c'] is invalid: names "
        "attributes of circuits.g.current_sensor, which is not given"
    ]
    assert problems_of(
        hub(circuits={"g": {"limit_a": 16, "current_sensor": ["sensor.a", "sensor.b", "sensor.a"]}})
    ) == [
        "app 'h': key 'circuits.g.current_sensor' = ['sensor.a', 'sensor.b', 'sensor.a'] is "
        "invalid: lists sensor.a for two phases; give one entity per phase"
    ]


@pytest.mark.parametrize(
    ("volts", "hint"),
    [
        (400, "; did you mean 230? (phase to neutral, not line to line)"),
        (380, "; did you mean 220? (phase to neutral, not line to line)"),
        (415, "; did you mean 240? (phase to neutral, not line to line)"),
        (160, ""),
    ],
)
def test_line_to_line_site_voltage_is_refused_with_a_hint(volts: float, hint: str) -> None:
    assert problems_of(hub(site={"voltage": volts})) == [
        f"app 'h': key 'site.voltage' = {volts} is invalid: must be the nominal "
        "phase-to-neutral voltage: 180..260 (230 V grids) or 90..140 (120 V grids)" + hint
    ]


def test_both_grid_kinds_are_accepted() -> None:
    assert parse_hub("h", hub(site={"voltage": 120})).site.voltage_v == 120.0
    assert parse_hub("h", hub(site={"voltage": "240"})).site.voltage_v == 240.0


def test_import_cap_in_kilowatts_is_warned_about() -> None:
    cfg = parse_hub("h", hub(site={"max_import_w": 17.25}))
    assert cfg.site.max_import_w == 17.25  # a tiny cap is safe: it only keeps loads off grid
    assert cfg.warnings == (
        "app 'h': key 'site.max_import_w' = 17.25 W is implausibly small (kW given as W?): "
        "did you mean 17250 W?",
    )
    assert parse_hub("h", hub(site={"max_import_w": 17250})).warnings == ()


def test_yaml_spellings_of_load_options() -> None:
    common, _ = parse_switch(
        "boiler",
        {"hub": "h", "switch": "switch.b", "power_w": "5e3", "mode": False, "priority": 1.0},
    )
    assert common.mode is Mode.OFF
    assert common.priority == 1
    assert common.power_w == 5000.0
    common, _ = parse_ocpp(
        "evse",
        {
            "hub": "h",
            "charger": "cp1",
            "priority": "2.0",
            "min_a": "6",
            "max_a": "1.6e1",
            "phase_map": ["c", "a", "b"],
        },
    )
    assert (common.priority, common.min_a, common.max_a) == (2, 6.0, 16.0)
    assert common.phase_map == ("C", "A", "B")
    assert parse_mode(False) is Mode.OFF
    assert parse_mode(True) is None
    with pytest.raises(LoadConfigError) as err:
        parse_switch("b", {"hub": "h", "switch": "switch.b", "power_w": 100, "priority": "1.5"})
    assert [str(p) for p in err.value.problems] == [
        "app 'b': key 'priority' = '1.5' is invalid: must be a whole number"
    ]
