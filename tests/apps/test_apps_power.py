"""Variable-power load (a solar diverter on an input_number) driven through HA states.

Site: HUB_ARGS (3 phases, 230 V, 25 A main breaker, 5 s cycles, 100 A/s ramp, no start/stop
delays, no min on/off times). The diverter is a 1-phase load on phase A, 300..3000 W in steps
of 100 W. Numbers are worked by hand: an export of E A on phase A is E x 230 W of surplus.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lj_support import HUB_ARGS, START, calls, logs, published, set_grid, set_solar

from load_juggler.config import LoadConfigError
from load_juggler.config.kinds.power import PowerSettings, parse_power
from load_juggler.hub import Hub
from load_juggler.loads.power import PowerLoad
from load_juggler.loads.power_entity import EntityLimits, entity_value

SET = "input_number/set_value"
ON = "input_boolean/turn_on"
OFF = "input_boolean/turn_off"
NUMBER = "input_number.diverter"
ENABLE = "input_boolean.diverter_enable"
WATTS = {"unit_of_measurement": "W", "min": 0, "max": 3000, "step": 1}


def diverter_args(**extra: Any) -> dict[str, Any]:
    args = {
        "hub": "lj_hub",
        "entity": NUMBER,
        "enable_switch": ENABLE,
        "min_power_w": 300,
        "max_power_w": 3000,
        "step_w": 100,
        "phase_map": ["A"],
    }
    args.update(extra)
    return args


@pytest.fixture
def site(given_that: Any) -> None:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of(NUMBER).is_set_to("0", WATTS)
    given_that.state_of(ENABLE).is_set_to("off")


def values(hass_mocks: Any, service: str = SET) -> list[float]:
    return [c["value"] for c in calls(hass_mocks, service)]


def test_diverter_follows_the_surplus_in_steps(
    site: None, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(PowerLoad, "diverter", **diverter_args())
    time_travel.fast_forward(10).seconds()  # importing: nothing to divert, already off
    assert calls(hass_mocks, SET) == [] and calls(hass_mocks, ON) == []
    assert published(hass_mocks, "sensor.load_juggler_diverter_state")[0] == "waiting_for_surplus"

    # 8 A exported on phase A = 1840 W. A start goes to the minimum (300 W) first.
    set_solar(given_that, 3000)
    set_grid(given_that, -8, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert values(hass_mocks) == [300]
    assert calls(hass_mocks, ON) == [{"suppress_log_messages": True, "entity_id": ENABLE}]

    # It draws 300 W (1.3 A) and the export shrinks by that much: the surplus is still
    # 1840 W, i.e. 8 A; 1840 W rounds DOWN to 300 + 15 x 100 = 1800 W.
    given_that.state_of(NUMBER).is_set_to("300", WATTS)
    given_that.state_of(ENABLE).is_set_to("on")
    set_grid(given_that, -8 + 300 / 230, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert values(hass_mocks) == [300, 1800]
    assert published(hass_mocks, "sensor.load_juggler_diverter_allocated_power")[0] == "1800.0"
    state, attrs = published(hass_mocks, "sensor.load_juggler_diverter_state")
    assert (state, attrs["set_w"]) == ("on", 1800.0)  # no car: on, not charging

    # A cloud: it draws 1800 W and the grid imports 2 A on A -> surplus 1800 - 460 = 1340 W
    # (5.826 A, floored to 5.8 A = 1334 W) -> 300 + 10 x 100 = 1300 W: a cut, rounded down.
    given_that.state_of(NUMBER).is_set_to("1800", WATTS)
    set_grid(given_that, 2, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert values(hass_mocks)[-1] == 1300

    # The sun is gone: 1300 W drawn, 7 A imported -> no surplus: switched off, value left.
    given_that.state_of(NUMBER).is_set_to("1300", WATTS)
    set_solar(given_that, 0)
    set_grid(given_that, 7, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [{"suppress_log_messages": True, "entity_id": ENABLE}]
    assert values(hass_mocks)[-1] == 1300
    assert published(hass_mocks, "sensor.load_juggler_diverter_allocated_power")[0] == "0.0"


@pytest.mark.parametrize(
    ("unit", "domain", "attrs", "expected"),
    [
        # 1800 W as kW, as A per phase of a 1-phase load (1800 / 230 = 7.826 A, floored to
        # the entity's 0.1 A grid: 7.8), and as % of 3000 W (60 %).
        ("kW", "number", {"min": 0, "max": 3, "step": 0.1}, 1.8),
        ("A", "number", {"min": 0, "max": 16, "step": 0.1}, 7.8),
        ("%", "input_number", {"min": 0, "max": 100, "step": 1}, 60),
    ],
)
def test_units_of_the_entity(
    unit: str,
    domain: str,
    attrs: dict[str, Any],
    expected: float,
    ad: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
) -> None:
    given_that.time_is(START)
    entity = f"{domain}.heat_limit"
    given_that.state_of(entity).is_set_to("0", attrs)
    set_solar(given_that, 0)
    set_grid(given_that, 2, 2, 2)
    hub = copy.deepcopy(HUB_ARGS)
    ad(Hub, "lj_hub", **hub)
    # Continuous at 1800 W exactly: max_power_w 1800 -> 7.826 A per phase.
    ad(
        PowerLoad,
        "heat_pump",
        hub="lj_hub",
        entity=entity,
        unit=unit,
        mode="continuous",
        min_power_w=600,
        max_power_w=1800 if unit != "%" else 3000,
        step_w=300 if unit != "%" else 30,
        phase_map=["B"],
    )
    time_travel.fast_forward(5).seconds()  # start at the minimum
    given_that.state_of(entity).is_set_to("1", attrs)
    time_travel.fast_forward(5).seconds()
    sent = values(hass_mocks, f"{domain}/set_value")
    if unit == "%":
        # 3000 W wanted, 25 A - 2 A leaves 23 A on B: the whole 3000 W = 100 %.
        assert sent[-1] == 100
    else:
        assert sent[-1] == expected


def test_entity_limits_that_contradict_the_config_are_refused(
    site: None, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.state_of(NUMBER).is_set_to("0", {**WATTS, "max": 2000})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(PowerLoad, "diverter", **diverter_args(mode="continuous"))
    time_travel.fast_forward(10).seconds()
    assert values(hass_mocks) == []
    assert calls(hass_mocks, ON) == []
    warned = logs(hass_mocks, "allows at most 2000 W (its max attribute)", "WARNING")
    assert len(warned) == 1
    assert "max_power_w 3000 W needs 3000 W" in warned[0]
    assert published(hass_mocks, "sensor.load_juggler_diverter_state")[0] == "unavailable"

    # The entity is fixed: the load runs (continuous, 3000 W fits), one line says so.
    given_that.state_of(NUMBER).is_set_to("0", WATTS)
    time_travel.fast_forward(10).seconds()
    assert values(hass_mocks)[0] == 300
    assert logs(hass_mocks, "fits the configuration again")


@pytest.mark.parametrize(
    ("attrs", "extra", "words"),
    [
        ({"min": 500, "max": 3000, "step": 1}, {}, "allows at least 500 W (its min attribute)"),
        (
            {"min": 100, "max": 3000, "step": 1},
            {"enable_switch": None},
            "the value 0 that turns the load off without an enable_switch is refused",
        ),
        ({"min": 0, "max": 3000, "step": 250}, {}, "step_w 100 W is 100 W"),
    ],
)
def test_other_contradictions(
    attrs: dict[str, Any],
    extra: dict[str, Any],
    words: str,
    site: None,
    ad: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
) -> None:
    given_that.state_of(NUMBER).is_set_to("0", {"unit_of_measurement": "W", **attrs})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    args = {k: v for k, v in diverter_args(mode="continuous", **extra).items() if v is not None}
    ad(PowerLoad, "diverter", **args)
    time_travel.fast_forward(10).seconds()
    assert len(logs(hass_mocks, words, "WARNING")) == 1
    assert calls(hass_mocks, ON) == []
    assert [v for v in values(hass_mocks) if v > 0] == []


def test_without_enable_switch_off_is_the_value_zero(
    site: None, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.state_of(NUMBER).is_set_to("900", WATTS)  # left at 900 W by hand
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    args = diverter_args()
    del args["enable_switch"]
    ad(PowerLoad, "diverter", **args)
    time_travel.fast_forward(5).seconds()  # importing, excess mode: off
    assert values(hass_mocks) == [0]
    assert calls(hass_mocks, OFF) == []


def test_measured_draw_above_the_command_stays_house_load(
    site: None, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A power sensor above the command: only the command is the load's own (engine/trust)."""
    given_that.state_of("sensor.diverter_power").is_set_to("0", {"unit_of_measurement": "W"})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        PowerLoad,
        "diverter",
        **diverter_args(mode="continuous", max_power_w=2300, power_sensor="sensor.diverter_power"),
    )
    time_travel.fast_forward(5).seconds()  # start at 300 W
    given_that.state_of(NUMBER).is_set_to("300", WATTS)
    given_that.state_of(ENABLE).is_set_to("on")
    given_that.state_of("sensor.diverter_power").is_set_to("300", {"unit_of_measurement": "W"})
    set_grid(given_that, 2 + 300 / 230, 2, 2)
    time_travel.fast_forward(5).seconds()
    assert values(hass_mocks)[-1] == 2300  # max: 10 A on phase A
    # It draws 3220 W (14 A) anyway: phase A reads 2 + 14 A. Trusted as its own: 10 A (the
    # command; 14 A is beyond command + 1 A tolerance), so the background is 16 - 10 = 6 A
    # and phase A has 25 - 6 = 19 A available (23 A if the whole draw were believed).
    given_that.state_of(NUMBER).is_set_to("2300", WATTS)
    given_that.state_of("sensor.diverter_power").is_set_to("3.22", {"unit_of_measurement": "kW"})
    set_grid(given_that, 16, 2, 2)
    time_travel.fast_forward(5).seconds()
    state = published(hass_mocks, "sensor.load_juggler_available_current_phase_a")[0]
    assert float(state) == pytest.approx(19.0, abs=0.05)
    time_travel.fast_forward(90).seconds()
    assert published(hass_mocks, "sensor.load_juggler_diverter_state")[0] == "not_obeying"


