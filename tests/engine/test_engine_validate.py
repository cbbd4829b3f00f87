"""Every configuration error names the item and the key, and `allocate` refuses bad input."""

from __future__ import annotations

from dataclasses import replace

import pytest

from load_juggler.engine.allocate import allocate
from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import (
    BatteryConfig,
    Circuit,
    InverterLimits,
    Load,
    LoadKind,
    Site,
    Snapshot,
)
from load_juggler.engine.validate import (
    circuit_of_members,
    member_conflicts,
    parent_loop,
    validate,
)

GOOD_SITE = Site()
GOOD_CIRCUITS = (Circuit("main", limit_a=32.0), Circuit("garage", parent="main", limit_a=20.0))
GOOD_LOAD = Load("evse1", circuit="garage")


def test_good_configuration_passes():
    assert validate(GOOD_SITE, GOOD_CIRCUITS, (GOOD_LOAD, Load("evse2"))) is None


SITE_CASES = [
    ("zero breaker", replace(GOOD_SITE, main_breaker_a=0.0), "main_breaker_a"),
    ("negative breaker", replace(GOOD_SITE, main_breaker_a=-5.0), "main_breaker_a"),
    ("zero voltage", replace(GOOD_SITE, voltage_v=0.0), "voltage_v"),
    ("two phases", replace(GOOD_SITE, phases=2), "phases"),
    ("zero import cap", replace(GOOD_SITE, max_import_w=0.0), "max_import_w"),
    ("negative threshold", replace(GOOD_SITE, excess_threshold_w=-1.0), "excess_threshold_w"),
    ("unknown strategy", replace(GOOD_SITE, distribution="fair"), "distribution"),
    (
        "soc above 100",
        replace(GOOD_SITE, battery=BatteryConfig(target_soc_pct=120.0)),
        "battery.target_soc_pct",
    ),
    (
        "negative soc",
        replace(GOOD_SITE, battery=BatteryConfig(min_soc_pct=-1.0)),
        "battery.min_soc_pct",
    ),
    (
        "min above target",
        replace(GOOD_SITE, battery=BatteryConfig(min_soc_pct=85.0, target_soc_pct=80.0)),
        "battery.min_soc_pct",
    ),
    (
        "target above full",
        replace(GOOD_SITE, battery=BatteryConfig(target_soc_pct=99.0, full_soc_pct=98.0)),
        "battery.target_soc_pct",
    ),
    (
        "negative charge power",
        replace(GOOD_SITE, battery=BatteryConfig(max_charge_w=-1.0)),
        "battery.max_charge_w",
    ),
    (
        "zero inverter",
        replace(GOOD_SITE, inverter=InverterLimits(max_w=0.0)),
        "inverter.max_w",
    ),
    (
        "negative inverter phase",
        replace(GOOD_SITE, inverter=InverterLimits(max_w_per_phase=-3.0)),
        "inverter.max_w_per_phase",
    ),
]


@pytest.mark.parametrize(("case", "bad_site", "key"), SITE_CASES, ids=[c[0] for c in SITE_CASES])
def test_site_errors(case, bad_site, key):
    with pytest.raises(ConfigError) as err:
        validate(bad_site, GOOD_CIRCUITS, (GOOD_LOAD,))
    assert (err.value.item, err.value.key) == ("site", key)
    assert str(err.value).startswith(f"site: key '{key}'")


CIRCUIT_CASES = [
    ("zero limit", (Circuit("garage", limit_a=0.0),), "circuit 'garage'", "limit_a"),
    ("negative power", (Circuit("garage", max_power_w=-1.0),), "circuit 'garage'", "max_power_w"),
    (
        "duplicate",
        (Circuit("garage"), Circuit("garage", limit_a=10.0)),
        "circuit 'garage'",
        "id",
    ),
    ("unknown parent", (Circuit("garage", parent="shed"),), "circuit 'garage'", "parent"),
    ("self parent", (Circuit("garage", parent="garage"),), "circuit 'garage'", "parent"),
    (
        "three-cycle",
        (Circuit("a", parent="c"), Circuit("b", parent="a"), Circuit("c", parent="b")),
        "circuit 'a'",
        "parent",
    ),
    ("reserved id", (Circuit("site"),), "circuit 'site'", "id"),
]


@pytest.mark.parametrize(
    ("case", "circuits", "item", "key"), CIRCUIT_CASES, ids=[c[0] for c in CIRCUIT_CASES]
)
def test_circuit_errors(case, circuits, item, key):
    with pytest.raises(ConfigError) as err:
        validate(GOOD_SITE, circuits, ())
    assert (err.value.item, err.value.key) == (item, key)


def test_cycle_message_shows_the_loop():
    circuits = (Circuit("a", parent="b"), Circuit("b", parent="a"))
    with pytest.raises(ConfigError, match="a -> b -> a"):
        validate(GOOD_SITE, circuits, ())


LOAD_CASES = [
    ("unknown circuit", {"circuit": "shed"}, "circuit"),
    ("unknown mode", {"mode": "turbo"}, "mode"),
    ("unknown kind", {"kind": "heatpump"}, "kind"),
    ("four phases", {"phases": 4}, "phases"),
    ("bool phases", {"phases": True}, "phases"),
    ("unknown phase", {"phase_map": ("A", "B", "D")}, "phase_map"),
    ("short phase map", {"phase_map": ("A",)}, "phase_map"),
    ("min above max", {"min_a": 20.0, "max_a": 16.0}, "min_a"),
    ("negative min", {"min_a": -1.0}, "min_a"),
    ("zero max", {"min_a": 0.0, "max_a": 0.0}, "max_a"),
    ("priority 0", {"priority": 0}, "priority"),
    ("priority 11", {"priority": 11}, "priority"),
    ("priority float", {"priority": 2.5}, "priority"),
    ("plug without power", {"kind": LoadKind.PLUG}, "power_w"),
    ("plug zero power", {"kind": LoadKind.PLUG, "power_w": 0.0}, "power_w"),
    ("nan max", {"max_a": float("nan")}, "max_a"),
]


