"""A scenario file and apps.yaml read the same value the same way (issue 15).

Each case is written as YAML text, loaded by the same YAML reader, and handed to both the
scenario parser and the apps' parser (`config.parse_ocpp`, `parse_switch`, `parse_hub`): both
accept it with the same value, or both refuse it.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from load_juggler.config import HubConfigError, LoadConfigError, parse_hub, parse_ocpp, parse_switch
from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import Mode, Strategy
from load_juggler.sim.scenario import parse_scenario

HUB_SENSORS = {
    "sensors": {"grid_current": ["sensor.l1", "sensor.l2", "sensor.l3"]},
}


def scenario_load(load: dict[str, Any]) -> Any:
    data = {"site": {"main_breaker_a": 63}, "loads": [{"id": "car", **load}]}
    return parse_scenario(data).loads[0].load


def app_load(load: dict[str, Any]) -> Any:
    if load.get("type") == "plug":
        args = {k: v for k, v in load.items() if k != "type"}
        settings, _ = parse_switch("car", {"hub": "hub", "switch": "switch.car", **args})
    else:
        settings, _ = parse_ocpp("car", {"hub": "hub", "charger": "car", **load})
    return settings


def read(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)


ACCEPTED_LOAD = [
    pytest.param("max_a: '25'", "max_a", 25.0, id="number-as-string"),
    pytest.param("phase_map: [b, c, a]", "phase_map", ("B", "C", "A"), id="lowercase-phase-map"),
    pytest.param("priority: 1.0", "priority", 1, id="whole-float-priority"),
    pytest.param("priority: '3'", "priority", 3, id="priority-as-string"),
    pytest.param("mode: off", "mode", Mode.OFF, id="unquoted-off"),
    pytest.param("mode: Solar Priority", "mode", Mode.SOLAR_PRIORITY, id="mode-as-in-the-ui"),
    pytest.param("{type: plug, power_w: 5e3}", "power_w", 5000.0, id="5e3-yaml-string"),
    pytest.param("phases: '1'\nphase_map: [c]", "phase_map", ("C",), id="phases-as-string"),
]


@pytest.mark.parametrize(("text", "field", "expected"), ACCEPTED_LOAD)
def test_both_parsers_accept_a_load_value_alike(text: str, field: str, expected: Any) -> None:
    load = read(text)
    assert getattr(scenario_load(load), field) == expected
    assert getattr(app_load(load), field) == expected


def test_yaml_reads_5e3_as_a_string_and_unquoted_off_as_false() -> None:
    # Why the cases above matter: neither is the type it looks like.
    assert read("power_w: 5e3") == {"power_w": "5e3"}
    assert read("mode: off") == {"mode": False}


REFUSED_LOAD = [
    pytest.param("priority: 1.5", "priority", id="fractional-priority"),
    pytest.param("priority: 11", "priority", id="priority-over-10"),
    pytest.param("max_a: sixteen", "max_a", id="word-for-number"),
    pytest.param("max_a: .nan", "max_a", id="nan"),
    pytest.param("max_a: '.inf'", "max_a", id="inf-string"),
    pytest.param("max_a: 81", "max_a", id="max-a-over-80"),
    pytest.param("min_a: 0", "min_a", id="zero-min"),
    pytest.param("phases: 1\nphase_map: [A, B, C]", "phase_map", id="too-many-phases"),
    pytest.param("phase_map: [A, B, D]", "phase_map", id="unknown-phase"),
    pytest.param("mode: on", "mode", id="unquoted-on-is-true"),
    pytest.param("phases: 4", "phases", id="four-phases"),
    pytest.param("{type: plug, power_w: 60000}", "power_w", id="power-over-50-kw"),
]


@pytest.mark.parametrize(("text", "key"), REFUSED_LOAD)
def test_both_parsers_refuse_a_load_value_alike(text: str, key: str) -> None:
    load = read(text)
    with pytest.raises(ConfigError) as scenario_err:
        scenario_load(load)
    assert scenario_err.value.key == key
    with pytest.raises(LoadConfigError) as app_err:
        app_load(load)
    assert [p.key for p in app_err.value.problems] == [key]


SITE_CASES = [
    pytest.param("main_breaker_a: '25'", "main_breaker_a", 25.0, id="breaker-as-string"),
    pytest.param("distribution: Shared", "distribution", Strategy.SHARED, id="any-case-choice"),
    pytest.param("voltage: '2.3e2'", "voltage_v", 230.0, id="voltage-exponent"),
    pytest.param("voltage: -230", "voltage", None, id="negative-voltage"),
    pytest.param("main_breaker_a: 1001", "main_breaker_a", None, id="breaker-over-1000"),
    pytest.param("phases: '3'", "phases", 3, id="site-phases-as-string"),
]


@pytest.mark.parametrize(("text", "field", "expected"), SITE_CASES)
def test_both_parsers_read_a_site_value_alike(text: str, field: str, expected: Any) -> None:
    site = {"main_breaker_a": 25, **read(text)}
    if expected is None:
        with pytest.raises(ConfigError) as err:
            parse_scenario({"site": site})
        assert err.value.key == field
        with pytest.raises(HubConfigError) as hub_err:
            parse_hub("hub", {"site": site, **HUB_SENSORS})
        assert [p.key for p in hub_err.value.problems] == [f"site.{field}"]
        return
    assert getattr(parse_scenario({"site": site}).site.site, field) == expected
    assert getattr(parse_hub("hub", {"site": site, **HUB_SENSORS}).site, field) == expected


@pytest.mark.parametrize(
    ("battery", "key"),
    [
        ({"target_soc": 99}, "target_soc"),  # above the default full_soc of 98
        ({"min_soc": 90}, "min_soc"),  # above the default target_soc of 80
        ({"target_soc": "80%"}, "target_soc"),
    ],
)
def test_both_parsers_refuse_a_battery_alike(battery: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario({"site": {"battery": battery}})
    assert (err.value.item, err.value.key) == ("site.battery", key)
    with pytest.raises(HubConfigError) as hub_err:
        parse_hub("hub", {"site": {"main_breaker_a": 25}, "battery": battery, **HUB_SENSORS})
    # (the hub also wants a battery_soc sensor; only the battery section is compared)
    problems = [p.key for p in hub_err.value.problems if p.key.startswith("battery.")]
    assert problems == [f"battery.{key}"]


@pytest.mark.parametrize(("text", "key"), REFUSED_LOAD)
def test_both_parsers_say_the_same_words_about_a_refused_load_value(text: str, key: str) -> None:
    # One option declaration (config/kinds/) words the problem for both files.
    load = read(text)
    with pytest.raises(ConfigError) as scenario_err:
        scenario_load(load)
    with pytest.raises(LoadConfigError) as app_err:
        app_load(load)
    assert scenario_err.value.allowed == app_err.value.problems[0].allowed


@pytest.mark.parametrize(
    ("section", "scenario_key", "app_key", "value", "allowed"),
    [
        ("battery", "hysteresis", "hysteresis_pct", 25, "must be a number >= 0 and <= 20"),
        ("battery", "max_charge_w", "max_charge_w", -1, "must be a number >= 0"),
        ("inverter", "max_w", "max_w", 0, "must be a number > 0"),
        ("inverter", "asymmetric", "asymmetric", "yes", "must be true or false"),
    ],
)
def test_both_parsers_refuse_a_battery_or_inverter_value_with_the_same_words(
    section: str, scenario_key: str, app_key: str, value: Any, allowed: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario({"site": {section: {scenario_key: value}}})
    assert (err.value.item, err.value.key, err.value.allowed) == (
        f"site.{section}",
        scenario_key,
        allowed,
    )
    with pytest.raises(HubConfigError) as hub_err:
        parse_hub("hub", {"site": {"main_breaker_a": 25}, section: {app_key: value}})
    problems = [(p.key, p.allowed) for p in hub_err.value.problems if p.key.startswith(section)]
    assert problems == [(f"{section}.{app_key}", allowed)]


@pytest.mark.parametrize(
    ("site", "key", "allowed"),
    [
        ({"voltage": None}, "voltage", "must be a number"),
        ({"phases": None}, "phases", "must be a whole number"),
        ({"allow_grid_charging": None}, "allow_grid_charging", "must be true or false"),
        ({"battery": {"min_soc": None}}, "min_soc", "must be a number"),
    ],
)
def test_a_scenario_key_written_without_a_value_is_refused(
    site: dict[str, Any], key: str, allowed: str
) -> None:
    # apps.yaml reads an empty key as left out; a scenario file names it (as it always has).
    with pytest.raises(ConfigError) as err:
        parse_scenario({"site": site})
    assert (err.value.key, err.value.value, err.value.allowed) == (key, None, allowed)


def test_a_scenario_may_leave_the_import_cap_and_inverter_limits_empty() -> None:
    site = parse_scenario(
        {"site": {"max_import_w": None, "inverter": {"max_w": None, "max_w_per_phase": 4000}}}
    ).site.site
    assert site.max_import_w is None
    assert site.inverter is not None
    assert (site.inverter.max_w, site.inverter.max_w_per_phase) == (None, 4000.0)