def test_parser_names_every_problem() -> None:
    with pytest.raises(LoadConfigError) as err:
        parse_power(
            "div",
            {
                "hub": "h",
                "entity": "sensor.x",
                "unit": "MW",
                "min_power_w": 4000,
                "max_power_w": 3000,
                "step_w": 0,
            },
        )
    text = str(err.value)
    assert "key 'entity' = 'sensor.x'" in text
    assert "key 'unit' = 'MW' is invalid: must be one of W, kW, A, %" in text
    assert "key 'min_power_w' = 4000 is invalid: must be <= max_power_w (3000)" in text
    assert "key 'step_w' = 0" in text
    with pytest.raises(LoadConfigError, match="key 'max_power_w' = None is invalid: required"):
        parse_power("div", {"hub": "h", "entity": "number.x"})


def test_command_rounds_down_to_steps_from_min() -> None:
    cfg = PowerSettings("number.x", "W", min_power_w=300, max_power_w=3000, step_w=100)
    # 1 phase at 230 V: 8 A = 1840 W -> 1800; 1.3 A = 299 W < min -> 0; 20 A -> max 3000.
    assert cfg.command_w(8.0, 230.0, 1) == 1800
    assert cfg.command_w(1.3, 230.0, 1) == 0
    assert cfg.command_w(300 / 230, 230.0, 1) == 300
    assert cfg.command_w(20.0, 230.0, 1) == 3000
    # 3 phases: 2 A x 230 V x 3 = 1380 W -> 1300.
    assert cfg.command_w(2.0, 230.0, 3) == 1300
    # A max off the step grid: 3050 is reached only as 300 + 27 x 100 = 3000.
    odd = PowerSettings("number.x", "W", min_power_w=300, max_power_w=3050, step_w=100)
    assert odd.command_w(100.0, 230.0, 1) == 3000