@pytest.mark.parametrize(("case", "changes", "key"), LOAD_CASES, ids=[c[0] for c in LOAD_CASES])
def test_load_errors(case, changes, key):
    with pytest.raises(ConfigError) as err:
        validate(GOOD_SITE, GOOD_CIRCUITS, (replace(GOOD_LOAD, **changes),))
    assert (err.value.item, err.value.key) == ("load 'evse1'", key)


def test_duplicate_load_ids():
    with pytest.raises(ConfigError) as err:
        validate(GOOD_SITE, (), (Load("car"), Load("car")))
    assert (err.value.item, err.value.key) == ("load 'car'", "id")


def test_one_phase_site_has_only_phase_a():
    one = replace(GOOD_SITE, phases=1)
    assert validate(one, (), (Load("ok", phases=1, phase_map=("A",)),)) is None
    with pytest.raises(ConfigError) as err:
        validate(one, (), (Load("car", phases=1, phase_map=("B",)),))
    assert (err.value.item, err.value.key) == ("load 'car'", "phase_map")


def test_three_phase_load_on_one_phase_site_needs_every_line_on_a():
    one = replace(GOOD_SITE, phases=1)
    with pytest.raises(ConfigError) as err:
        validate(one, (), (Load("car", phases=3),))
    assert (err.value.item, err.value.key) == ("load 'car'", "phase_map")
    assert "needs phase_map [A, A, A]" in str(err.value)
    assert validate(one, (), (Load("car", phases=3, phase_map=("A", "A", "A")),)) is None


def test_two_phase_loads_and_repeated_phases_are_accepted():
    loads = (
        Load("two", phases=2),
        Load("two_on_bc", phases=2, phase_map=("B", "C", "A")),
        Load("repeat", phases=3, phase_map=("A", "A", "C")),
    )
    assert validate(GOOD_SITE, (), loads) is None


def test_metering_must_be_net_or_per_phase():
    assert validate(replace(GOOD_SITE, metering="per_phase"), (), ()) is None
    with pytest.raises(ConfigError) as err:
        validate(replace(GOOD_SITE, metering="split"), (), ())
    assert (err.value.item, err.value.key) == ("site", "metering")
    assert "net, per_phase" in str(err.value)


def test_strings_for_enums_are_accepted_when_valid():
    site = replace(GOOD_SITE, distribution="shared")
    load = Load("car", mode="solar_only", kind="evse")
    assert validate(site, (), (load,)) is None


def test_allocate_validates():
    with pytest.raises(ConfigError, match="load 'car': key 'min_a'"):
        allocate(Snapshot(site=GOOD_SITE, loads=(Load("car", min_a=20.0),), grid_a=(0.0, 0.0, 0.0)))


def test_error_message_is_one_line_naming_value_and_rule():
    with pytest.raises(ConfigError) as err:
        validate(GOOD_SITE, (), (Load("evse1", min_a=20.0, max_a=16.0),))
    assert str(err.value) == "load 'evse1': key 'min_a' = 20.0 is invalid: must be <= max_a (16.0)"


def test_circuit_of_members_maps_loads():
    assert circuit_of_members({"garage": ["evse1", "evse2"], "shed": ["heater"]}) == {
        "evse1": "garage",
        "evse2": "garage",
        "heater": "shed",
    }


def test_circuit_of_members_rejects_a_load_in_two_circuits():
    with pytest.raises(ConfigError) as err:
        circuit_of_members({"garage": ["evse1"], "shed": ["evse1"]})
    assert (err.value.item, err.value.key) == ("load 'evse1'", "circuit")
    assert err.value.value == ["garage", "shed"]


# -- the one loop and membership check (apps.yaml, scenario files and `validate` share them)


def test_parent_loop_returns_the_walk_that_comes_back():
    parents = {"a": "b", "b": "c", "c": "b", "d": None}
    assert parent_loop(parents, "a") == ["a", "b", "c", "b"]
    assert parent_loop(parents, "d") is None
    # A parent that is no circuit ends the walk: it is reported on its own.
    assert parent_loop({"a": "attic"}, "a") is None


def test_parent_loop_remembers_circuits_proven_to_reach_the_site():
    reaches_site: set[str] = set()
    assert parent_loop({"a": "b", "b": None}, "a", reaches_site) is None
    assert reaches_site == {"a", "b"}
    # With "b" known good, a walk stops there even if the map would say otherwise.
    assert parent_loop({"c": "b", "b": "c"}, "c", reaches_site) is None


def test_member_conflicts_name_the_circuit_the_load_and_where_it_was_first():
    members = {"garage": ["evse1", "evse1"], "shed": ["evse1", "heater"], "attic": ["heater"]}
    assert member_conflicts(members) == [
        ("garage", "evse1", "garage"),
        ("shed", "evse1", "garage"),
        ("attic", "heater", "shed"),
    ]
    assert member_conflicts({"garage": ["evse1"], "shed": ["heater"]}) == []


def test_a_load_listed_twice_by_the_same_circuit_is_no_engine_error():
    assert circuit_of_members({"garage": ["evse1", "evse1"]}) == {"evse1": "garage"}
