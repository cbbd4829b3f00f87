"""The option declarations (config/schema.py, config/kinds/, config/site_config.py): the README's
option tables list exactly the declared options with their defaults, and an `Option` reads and
refuses values the way both apps.yaml and scenario files rely on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from load_juggler.config import ArgReader, parse_ocpp, parse_switch
from load_juggler.config.kinds import (
    COMMON_OPTIONS,
    EVSE_OPTIONS,
    EVSE_SCHEMA,
    SWITCH_OPTIONS,
    SWITCH_SCHEMA,
)
from load_juggler.config.schema import Option, OptionType, Schema
from load_juggler.config.site_config import (
    BATTERY_OPTIONS,
    CIRCUIT_OPTIONS,
    INVERTER_OPTIONS,
    SITE_OPTIONS,
    site_voltage_problem,
)
from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import Mode

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_table(heading: str) -> dict[str, str]:
    """`key -> default` of the first table under `heading`; a row `a` / `b` with defaults
    `1 / 2` is two keys, and a later key without a section (`battery.min_soc` / `target_soc`)
    takes the first one's."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    rows: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        keys = re.findall(r"`([^`]+)`", cells[0])
        section = keys[0].rsplit(".", 1)[0] + "." if "." in keys[0] else ""
        keys = [k if "." in k else section + k for k in keys]
        defaults = cells[1].split(" / ") if len(keys) > 1 else [cells[1]]
        if len(defaults) == 1:
            defaults = defaults * len(keys)
        assert len(defaults) == len(keys), line
        rows.update(zip(keys, defaults, strict=True))
    return rows


def expected(schema: Schema, prefix: str = "") -> dict[str, str]:
    return {prefix + o.name: o.shown_default for o in schema}


def test_the_readme_lists_every_common_load_option_with_each_kinds_default() -> None:
    shown = {}
    for option in COMMON_OPTIONS:
        evse, switch = EVSE_SCHEMA[option.name], SWITCH_SCHEMA[option.name]
        if evse.shown_default == switch.shown_default:
            shown[option.name] = evse.shown_default
        else:
            shown[option.name] = f"{evse.shown_default} (charger), {switch.shown_default} (switch)"
    assert readme_table("### Options of every load") == shown
    # The two kinds' own defaults, as the README's words above say them:
    assert shown["mode"] == "`continuous` (charger), `excess` (switch)"
    assert shown["phases"] == "3 (charger), 1 (switch)"


def test_the_readme_lists_every_charger_option() -> None:
    table = readme_table(
        "### OCPP charger (`module: load_juggler.loads.ocpp`, `class: OcppCharger`)"
    )
    assert table == expected(EVSE_OPTIONS)
    assert table["min_a"] == "6" and table["validity_s"] == "120"


def test_the_readme_lists_every_switch_option() -> None:
    table = readme_table(
        "### Switched load (`module: load_juggler.loads.switch`, `class: SwitchLoad`)"
    )
    assert table == expected(SWITCH_OPTIONS)
    assert table["idle_timeout_s"] == "300"


def test_the_readme_lists_every_site_battery_inverter_and_circuit_limit_option() -> None:
    table = readme_table("### Hub options (`module: load_juggler.hub`, `class: Hub`)")
    declared = {
        **expected(SITE_OPTIONS, "site."),
        **expected(BATTERY_OPTIONS, "battery."),
        **expected(INVERTER_OPTIONS, "inverter."),
        **expected(CIRCUIT_OPTIONS, "circuits.<id>."),
    }
    sections = ("site.", "battery.", "inverter.")
    limits = ("circuits.<id>.limit_a", "circuits.<id>.max_power_w")
    documented = {k: v for k, v in table.items() if k.startswith(sections) or k in limits}
    assert documented == declared
    assert documented["battery.full_soc"] == "98"


def test_the_parsers_default_to_the_declared_defaults() -> None:
    # The schema's defaults are the ones the parsers apply (hand-written: 6 A, 16 A, 120 s,
    # 100 W, 60 s for a charger; 300 s and the excess mode for a switch).
    common, ocpp = parse_ocpp("car", {"hub": "hub", "charger": "car"})
    assert (common.min_a, common.max_a, common.phases, common.mode) == (
        6.0,
        16.0,
        3,
        Mode.CONTINUOUS,
    )
    assert (ocpp.validity_s, ocpp.idle_power_w, ocpp.idle_timeout_s) == (120.0, 100.0, 60.0)
    plug, switch = parse_switch("boiler", {"hub": "hub", "switch": "switch.b", "power_w": 2000})
    assert (plug.mode, plug.phases, switch.idle_timeout_s) == (Mode.EXCESS, 1, 300.0)
    assert EVSE_SCHEMA.default("validity_s") == ocpp.validity_s
    assert SWITCH_SCHEMA.default("mode") is plug.mode


def test_an_option_reads_with_its_bounds_and_collects_the_problem() -> None:
    option = Option("max_a", OptionType.NUMBER, 16.0, above=0, maximum=80)
    r = ArgReader("app 'car'", {"max_a": "81"})
    assert option.read(r) == 16.0  # the default, after the problem
    assert [str(e) for e in r.errors] == [
        "app 'car': key 'max_a' = '81' is invalid: must be a number > 0 and <= 80"
    ]
    assert option.read(ArgReader("x", {"max_a": "25"})) == 25.0


def test_check_raises_the_first_problem_and_refuses_an_empty_value() -> None:
    option = COMMON_OPTIONS["priority"]
    assert option.check("load 'car'", "3") == 3
    with pytest.raises(ConfigError) as err:
        option.check("load 'car'", 11)
    assert str(err.value) == (
        "load 'car': key 'priority' = 11 is invalid: must be a whole number >= 1 and <= 10"
    )
    with pytest.raises(ConfigError, match="must be a whole number"):
        option.check("load 'car'", None)


def test_a_kind_schema_is_the_common_options_with_its_own_defaults_first() -> None:
    assert EVSE_SCHEMA.names[: len(COMMON_OPTIONS.names)] == COMMON_OPTIONS.names
    assert SWITCH_SCHEMA["phases"].default == 1 and EVSE_SCHEMA["phases"].default == 3
    with pytest.raises(KeyError):
        COMMON_OPTIONS.with_defaults("x", colour="red")
    with pytest.raises(ValueError, match="twice"):
        Schema("x", (Option("a", OptionType.TEXT), Option("a", OptionType.TEXT)))


@pytest.mark.parametrize(
    ("volts", "ok"),
    [
        (230, True),
        (180, True),
        (260, True),
        (261, False),
        (179, False),
        (120, True),
        (90, True),
        (140, True),
        (141, False),
        (89, False),
        (160, False),
        (400, False),
    ],
)
def test_site_voltage_uses_the_grid_class_ranges(volts: float, ok: bool) -> None:
    # 230 V grids: 180..260; 120 V grids: 90..140; nothing in between.
    assert (site_voltage_problem(volts) is None) is ok


def test_the_readme_lists_every_water_heater_option() -> None:
    from load_juggler.config.kinds.water_heater import (
        HEATER_OPTIONS,
        TANK_OPTIONS,
        WATER_HEATER_SCHEMA,
    )

    table = readme_table(
        "### Hot water tank (`module: load_juggler.loads.water_heater`, `class: WaterHeater`)"
    )
    assert table == {
        **expected(HEATER_OPTIONS),
        **expected(TANK_OPTIONS),
        "mode": WATER_HEATER_SCHEMA["mode"].shown_default,
    }
    assert table["mode"] == "`continuous`"
