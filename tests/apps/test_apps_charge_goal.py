"""The charger's deadline and tariff options, the hub's capacity options, and the goal a
charger app reads from HA each cycle (ready_by forms, SoC, session energy, price sensor)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from lj_support import (
    HUB_ARGS,
    START,
    limit_calls,
    logs,
    published,
    set_charger,
    set_grid,
    set_solar,
)

from load_juggler.config import parse_ocpp
from load_juggler.config.hub_config import HubConfigError, parse_hub
from load_juggler.config.kinds.charge_goal import ChargeGoalSettings
from load_juggler.config.load_config import LoadConfigError
from load_juggler.engine.control_types import LoadReading
from load_juggler.hub import Hub
from load_juggler.loads.charge_goal_reader import GoalReader
from load_juggler.loads.ocpp import OcppCharger

CET = timezone(timedelta(hours=1))


def goal_of(**options: Any) -> ChargeGoalSettings | None:
    return parse_ocpp("car", {"hub": "hub", "charger": "cp1", **options})[1].goal


def problems(**options: Any) -> list[str]:
    with pytest.raises(LoadConfigError) as info:
        parse_ocpp("car", {"hub": "hub", "charger": "cp1", **options})
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------------ the options


def test_no_goal_option_means_no_goal():
    assert goal_of() is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("07:00", time(7, 0)), ("6:30:15", time(6, 30, 15)), (420, time(7, 0))],
)
def test_ready_by_as_a_time_of_day(value, expected):
    # 420: YAML 1.1 reads an unquoted 07:00 as 420 (minutes).
    goal = goal_of(ready_by=value, target_energy_kwh=20)
    assert goal is not None and goal.ready_by == expected and goal.target_energy_kwh == 20.0


def test_ready_by_as_an_input_datetime_with_the_soc_options():
    goal = goal_of(
        ready_by="input_datetime.car_ready",
        soc_sensor="sensor.car_soc",
        battery_kwh=77,
        target_soc=80,
    )
    assert goal == ChargeGoalSettings(
        ready_by="input_datetime.car_ready",
        soc_sensor="sensor.car_soc",
        battery_kwh=77.0,
        target_soc=80.0,
        charge_efficiency=0.9,
    )


def test_price_options_read_with_a_configured_attribute():
    goal = goal_of(price_sensor="sensor.nordpool", price_attribute="raw_today", max_price=-0.01)
    assert goal is not None
    assert (goal.price_sensor, goal.price_attribute, goal.max_price) == (
        "sensor.nordpool",
        ("raw_today",),
        -0.01,
    )
    assert goal_of(price_sensor="sensor.x", price_attribute=["a", "b"]).price_attribute == (
        "a",
        "b",
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"ready_by": "7am", "target_energy_kwh": 20},
            "app 'car': key 'ready_by' = '7am' is invalid: must be a time of day such as "
            '"07:00" or an input_datetime entity',
        ),
        (
            {"ready_by": "07:00"},
            "app 'car': key 'ready_by' = '07:00' is invalid: needs target_energy_kwh or "
            "soc_sensor (what by then)",
        ),
        (
            {"target_energy_kwh": 20},
            "app 'car': key 'target_energy_kwh' = 20 is invalid: needs ready_by (the deadline)",
        ),
        (
            {"ready_by": "07:00", "soc_sensor": "sensor.soc", "target_soc": 80},
            "app 'car': key 'battery_kwh' = None is invalid: required with soc_sensor",
        ),
        (
            {"ready_by": "07:00", "target_energy_kwh": 5, "battery_kwh": 60},
            "app 'car': key 'battery_kwh' = 60 is invalid: only with soc_sensor",
        ),
        (
            {"max_price": 0.1},
            "app 'car': key 'max_price' = 0.1 is invalid: needs price_sensor",
        ),
        (
            {"ready_by": "07:00", "target_energy_kwh": 5, "charge_efficiency": 1.5},
            "app 'car': key 'charge_efficiency' = 1.5 is invalid: must be a number > 0 and <= 1",
        ),
        (
            {"price_sensor": "sensor.x", "price_attribute": []},
            "app 'car': key 'price_attribute' = [] is invalid: must be an attribute name or a "
            "list of them (e.g. [raw_today, raw_tomorrow])",
        ),
    ],
)
def test_bad_goal_options_are_one_line_each(options, message):
    assert message in problems(**options)


def test_target_energy_and_soc_sensor_exclude_each_other():
    found = problems(
        ready_by="07:00",
        target_energy_kwh=20,
        soc_sensor="sensor.soc",
        battery_kwh=60,
        target_soc=80,
    )
    assert (
        "app 'car': key 'target_energy_kwh' = 20 is invalid: give either target_energy_kwh or "
        "soc_sensor (+ battery_kwh, target_soc), not both"
    ) in found


def test_hub_capacity_options():
    args = copy.deepcopy(HUB_ARGS)
    assert parse_hub("hub", args).control.capacity_limit_w is None
    args["capacity_limit_w"] = 2500
    control = parse_hub("hub", args).control
    assert (control.capacity_limit_w, control.capacity_window_s) == (2500.0, 900.0)
    args["capacity_window_s"] = 3600
    assert parse_hub("hub", args).control.capacity_window_s == 3600.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"capacity_window_s": 900},
            "app 'hub': key 'capacity_window_s' = 900 is invalid: needs capacity_limit_w",
        ),
        (
            {"capacity_limit_w": 0},
            "app 'hub': key 'capacity_limit_w' = 0 is invalid: must be a number > 0",
        ),
        (
            {"capacity_limit_w": 2500, "capacity_window_s": 30},
            "app 'hub': key 'capacity_window_s' = 30 is invalid: must be a number >= 60 and "
            "<= 3600",
        ),
    ],
)
def test_bad_hub_capacity_options(options, message):
    with pytest.raises(HubConfigError) as info:
        parse_hub("hub", {**copy.deepcopy(HUB_ARGS), **options})
    assert message in [str(p) for p in info.value.problems]


# ---------------------------------------------------------------------- the goal read from HA


class States:
    """HA states as `GoalReader` reads them: (entity, None) -> state, (entity, "all") -> full."""

    def __init__(self, full: dict[str, dict[str, Any]]) -> None:
        self.full = full

    def __call__(self, entity_id: str, attribute: str | None) -> Any:
        item = self.full.get(entity_id)
        if item is None:
            return None
        return item if attribute == "all" else item["state"]


NOW = datetime(2026, 1, 12, 21, 30, tzinfo=UTC)  # 22:30 at +01:00


def reader(settings: ChargeGoalSettings, full: dict[str, dict[str, Any]]) -> GoalReader:
    warnings: list[str] = []
    goal_reader = GoalReader(settings, States(full), warnings.append)
    goal_reader.warnings = warnings  # type: ignore[attr-defined]
    return goal_reader


def test_a_time_of_day_is_the_next_one_in_local_time():
    goals = reader(ChargeGoalSettings(ready_by=time(7, 0), target_energy_kwh=20.0), {})
    goal = goals.goal(NOW, CET)
    assert goal.ready_by_s == datetime(2026, 1, 13, 7, 0, tzinfo=CET).timestamp()
    assert goal.energy_wh == 20000.0


def test_the_session_energy_counts_down_and_a_new_session_starts_over():
    goals = reader(ChargeGoalSettings(ready_by=time(7, 0), target_energy_kwh=20.0), {})
    drawing = LoadReading(connected=True, draw_a=(10.0, 10.0, 10.0))
    goals.observe(0.0, drawing, 3, 230.0)
    goals.observe(3600.0, drawing, 3, 230.0)  # 30 A x 230 V for 1 h = 6900 Wh
    assert goals.goal(NOW, CET).energy_wh == pytest.approx(20000.0 - 6900.0)
    goals.observe(3700.0, LoadReading(connected=False, draw_a=(0.0, 0.0, 0.0)), 3, 230.0)
    goals.observe(3800.0, LoadReading(connected=True, draw_a=(0.0, 0.0, 0.0)), 3, 230.0)
    assert goals.goal(NOW, CET).energy_wh == 20000.0


def test_the_soc_sensor_gives_the_energy_needed_with_the_efficiency():
    settings = ChargeGoalSettings(
        ready_by="input_datetime.car_ready",
        soc_sensor="sensor.car_soc",
        battery_kwh=60.0,
        target_soc=80.0,
        charge_efficiency=0.9,
    )
    full = {
        "sensor.car_soc": {"state": "35", "attributes": {}},
        "input_datetime.car_ready": {
            "state": "2026-01-13 06:45:00",
            "attributes": {"has_date": True, "has_time": True, "timestamp": 1768283100.0},
        },
    }
    goal = reader(settings, full).goal(NOW, CET)
    # (80 - 35) % of 60 kWh = 27 kWh into the battery, 30 kWh from the grid at 90 %.
    assert goal.energy_wh == pytest.approx(30000.0)
    assert goal.ready_by_s == 1768283100.0


def test_an_input_datetime_with_only_a_time_is_the_next_such_time():
    settings = ChargeGoalSettings(ready_by="input_datetime.t", target_energy_kwh=5.0)
    full = {"input_datetime.t": {"state": "06:15:00", "attributes": {"has_date": False}}}
    goal = reader(settings, full).goal(NOW, CET)
    assert goal.ready_by_s == datetime(2026, 1, 13, 6, 15, tzinfo=CET).timestamp()


def test_an_unreadable_soc_or_deadline_means_no_deadline_and_one_warning():
    settings = ChargeGoalSettings(
        ready_by=time(7, 0), soc_sensor="sensor.soc", battery_kwh=60.0, target_soc=80.0
    )
    goals = reader(settings, {"sensor.soc": {"state": "unavailable", "attributes": {}}})
    assert goals.goal(NOW, CET).energy_wh is None
    goals.goal(NOW, CET)
    assert goals.warnings == [  # type: ignore[attr-defined]
        "soc_sensor 'sensor.soc' = 'unavailable': not a number, no deadline"
    ]
    missing = reader(ChargeGoalSettings(ready_by="input_datetime.x", target_energy_kwh=5.0), {})
    assert missing.goal(NOW, CET).ready_by_s is None


def test_the_price_sensor_is_read_into_the_goal():
    settings = ChargeGoalSettings(price_sensor="sensor.nordpool", max_price=0.1)
    full = {
        "sensor.nordpool": {
            "state": "0.2",
            "attributes": {
                "raw_today": [{"start": "2026-01-12T22:00:00+01:00", "value": 0.2}],
                "raw_tomorrow": [{"start": "2026-01-13T00:00:00+01:00", "value": 0.05}],
            },
        }
    }
    goal = reader(settings, full).goal(NOW, CET)
    assert [(s.start_s, s.price) for s in goal.prices] == [
        (datetime(2026, 1, 12, 22, 0, tzinfo=CET).timestamp(), 0.2),
        (datetime(2026, 1, 13, 0, 0, tzinfo=CET).timestamp(), 0.05),
    ]
    assert goal.max_price == 0.1 and goal.ready_by_s is None


# ------------------------------------------------------------------------- through the apps


def build(ad: Any, given_that: Any, **options: Any) -> tuple[Any, Any]:
    given_that.time_is(START)  # 12:00 UTC (the test framework's clock is UTC)
    set_grid(given_that, 3, 3, 3)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "SuspendedEV", (0.0, 0.0, 0.0))
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", mode="solar_only", **options)
    return hub, cp


def test_a_charger_waits_for_its_planned_start_and_shows_it(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    build(ad, given_that, ready_by="13:00", target_energy_kwh=5)
    time_travel.fast_forward(5).seconds()  # 12:00:05
    # First cycle: the rating, 16 A x 3 x 230 = 11040 W, planned at 90 % = 9936 W. 5 kWh take
    # 1811.6 s, plus 600 s: the latest start is 13:00 - 2411.6 s = 12:19:48.4.
    _state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert attrs["energy_needed_kwh"] == 5.0
    assert attrs["planned_start"].startswith("2026-06-01T12:19:48")
    assert attrs["ready_by"] == "2026-06-01T13:00:00+00:00"
    assert attrs["deadline"] == "deadline: waiting for the planned start"
    assert attrs["mode_reason"] == "mode solar_only as configured"  # no deadline reason yet
    # solar_only without sun before the planned start: the charger is held at 0 A.
    sent = limit_calls(hass_mocks)
    assert sent
    assert all(
        c["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 0
        for c in sent
    )


def test_a_charger_that_cannot_make_it_runs_and_says_by_how_much(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    build(ad, given_that, ready_by="13:00", target_energy_kwh=20)
    time_travel.fast_forward(5).seconds()  # 12:00:05, 3595 s left
    # 20 kWh at 9936 W = 7246.4 s: 3651.4 s late = 60.9 min -> "61 min".
    _state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert attrs["deadline"] == "deadline: will miss by 61 min"
    assert attrs["mode_reason"] == "deadline: will miss by 61 min"
    limit = limit_calls(hass_mocks)[-1]["custom_profile"]["chargingSchedule"]
    assert limit["chargingSchedulePeriod"][0]["limit"] >= 6.0
    # Logged once, when the miss is first predicted (not every cycle).
    time_travel.fast_forward(10).seconds()
    lines = logs(hass_mocks, "deadline: will miss by", level="WARNING")
    assert lines == ["deadline: will miss by 61 min (ready by 2026-06-01T13:00:00+00:00)"]


def test_the_readme_lists_every_deadline_and_price_option():
    from test_apps_config_schema import expected, readme_table

    from load_juggler.config.kinds.charge_goal import GOAL_OPTIONS

    table = readme_table("#### Deadlines and prices (charger options)")
    assert table == expected(GOAL_OPTIONS)
    assert table["charge_efficiency"] == "0.9"


@pytest.mark.parametrize(
    ("evening", "hours"),
    [
        # 22:00 the night the clocks go forward (02:00 -> 03:00): 07:00 is 8 h away, not 9.
        (datetime(2026, 3, 28, 22, 0), 8.0),
        # 22:00 the night they go back (03:00 -> 02:00): 10 h.
        (datetime(2026, 10, 24, 22, 0), 10.0),
    ],
)
def test_ready_by_stays_at_seven_local_across_daylight_saving_changes(evening, hours):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Brussels")
    now = evening.replace(tzinfo=zone)
    goals = reader(ChargeGoalSettings(ready_by=time(7, 0), target_energy_kwh=5.0), {})
    assert goals.goal(now, zone).ready_by_s - now.timestamp() == hours * 3600.0


# ------------------------------------------------------------------- a switched load's price


def price_boiler(ad: Any, given_that: Any, price: float) -> None:
    from load_juggler.loads.switch import SwitchLoad

    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of("switch.boiler").is_set_to("off")
    given_that.state_of("sensor.prices").is_set_to(
        str(price), {"prices": [{"start": "2026-06-01T12:00:00+00:00", "price": price}]}
    )
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        SwitchLoad,
        "boiler",
        hub="lj_hub",
        switch="switch.boiler",
        power_w=2000,
        phase_map=["B"],
        price_sensor="sensor.prices",
        max_price=0.0,
    )


@pytest.mark.parametrize(("price", "switched_on"), [(-0.05, True), (0.0, True), (0.02, False)])
def test_an_excess_boiler_runs_from_the_grid_at_or_below_max_price(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, price: float, switched_on: bool
) -> None:
    # No sun: an excess boiler waits, unless the price (slot 12:00-13:00: one hour, the only
    # item) is at or below max_price 0.
    price_boiler(ad, given_that, price)
    time_travel.fast_forward(10).seconds()
    on_calls = [
        c
        for c in hass_mocks.hass_functions["call_service"].call_args_list
        if c.args and c.args[0] == "switch/turn_on"
    ]
    assert bool(on_calls) is switched_on
    _state, attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")
    expected = f"price {price:g} <= max_price 0" if switched_on else "mode excess as configured"
    assert attrs["mode_reason"] == expected


def test_a_switch_has_the_price_options_but_no_deadline():
    from load_juggler.config.kinds.switch import parse_switch

    args = {"hub": "h", "switch": "switch.boiler", "power_w": 2000}
    assert parse_switch("boiler", args)[1].goal is None
    goal = parse_switch("boiler", {**args, "price_sensor": "sensor.p", "max_price": 0.1})[1].goal
    assert goal == ChargeGoalSettings(price_sensor="sensor.p", max_price=0.1)
    with pytest.raises(LoadConfigError) as info:
        parse_switch("boiler", {**args, "max_price": 0.1, "ready_by": "07:00"})
    found = [str(p) for p in info.value.problems]
    assert "app 'boiler': key 'max_price' = 0.1 is invalid: needs price_sensor" in found
    assert any(
        p.startswith("app 'boiler': key 'ready_by' = '07:00' is invalid: unknown key")
        for p in found
    )
