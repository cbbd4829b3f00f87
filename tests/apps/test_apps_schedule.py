"""Mode schedules: windows over midnight, DST in spring and autumn (Europe/Brussels), the select
changed by hand after a window began, and the apps.yaml checks of `schedule:`."""

from __future__ import annotations

import copy
import datetime as dt
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from commands_support import run_cycles
from lj_support import HUB_ARGS, fire_state, published, quiet_site_with_charger

from load_juggler.config import MODE_OPTIONS, LoadConfigError, parse_ocpp
from load_juggler.config.schedule import ScheduleWindow
from load_juggler.engine.model import Mode
from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.loads.schedule import active_window

BRUSSELS = ZoneInfo("Europe/Brussels")
ALL_DAYS = frozenset(range(7))
STATE = "sensor.load_juggler_evse1_state"


def window(start: str, end: str, mode: Mode = Mode.CONTINUOUS, days: Any = ALL_DAYS) -> Any:
    return ScheduleWindow(
        days=frozenset(days),
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        mode=mode,
    )


def at(text: str) -> datetime:
    """A UTC instant, `2026-03-29 01:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def in_force(windows: Any, text: str) -> bool:
    return active_window(windows, at(text), BRUSSELS) is not None


# -- when a window is in force


def test_a_window_over_midnight_runs_into_the_next_day_from_the_day_it_begins() -> None:
    # Monday 22:00 to Tuesday 06:00 local (CEST, UTC+2): 20:00 to 04:00 UTC.
    night = [window("22:00", "06:00", days={0})]
    assert not in_force(night, "2026-06-01 19:59")
    assert in_force(night, "2026-06-01 20:00")
    assert in_force(night, "2026-06-02 03:59")
    assert not in_force(night, "2026-06-02 04:00")
    # It begins on Mondays only: not Tuesday night, nor the early Monday morning.
    assert not in_force(night, "2026-06-02 21:00")
    assert not in_force(night, "2026-06-01 02:00")


def test_spring_forward_night_is_one_hour_shorter() -> None:
    # Saturday 28 March 2026 22:00 CET (21:00 UTC) to Sunday 06:00 CEST (04:00 UTC): 7 h.
    night = [window("22:00", "06:00")]
    found = active_window(night, at("2026-03-28 21:00"), BRUSSELS)
    assert found is not None
    assert found.end_s - found.start_s == 7 * 3600
    assert in_force(night, "2026-03-29 03:59")
    assert not in_force(night, "2026-03-29 04:00")


def test_a_time_the_clock_skips_counts_from_the_jump() -> None:
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 never shows.
    early = [window("02:30", "04:00")]
    assert not in_force(early, "2026-03-29 00:59")  # 01:59 CET
    assert in_force(early, "2026-03-29 01:00")  # 03:00 CEST, the jump
    assert in_force(early, "2026-03-29 01:59")
    assert not in_force(early, "2026-03-29 02:00")  # 04:00 CEST


def test_autumn_back_night_is_one_hour_longer() -> None:
    # Saturday 24 October 2026 22:00 CEST (20:00 UTC) to Sunday 06:00 CET (05:00 UTC): 9 h.
    night = [window("22:00", "06:00")]
    found = active_window(night, at("2026-10-24 20:00"), BRUSSELS)
    assert found is not None
    assert found.end_s - found.start_s == 9 * 3600
    assert in_force(night, "2026-10-25 04:59")
    assert not in_force(night, "2026-10-25 05:00")


def test_a_time_the_clock_shows_twice_ends_a_window_once() -> None:
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:30 shows twice.
    early = [window("01:00", "02:30")]
    assert in_force(early, "2026-10-24 23:00")  # 01:00 CEST
    assert in_force(early, "2026-10-25 00:29")  # 02:29 CEST
    assert not in_force(early, "2026-10-25 00:30")  # the first 02:30
    assert not in_force(early, "2026-10-25 01:00")  # 02:00 CET, the second pass
    assert not in_force(early, "2026-10-25 01:30")  # the second 02:30


def test_the_first_listed_window_wins_where_they_overlap() -> None:
    windows = [window("10:00", "12:00", Mode.OFF), window("09:00", "18:00", Mode.EXCESS)]
    found = active_window(windows, at("2026-06-01 09:00"), BRUSSELS)  # 11:00 CEST
    assert found is not None and found.window.mode is Mode.OFF
    found = active_window(windows, at("2026-06-01 12:00"), BRUSSELS)  # 14:00 CEST
    assert found is not None and found.window.mode is Mode.EXCESS


# -- apps.yaml


def schedule_of(schedule: Any) -> Any:
    common, _ = parse_ocpp("car", {"hub": "h", "charger": "cp1", "schedule": schedule})
    return common.schedule


def problems_of(schedule: Any) -> list[str]:
    with pytest.raises(LoadConfigError) as err:
        parse_ocpp("car", {"hub": "h", "charger": "cp1", "schedule": schedule})
    return [str(p) for p in err.value.problems]


def test_a_schedule_is_read_with_days_times_and_modes() -> None:
    # 22:00 unquoted is 1320 in YAML 1.1 (base 60).
    read = schedule_of(
        [
            {"days": ["Mon", "tuesday"], "from": 1320, "to": "06:00", "mode": "Solar Only"},
            {"from": "9:30", "to": "10:00", "mode": False},
        ]
    )
    assert read == (
        window("22:00", "06:00", Mode.SOLAR_ONLY, {0, 1}),
        window("09:30", "10:00", Mode.OFF),
    )
    assert read[0].describe() == "mon,tue 22:00-06:00 solar_only"
    assert read[1].describe() == "every day 09:30-10:00 off"


@pytest.mark.parametrize(
    "schedule, problem",
    [
        ("22:00-06:00", "key 'schedule' = '22:00-06:00' is invalid: must be a list"),
        (["night"], "key 'schedule[0]' = 'night' is invalid: must be a mapping"),
        (
            [{"days": ["mon", "fry"], "from": "22:00", "to": "06:00", "mode": "off"}],
            "key 'schedule[0].days' = ['mon', 'fry'] is invalid: must be a list of days: mon,",
        ),
        (
            [{"from": "24:00", "to": "06:00", "mode": "off"}],
            "key 'schedule[0].from' = '24:00' is invalid: must be a time of day",
        ),
        (
            [{"from": "22:00", "mode": "off"}],
            "key 'schedule[0].to' = None is invalid: required: a time of day",
        ),
        (
            [{"from": "22:00", "to": "22:00", "mode": "off"}],
            "key 'schedule[0].to' = '22:00' is invalid: must differ from 'from' (22:00)",
        ),
        (
            [{"from": "22:00", "to": "06:00", "mode": "fast"}],
            "key 'schedule[0].mode' = 'fast' is invalid: must be one of continuous,",
        ),
        (
            [{"from": "22:00", "to": "06:00"}],
            "key 'schedule[0].mode' = None is invalid: required: one of continuous,",
        ),
        (
            [{"from": "22:00", "to": "06:00", "mode": "off", "day": "mon"}],
            "key 'schedule[0].day' = 'mon' is invalid: unknown key; did you mean 'days'?",
        ),
    ],
)
def test_a_bad_schedule_is_one_line_naming_the_entry(schedule: Any, problem: str) -> None:
    found = problems_of(schedule)
    assert len(found) == 1
    assert found[0].startswith(f"app 'car': {problem}"), found[0]


# -- in the apps


@pytest.fixture
def brussels(hass_mocks: Any) -> None:
    hass_mocks.AD.time_zone = "Europe/Brussels"


def test_the_select_changed_by_hand_after_a_window_began_wins_until_the_next_window(
    ad: Any, brussels: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    # START is Monday 1 June 2026 12:00 UTC, 14:00 in Brussels.
    quiet_site_with_charger(given_that)
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Solar Only", {"options": list(MODE_OPTIONS)}
    )
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        OcppCharger,
        "evse1",
        hub="lj_hub",
        charger="cp1",
        mode_select="input_select.evse1_mode",
        schedule=[
            {"days": ["mon"], "from": "13:00", "to": "14:30", "mode": "off"},
            {"days": ["mon"], "from": "14:30", "to": "15:00", "mode": "solar_priority"},
        ],
    )
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 0.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"]) == ("off", "schedule")
    assert attrs["mode_reason"] == (
        "mode off by schedule window mon 13:00-14:30 off until 2026-06-01T12:30:00+00:00"
    )
    # By hand at 14:00:15 local, after the window began at 13:00: the select wins.
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Continuous", {"options": list(MODE_OPTIONS)}
    )
    fire_state(hass_mocks, "input_select.evse1_mode", "Continuous", "Solar Only")
    # The site is quiet: 25 A main, garage 20 A, house 2 A; continuous takes its 16 A max.
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 16.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"]) == ("continuous", "select")
    assert (
        "changed by hand at 2026-06-01T12:00:15+00:00 after schedule window"
        in (attrs["mode_reason"])
    )
    # 14:30 local: the next window began after the hand change, so it rules.
    time_travel.fast_forward(30 * 60 - 30).seconds()
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 6.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"]) == ("solar_priority", "schedule")
    # 15:00 local: no window; the select's option again.
    time_travel.fast_forward(30 * 60 - 15).seconds()
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 16.0
    assert published(hass_mocks, STATE)[1]["mode_source"] == "select"


@pytest.mark.parametrize(
    "last_half_minute_utc",
    [
        # Spring: Saturday 28 March 22:00 CET to Sunday 06:00 CEST = 04:00 UTC (7 h).
        dt.datetime(2026, 3, 29, 3, 59, 30),
        # Autumn: Saturday 24 October 22:00 CEST to Sunday 06:00 CET = 05:00 UTC (9 h).
        dt.datetime(2026, 10, 25, 4, 59, 30),
    ],
)
def test_a_night_window_ends_at_6_local_after_either_dst_change_in_the_app(
    ad: Any,
    brussels: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
    last_half_minute_utc: dt.datetime,
) -> None:
    quiet_site_with_charger(given_that)
    given_that.time_is(last_half_minute_utc)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        OcppCharger,
        "evse1",
        hub="lj_hub",
        charger="cp1",
        mode="off",
        schedule=[{"days": ["sat"], "from": "22:00", "to": "06:00", "mode": "continuous"}],
    )
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 16.0
    assert published(hass_mocks, STATE)[1]["mode_source"] == "schedule"
    # 06:00 local: the window is over.
    assert run_cycles(given_that, hass_mocks, time_travel, 5) == 0.0
    assert published(hass_mocks, STATE)[1]["mode_source"] == "config"
