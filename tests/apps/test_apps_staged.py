"""Staged load (heating elements on switches) driven through HA states.

Site: HUB_ARGS (3 phases, 230 V, 25 A breaker, 5 s cycles, 100 A/s ramp, no start/stop
delays and no min on/off times at the hub). Worked by hand: 1 kW on one line is
1000 / 230 = 4.3478 A, counted by the engine as 4.348 A (rounded up to 1 mA); 2 kW 8.696 A,
3 kW 13.044 A; an export of E A on phase A is E x 230 W of surplus.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, logs, published, set_grid, set_solar

from load_juggler.config import LoadConfigError
from load_juggler.config.kinds.staged import parse_staged
from load_juggler.hub import Hub
from load_juggler.loads.staged import StagedLoad
from load_juggler.loads.switch import SwitchLoad

ON = "switch/turn_on"
OFF = "switch/turn_off"


def switched(hass_mocks: Any) -> list[tuple[str, str]]:
    """Every element switching in order: (entity, on|off)."""
    out = []
    for c in hass_mocks.hass_functions["call_service"].call_args_list:
        if c.args and c.args[0] in (ON, OFF):
            out.append((c.kwargs["entity_id"], "on" if c.args[0] == ON else "off"))
    return out


def one_phase_heater(given_that: Any, ad: Any, **extra: Any) -> Any:
    """1 kW (element 1) and 2 kW (element 2) on phase A: steps 1, 2 and 3 kW."""
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    for n in (1, 2):
        given_that.state_of(f"switch.el{n}").is_set_to("off")
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    args = {
        "hub": "lj_hub",
        "stages": [
            {"switch": "switch.el1", "power_w": 1000},
            {"switch": "switch.el2", "power_w": 2000},
        ],
        "steps": [[1], [2], [1, 2]],
        "phase_map": ["A"],
        "min_on_s": 0,
        "min_off_s": 0,
    }
    args.update(extra)
    return ad(StagedLoad, "heater", **args)


def set_elements(given_that: Any, on: set[int]) -> None:
    for n in (1, 2):
        given_that.state_of(f"switch.el{n}").is_set_to("on" if n in on else "off")


def test_the_largest_step_that_fits_the_surplus(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    one_phase_heater(given_that, ad)
    time_travel.fast_forward(10).seconds()
    assert switched(hass_mocks) == []  # importing, already off

    # 10 A exported on A = 2300 W. A start goes to the smallest step first (1 kW).
    set_solar(given_that, 4000)
    set_grid(given_that, -10, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert switched(hass_mocks) == [("switch.el1", "on")]

    # It draws 1 kW; still 2300 W of surplus (10 A): 2 kW (8.696 A) fits, 3 kW (13.044)
    # does not. Element 1 goes off before element 2 goes on.
    set_elements(given_that, {1})
    set_grid(given_that, -10 + 1000 / 230, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert switched(hass_mocks)[1:] == [("switch.el1", "off"), ("switch.el2", "on")]
    assert published(hass_mocks, "sensor.load_juggler_heater_allocated_power")[0] == "2000.0"
    assert published(hass_mocks, "sensor.load_juggler_heater_state")[0] == "on"

    # 13.5 A of surplus (3105 W): 3 kW fits, element 1 joins.
    set_elements(given_that, {2})
    set_grid(given_that, -13.5 + 2000 / 230, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert switched(hass_mocks)[3:] == [("switch.el1", "on")]
    state = published(hass_mocks, "sensor.load_juggler_heater_allocated_current")[0]
    assert float(state) == pytest.approx(13.04, abs=0.01)

    # The sun goes: everything off at once.
    set_elements(given_that, {1, 2})
    set_solar(given_that, 0)
    set_grid(given_that, 2 + 3000 / 230, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert sorted(switched(hass_mocks)[4:]) == [("switch.el1", "off"), ("switch.el2", "off")]


def test_an_element_keeps_its_min_on_time_unless_a_cut_needs_it(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    one_phase_heater(given_that, ad, min_on_s=60, min_off_s=0)
    set_solar(given_that, 4000)
    set_grid(given_that, -10, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert switched(hass_mocks) == [("switch.el1", "on")]
    set_elements(given_that, {1})
    set_grid(given_that, -10 + 1000 / 230, 0, 0)
    # 2 kW would fit, but it needs element 1 off, 5 s after it went on: it stays at 1 kW.
    time_travel.fast_forward(5).seconds()
    assert switched(hass_mocks) == [("switch.el1", "on")]
    attrs = published(hass_mocks, "sensor.load_juggler_heater_state")[1]
    assert attrs["elements_wanted"] == "1"
    # 60 s after it went on, the step changes.
    time_travel.fast_forward(55).seconds()
    assert switched(hass_mocks)[1:] == [("switch.el1", "off"), ("switch.el2", "on")]

    # Element 2 is on for 5 s when the sun goes: the cut does not wait for its min on time.
    set_elements(given_that, {2})
    set_solar(given_that, 0)
    set_grid(given_that, 2 + 2000 / 230, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert switched(hass_mocks)[3:] == [("switch.el2", "off")]


def test_min_off_keeps_a_fresh_element_off(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """3 x 2 kW, one element per line of a 3-phase load: the engine counts every step at its
    busiest line (8.696 A), so only all three together (6 kW) are worth taking."""
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    for n in (1, 2, 3):
        given_that.state_of(f"switch.el{n}").is_set_to("off")
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        StagedLoad,
        "heater",
        hub="lj_hub",
        mode="continuous",
        phases=3,
        stages=[{"switch": f"switch.el{n}", "power_w": 2000, "phase": f"L{n}"} for n in (1, 2, 3)],
        min_on_s=0,
        min_off_s=120,
    )
    time_travel.fast_forward(5).seconds()
    assert sorted(switched(hass_mocks)) == [(f"switch.el{n}", "on") for n in (1, 2, 3)]
    state = published(hass_mocks, "sensor.load_juggler_heater_allocated_power")[0]
    assert state == "6000.0"
    # A 20 A load appears on phase B: 25 - 22 = 3 A left there, no step fits: all off.
    for n in (1, 2, 3):
        given_that.state_of(f"switch.el{n}").is_set_to("on")
    set_grid(given_that, 2 + 8.696, 22 + 8.696, 2 + 8.696)
    time_travel.fast_forward(5).seconds()
    assert sorted(switched(hass_mocks)[3:]) == [(f"switch.el{n}", "off") for n in (1, 2, 3)]
    # Room again 5 s later: min off time (120 s) keeps them off, then they come back.
    for n in (1, 2, 3):
        given_that.state_of(f"switch.el{n}").is_set_to("off")
    set_grid(given_that, 2, 2, 2)
    time_travel.fast_forward(60).seconds()
    assert len(switched(hass_mocks)) == 6
    time_travel.fast_forward(65).seconds()
    assert sorted(switched(hass_mocks)[6:]) == [(f"switch.el{n}", "on") for n in (1, 2, 3)]


def test_parser_names_the_problems() -> None:
    with pytest.raises(LoadConfigError) as err:
        parse_staged(
            "h",
            {
                "hub": "lj",
                "phases": 1,
                "stages": [
                    {"switch": "switch.a", "power_w": 1000, "phase": "L2"},
                    {"switch": "light.b", "power_w": 0},
                ],
            },
        )
    text = str(err.value)
    assert "key 'stages[0].phase' = 'L2' is invalid: must be one of L1 (phases)" in text
    assert "key 'stages[1].switch' = 'light.b'" in text
    assert "key 'stages[1].power_w' = 0" in text
    with pytest.raises(LoadConfigError, match=r"key 'steps' = \[\[1\], \[3\]\] is invalid"):
        parse_staged(
            "h",
            {
                "hub": "lj",
                "stages": [
                    {"switch": "switch.a", "power_w": 1},
                    {"switch": "switch.b", "power_w": 2},
                ],
                "steps": [[1], [3]],
            },
        )
    with pytest.raises(LoadConfigError, match="key 'stages' = None is invalid: required"):
        parse_staged("h", {"hub": "lj"})


def test_engine_steps_drop_what_is_never_best() -> None:
    """1 kW + 2 kW on L1, 1.5 kW on L2 (2 phases), steps as listed: {1} 1000 W on the busiest
    line, {3} 1500, {2} 2000, {1,3} 1500 (2500 W in all: beats {3}), {2,3} 2000 (3500 W:
    beats {2}), {1,2} 3000 W; so 1000, 1500 ({1,3}), 2000 ({2,3}), 3000 ({1,2} and 3000 W
    is less than {2,3}'s 3500 W: dropped)."""
    common, cfg = parse_staged(
        "h",
        {
            "hub": "lj",
            "phases": 2,
            "stages": [
                {"switch": "switch.a", "power_w": 1000},
                {"switch": "switch.b", "power_w": 2000},
                {"switch": "switch.c", "power_w": 1500, "phase": "L2"},
            ],
            "steps": [[1], [3], [2], [1, 3], [2, 3], [1, 2]],
        },
    )
    assert [sorted(s) for s in cfg.allowed] == [[0], [0, 2], [1, 2]]
    assert common.step_line_w == (1000, 1500, 2000)
    load = common.engine_load(230.0, None)
    assert load.steps_a == (4.348, 6.522, 8.696)
    assert (load.min_a, load.max_a) == (4.348, 8.696)


def test_the_readme_lists_every_staged_option() -> None:
    from test_apps_config_schema import expected, readme_table

    from load_juggler.config.kinds.staged import STAGE_OPTIONS, STAGED_OPTIONS

    heading = "### Staged load (`module: load_juggler.loads.staged`, `class: StagedLoad`)"
    assert readme_table(heading) == {**expected(STAGED_OPTIONS), **expected(STAGE_OPTIONS)}


def test_a_staged_load_sharing_a_switch_with_a_switched_load_is_refused(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    one_phase_heater(given_that, ad)
    ad(SwitchLoad, "plug", hub="lj_hub", switch="switch.el1", power_w=1000)
    assert logs(hass_mocks, "rejected load: ", "ERROR") == [
        "rejected load: app 'plug': key 'switch' = 'switch.el1' is invalid: switch "
        "switch.el1 is already driven by app 'heater'; two apps must not drive one device"
    ]
