"""Climate boost: a climate entity's mode and setpoint in, set_temperature calls out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, published, set_grid, set_solar

from load_juggler.hub import Hub
from load_juggler.loads.climate_boost import STATE_SECTION, ClimateBoostLoad

CLIMATE = "climate.living"
SET = "climate/set_temperature"


def setpoints(hass_mocks: Any) -> list[float]:
    """The temperature of every set_temperature call so far, in order."""
    return [
        c.kwargs["temperature"]
        for c in hass_mocks.hass_functions["call_service"].call_args_list
        if c.args and c.args[0] == SET and c.kwargs.get("entity_id") == CLIMATE
    ]


def set_climate(given_that: Any, mode: str, setpoint: float) -> None:
    given_that.state_of(CLIMATE).is_set_to(
        mode, {"temperature": setpoint, "current_temperature": 20.5}
    )


def sunny(given_that: Any) -> None:
    # 4 kW of sun, 2 A of house per phase: 3.8 A exported per phase = 2622 W >= 1500 W.
    set_solar(given_that, 4000)
    set_grid(given_that, -3.8, -3.8, -3.8)


def cloudy(given_that: Any) -> None:
    set_solar(given_that, 0)
    set_grid(given_that, 2, 2, 2)


@pytest.fixture
def boost(ad: Any, given_that: Any) -> Any:
    def build(mode: str = "heat", setpoint: float = 21.0, **extra: Any) -> tuple[Any, Any]:
        given_that.time_is(START)
        cloudy(given_that)
        set_climate(given_that, mode, setpoint)
        hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
        args = {"hub": "lj_hub", "climate": CLIMATE, "expected_power_w": 1500}
        return hub, ad(ClimateBoostLoad, "living", **{**args, **extra})

    return build


def test_boost_on_surplus_and_restore_when_it_ends(
    boost: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hub, _ = boost()
    time_travel.fast_forward(15).seconds()
    assert setpoints(hass_mocks) == []
    sunny(given_that)
    time_travel.fast_forward(5).seconds()
    assert setpoints(hass_mocks) == [22.5]  # 21 + 1.5
    assert hub.state.get(STATE_SECTION)["living"]["base_c"] == 21.0
    set_climate(given_that, "heat", 22.5)
    time_travel.fast_forward(30).seconds()
    assert setpoints(hass_mocks) == [22.5]  # written once
    attrs = published(hass_mocks, "sensor.load_juggler_living_state")[1]
    assert attrs["boosting"] == "true" and attrs["base_c"] == 21.0
    cloudy(given_that)
    time_travel.fast_forward(5).seconds()
    assert setpoints(hass_mocks) == [22.5, 21.0]
    assert hub.state.get(STATE_SECTION) == {}


def test_cooling_lowers_the_setpoint_within_comfort_min(
    boost: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    boost(mode="cool", setpoint=20.0, comfort_min_c=19.0)
    sunny(given_that)
    time_travel.fast_forward(10).seconds()
    assert setpoints(hass_mocks) == [19.0]  # 20 - 1.5 = 18.5, kept at comfort_min_c


def test_a_setpoint_the_user_changes_while_boosting_is_the_new_base(
    boost: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hub, _ = boost()
    sunny(given_that)
    time_travel.fast_forward(10).seconds()
    set_climate(given_that, "heat", 22.5)
    time_travel.fast_forward(10).seconds()
    set_climate(given_that, "heat", 23.0)  # the user
    time_travel.fast_forward(10).seconds()
    state, attrs = published(hass_mocks, "sensor.load_juggler_living_state")
    assert state == "idle" and "by the user" in attrs["reason"]
    cloudy(given_that)
    time_travel.fast_forward(30).seconds()
    assert setpoints(hass_mocks) == [22.5]  # never written back to 21, never boosted again
    state, attrs = published(hass_mocks, "sensor.load_juggler_living_state")
    assert state == "waiting_for_surplus"
    assert attrs["base_c"] == 23.0 and attrs["boosting"] == "false"
    assert hub.state.get(STATE_SECTION) == {}
    # The surplus has gone, so the next sunny spell boosts from the user's 23 (to 24, the max).
    sunny(given_that)
    time_travel.fast_forward(10).seconds()
    assert setpoints(hass_mocks) == [22.5, 24.0]


def test_max_boost_s_restores_and_rests_while_the_sun_stays(
    boost: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    boost(max_boost_s=600)
    sunny(given_that)
    time_travel.fast_forward(5).seconds()
    assert setpoints(hass_mocks) == [22.5]
    set_climate(given_that, "heat", 22.5)
    time_travel.fast_forward(595).seconds()
    assert setpoints(hass_mocks) == [22.5]
    time_travel.fast_forward(5).seconds()  # 600 s of boost
    assert setpoints(hass_mocks) == [22.5, 21.0]
    set_climate(given_that, "heat", 21.0)
    time_travel.fast_forward(300).seconds()
    assert setpoints(hass_mocks) == [22.5, 21.0]
    assert published(hass_mocks, "sensor.load_juggler_living_state")[0] == "idle"


def test_a_boost_left_in_the_state_file_is_restored_after_a_restart(
    boost: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hub, _ = boost(setpoint=22.5)  # the entity still shows our boost
    hub.state.put(
        STATE_SECTION,
        {
            "living": {
                "base_c": 21.0,
                "boosted_c": 22.5,
                "since_s": START.timestamp() - 60,
                "side": "heat",
            }
        },
    )
    time_travel.fast_forward(10).seconds()  # no sun: the boost ends
    assert setpoints(hass_mocks) == [21.0]
    assert hub.state.get(STATE_SECTION) == {}


def test_hvac_off_is_idle_and_nothing_is_written(
    boost: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    boost(mode="off")
    sunny(given_that)
    time_travel.fast_forward(20).seconds()
    assert setpoints(hass_mocks) == []
    state, attrs = published(hass_mocks, "sensor.load_juggler_living_state")
    assert state == "idle" and "neither heat nor cool" in attrs["reason"]


def test_config_errors_name_the_key(ad: Any, given_that: Any) -> None:
    given_that.time_is(START)
    app = ad(
        ClimateBoostLoad,
        "living",
        hub="lj_hub",
        climate="sensor.x",
        expected_power_w=1500,
        comfort_min_c=24,
        comfort_max_c=22,
    )
    assert app.config_ok is False
    assert any("'climate' = 'sensor.x'" in p for p in app.problems)
    assert any(
        "'comfort_max_c' = 22" in p and "above comfort_min_c (24)" in p for p in app.problems
    )


def test_without_a_hub_the_base_setpoint_comes_back(
    boost: Any, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    boost()
    sunny(given_that)
    time_travel.fast_forward(5).seconds()
    set_climate(given_that, "heat", 22.5)
    ad.stop("lj_hub")
    time_travel.fast_forward(55).seconds()
    assert setpoints(hass_mocks) == [22.5]
    time_travel.fast_forward(5).seconds()  # 60 s without a command
    assert setpoints(hass_mocks) == [22.5, 21.0]
