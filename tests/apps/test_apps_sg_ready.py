"""SG Ready heat pump: relay states in, relay switching and published state out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, published, set_grid, set_solar

from load_juggler.hub import Hub
from load_juggler.loads.sg_ready import SgReadyLoad

R1, R2 = "input_boolean.hp_sg1", "input_boolean.hp_sg2"
ON, OFF = "input_boolean/turn_on", "input_boolean/turn_off"


def relay_calls(hass_mocks: Any) -> list[tuple[str, str]]:
    """(service, relay) of every relay call so far, in order."""
    found = []
    for c in hass_mocks.hass_functions["call_service"].call_args_list:
        if c.args and c.args[0] in (ON, OFF):
            found.append((c.args[0], c.kwargs["entity_id"]))
    return found


def set_relays(given_that: Any, relay_1: str, relay_2: str) -> None:
    given_that.state_of(R1).is_set_to(relay_1)
    given_that.state_of(R2).is_set_to(relay_2)


@pytest.fixture
def heat_pump(ad: Any, given_that: Any) -> Any:
    def build(**extra: Any) -> Any:
        given_that.time_is(START)
        set_grid(given_that, 2, 2, 2)
        set_solar(given_that, 0)
        set_relays(given_that, "off", "off")
        ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
        args = {"hub": "lj_hub", "relay_1": R1, "relay_2": R2, "expected_power_w": 3000}
        return ad(SgReadyLoad, "hp", **{**args, **extra})

    return build


def test_recommend_on_with_surplus_held_min_state_s_then_normal(
    heat_pump: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    heat_pump()
    time_travel.fast_forward(15).seconds()
    assert relay_calls(hass_mocks) == []  # Normal (0, 0) already
    assert published(hass_mocks, "sensor.load_juggler_hp_sg_state")[0] == "normal"

    # 5 kW of sun, 2 A of house per phase: 5.25 A exported per phase = 3622.5 W, which covers
    # the 3000 W expected but not 3000 + 2000 (force_export_w): Recommend on = (0, 1).
    set_solar(given_that, 5000)
    set_grid(given_that, -5.25, -5.25, -5.25)
    time_travel.fast_forward(5).seconds()
    assert relay_calls(hass_mocks) == [(ON, R2)]
    set_relays(given_that, "off", "on")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_hp_sg_state")[0] == "recommend_on"
    assert published(hass_mocks, "sensor.load_juggler_hp_state")[1]["relay_2"] == "on"

    # Clouds 5 s after the switch: the controller drops it, the state holds 600 s in all.
    set_solar(given_that, 0)
    set_grid(given_that, 2, 2, 2)
    time_travel.fast_forward(590).seconds()
    assert relay_calls(hass_mocks) == [(ON, R2)]
    # Still drawing, so still reserved: no other load may be given its current meanwhile.
    state, attrs = published(hass_mocks, "sensor.load_juggler_hp_state")
    assert (state, attrs["reason"]) == ("on", "recommend_on held 595/600 s (min_state_s)")
    assert published(hass_mocks, "sensor.load_juggler_hp_allocated_current")[0] == "4.35"
    time_travel.fast_forward(5).seconds()  # 600 s after the switch
    assert relay_calls(hass_mocks) == [(ON, R2), (OFF, R2)]


def test_force_on_switches_relay_2_before_relay_1(
    heat_pump: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    heat_pump(min_state_s=0)
    time_travel.fast_forward(5).seconds()
    # 8 A exported per phase = 5520 W >= 3000 + 2000: Force on = (1, 1); relay_1 first would
    # pass through Block (1, 0).
    set_solar(given_that, 8000)
    set_grid(given_that, -8, -8, -8)
    time_travel.fast_forward(5).seconds()
    assert relay_calls(hass_mocks) == [(ON, R2), (ON, R1)]
    set_relays(given_that, "on", "on")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_hp_sg_state")[0] == "force_on"
    # Surplus gone: back to Normal, relay_1 off first (Force -> Recommend -> Normal, no Block).
    set_solar(given_that, 0)
    set_grid(given_that, 2, 2, 2)
    time_travel.fast_forward(5).seconds()
    assert relay_calls(hass_mocks)[2:] == [(OFF, R1), (OFF, R2)]


@pytest.mark.parametrize(("allow_block", "expected"), [(True, [(ON, R1)]), (False, [])])
def test_block_only_when_allowed_and_the_site_is_at_its_breaker(
    heat_pump: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
    allow_block: bool,
    expected: list[tuple[str, str]],
) -> None:
    heat_pump(allow_block=allow_block, min_state_s=0)
    time_travel.fast_forward(5).seconds()
    set_grid(given_that, 10, 10, 10)  # 15 A left: not at the breaker
    time_travel.fast_forward(10).seconds()
    assert relay_calls(hass_mocks) == []
    set_grid(given_that, 24.8, 20, 20)  # phase A within 0.5 A of the 25 A breaker
    time_travel.fast_forward(5).seconds()
    assert relay_calls(hass_mocks) == expected


def test_unknown_relays_switch_nothing_and_count_unavailable(
    heat_pump: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    heat_pump(min_state_s=0)
    given_that.state_of(R2).is_set_to("unavailable")
    set_solar(given_that, 8000)
    set_grid(given_that, -8, -8, -8)
    time_travel.fast_forward(10).seconds()
    assert relay_calls(hass_mocks) == []
    assert published(hass_mocks, "sensor.load_juggler_hp_state")[0] == "unavailable"
    assert published(hass_mocks, "sensor.load_juggler_hp_sg_state")[0] == "unavailable"
    # Known again: the relays say Normal, and the surplus asks for Force on.
    given_that.state_of(R2).is_set_to("off")
    time_travel.fast_forward(5).seconds()
    assert relay_calls(hass_mocks) == [(ON, R2), (ON, R1)]


def test_config_errors_name_the_key(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    app = ad(SgReadyLoad, "hp", hub="lj_hub", relay_1=R1, relay_2=R1, expected_power_w=0)
    assert app.config_ok is False
    assert any("'expected_power_w' = 0" in p for p in app.problems)
    assert any("'relay_2'" in p and "another entity than relay_1" in p for p in app.problems)


def test_without_a_hub_the_heat_pump_goes_back_to_normal(
    heat_pump: Any, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    heat_pump(min_state_s=0)
    set_solar(given_that, 5000)
    set_grid(given_that, -5.25, -5.25, -5.25)
    time_travel.fast_forward(5).seconds()
    assert relay_calls(hass_mocks) == [(ON, R2)]
    set_relays(given_that, "off", "on")
    ad.stop("lj_hub")
    time_travel.fast_forward(55).seconds()
    assert relay_calls(hass_mocks) == [(ON, R2)]
    time_travel.fast_forward(5).seconds()  # 60 s without a command: left alone, Normal
    assert relay_calls(hass_mocks) == [(ON, R2), (OFF, R2)]
    assert published(hass_mocks, "sensor.load_juggler_hp_state")[0] == "no_hub"