def test_the_readme_lists_every_power_option() -> None:
    from test_apps_config_schema import expected, readme_table

    from load_juggler.config.kinds.power import POWER_OPTIONS

    heading = "### Variable-power load (`module: load_juggler.loads.power`, `class: PowerLoad`)"
    assert readme_table(heading) == expected(POWER_OPTIONS)


def test_a_stale_grid_holds_it_at_its_minimum(
    site: None, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """Like a charging car: while the grid reading is stale (60 s), min_power_w (300 W)."""
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(PowerLoad, "diverter", **diverter_args(mode="continuous"))
    time_travel.fast_forward(5).seconds()  # start at 300 W
    given_that.state_of(NUMBER).is_set_to("300", WATTS)
    given_that.state_of(ENABLE).is_set_to("on")
    set_grid(given_that, 2 + 300 / 230, 2, 2)
    time_travel.fast_forward(5).seconds()
    assert values(hass_mocks)[-1] == 3000  # the whole range fits: 13.04 A on A
    given_that.state_of(NUMBER).is_set_to("3000", WATTS)
    set_grid(given_that, "unavailable", "unavailable", "unavailable")
    time_travel.fast_forward(55).seconds()
    assert values(hass_mocks)[-1] == 3000  # the last reading holds for 60 s
    time_travel.fast_forward(10).seconds()
    assert values(hass_mocks)[-1] == 300
    assert calls(hass_mocks, OFF) == []
    assert published(hass_mocks, "sensor.load_juggler_diverter_state")[0] == "stale_fallback"


def test_a_second_app_on_the_same_entity_is_refused(
    site: None, ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(PowerLoad, "diverter", **diverter_args())
    ad(PowerLoad, "diverter2", **diverter_args())
    assert logs(hass_mocks, "rejected load: ", "ERROR") == [
        "rejected load: app 'diverter2': key 'entity' = 'input_number.diverter' is invalid: "
        "entity input_number.diverter is already driven by app 'diverter'; two apps must not "
        "drive one device"
    ]
    assert ad.apps["lj_hub"].load_names == ["diverter"]


@settings(max_examples=300, deadline=None)
@given(
    current_a=st.floats(0.0, 100.0),
    volts=st.sampled_from([120.0, 230.0, 240.0]),
    phases=st.sampled_from([1, 2, 3]),
    min_w=st.floats(10.0, 5000.0),
    span_w=st.floats(0.0, 20000.0),
    step_w=st.floats(1.0, 1000.0),
    entity_step=st.sampled_from([None, 0.1, 1.0, 50.0]),
)
def test_a_command_is_never_above_what_the_engine_allowed(
    current_a: float,
    volts: float,
    phases: int,
    min_w: float,
    span_w: float,
    step_w: float,
    entity_step: float | None,
) -> None:
    cfg = PowerSettings("number.x", "W", min_w, min_w + span_w, step_w)
    allowed_w = current_a * volts * phases
    power_w = cfg.command_w(current_a, volts, phases)
    assert power_w <= allowed_w + 1e-6
    assert power_w <= cfg.max_power_w + 1e-6
    if power_w > 0:
        steps = (power_w - min_w) / step_w
        assert power_w >= min_w - 1e-6 and abs(steps - round(steps)) < 1e-6
        # Within one step of what was allowed (or at max, or the first step).
        assert power_w > min(allowed_w, cfg.max_power_w) - step_w - 1e-6
    else:
        assert allowed_w < min_w + 1e-6
    limits = EntityLimits(0.0, None, entity_step)
    assert entity_value(power_w, cfg, limits, volts, phases) <= power_w + 1e-6
