"""Deadline plans, cheapest slots, the effective mode and the power a load can really get.

Numbers: the plan counts on 90 % of the deliverable power and starts 600 s early, so 10 kW
deliverable plans 9 kW, and 9 kWh take 3600 s of running plus the 600 s margin.
"""

from __future__ import annotations

import math

import pytest

from load_juggler.engine.allocate import allocate
from load_juggler.engine.deadline import (
    DeadlinePlan,
    PriceSlot,
    cheapest_slots,
    deliverable_power_w,
    effective_mode,
    plan_deadline,
    price_at,
)
from load_juggler.engine.model import Mode, Snapshot

from .builders import evse, site

HOUR = 3600.0


def hourly(*prices: float) -> tuple[PriceSlot, ...]:
    return tuple(PriceSlot(i * HOUR, (i + 1) * HOUR, p) for i, p in enumerate(prices))


def test_without_prices_the_load_waits_until_its_latest_start():
    # 9 kWh at 9 kW = 3600 s; latest start = 36000 - 3600 - 600 = 31800.
    before = plan_deadline(31000.0, 36000.0, 9000.0, 10000.0)
    assert before.latest_start_s == pytest.approx(31800.0)
    assert (before.run_now, before.planned_start_s, before.miss_s) == (False, 31800.0, 0.0)
    assert before.reason == "deadline: waiting for the planned start"
    at = plan_deadline(31800.0, 36000.0, 9000.0, 10000.0)
    assert at.run_now and at.urgent and at.miss_s == 0.0
    assert at.reason == "deadline: 9.0 kWh still needed"


def test_an_impossible_target_runs_now_and_says_by_how_much_it_misses():
    # 20 kWh at 9 kW = 8000 s, only 3600 s left: 4400 s late = 73.3 min -> "74 min".
    plan = plan_deadline(0.0, 3600.0, 20000.0, 10000.0)
    assert plan.run_now and plan.miss_s == pytest.approx(4400.0)
    assert plan.reason == "deadline: will miss by 74 min"
    none = plan_deadline(0.0, 3600.0, 20000.0, 0.0)
    assert none.run_now and math.isinf(none.miss_s)
    assert none.reason == "deadline: will miss it, no power available now"


def test_with_prices_the_cheapest_hour_is_used_instead_of_the_latest_start():
    # 4.5 kWh at 9 kW = 1800 s + 600 s margin = 2400 s, all inside hour 1 (price 10).
    prices = hourly(30.0, 10.0, 20.0, 40.0)
    plan = plan_deadline(0.0, 4 * HOUR, 4500.0, 10000.0, prices)
    assert (plan.run_now, plan.planned_start_s) == (False, HOUR)
    assert plan_deadline(4000.0, 4 * HOUR, 4500.0, 10000.0, prices).run_now


def test_a_longer_need_takes_the_next_cheapest_hour_from_its_start():
    # 13.5 kWh at 9 kW = 5400 s + 600 = 6000 s: hour 1 (3600 s) + 2400 s of hour 2 (20).
    prices = hourly(30.0, 10.0, 20.0, 40.0)
    plan = plan_deadline(0.0, 4 * HOUR, 13500.0, 10000.0, prices)
    assert plan.planned_start_s == HOUR and not plan.run_now
    segments = [(0.0, HOUR, 30.0), (HOUR, 2 * HOUR, 10.0), (2 * HOUR, 3 * HOUR, 20.0)]
    assert cheapest_slots(segments, 6000.0) == [(HOUR, 2 * HOUR), (2 * HOUR, 2 * HOUR + 2400.0)]
    # Inside the used part of hour 2 it runs; after it (energy still planned) it waits.
    assert plan_deadline(2 * HOUR + 100.0, 4 * HOUR, 6000.0, 10000.0, prices).run_now


def test_time_the_series_does_not_cover_is_used_last():
    # Prices only for the first hour (50): the uncovered hours after it count as dearest.
    plan = plan_deadline(0.0, 3 * HOUR, 4500.0, 10000.0, hourly(50.0))
    assert plan.run_now and plan.planned_start_s == 0.0


def test_price_at_finds_the_slot_in_force():
    prices = hourly(30.0, -2.5)
    assert (price_at(prices, 0.0), price_at(prices, HOUR), price_at(prices, 2 * HOUR)) == (
        30.0,
        -2.5,
        None,
    )


def plan(run_now: bool) -> DeadlinePlan:
    return DeadlinePlan(7 * HOUR, 5000.0, 9000.0, 6 * HOUR, 6 * HOUR, run_now, 0.0)


@pytest.mark.parametrize(
    ("mode", "deadline", "price", "max_price", "expected"),
    [
        (Mode.SOLAR_ONLY, plan(True), None, None, Mode.CONTINUOUS),
        (Mode.SOLAR_ONLY, plan(False), None, None, Mode.SOLAR_ONLY),
        (Mode.OFF, plan(True), 0.0, 1.0, Mode.OFF),
        (Mode.SOLAR_PRIORITY, None, 0.10, 0.10, Mode.CONTINUOUS),
        (Mode.EXCESS, None, -0.02, 0.0, Mode.CONTINUOUS),
        (Mode.EXCESS, None, 0.11, 0.10, Mode.EXCESS),
        (Mode.SOLAR_ONLY, None, -1.0, 0.10, Mode.SOLAR_ONLY),
        (Mode.SOLAR_PRIORITY, None, None, 0.10, Mode.SOLAR_PRIORITY),
    ],
)
def test_effective_mode(mode, deadline, price, max_price, expected):
    got, why = effective_mode(mode, deadline, price, max_price)
    assert got is expected
    assert (why is None) == (got is mode)


def test_effective_mode_names_the_price_rule():
    assert effective_mode(Mode.EXCESS, None, -0.02, 0.0)[1] == "price -0.02 <= max_price 0"


def test_deliverable_power_counts_the_breaker_and_the_other_loads_minimums():
    # 25 A breaker, 10 A house per phase: 15 A left, the car (max 16) gets 15 A = 10350 W.
    car = evse("car", mode=Mode.SOLAR_ONLY, max_a=16.0)
    alone = Snapshot(site=site(), loads=(car,), grid_a=(10.0, 10.0, 10.0))
    assert deliverable_power_w(alone, car, allocate, 230.0) == pytest.approx(10350.0)
    # A solar_priority heat pump keeps its 6 A minimum: 25 - 10 - 6 = 9 A = 6210 W.
    other = evse("pump", mode=Mode.SOLAR_PRIORITY, min_a=6.0)
    shared = Snapshot(site=site(), loads=(car, other), grid_a=(10.0, 10.0, 10.0))
    assert deliverable_power_w(shared, car, allocate, 230.0) == pytest.approx(6210.0)
    # A full breaker leaves nothing.
    full = Snapshot(site=site(), loads=(car,), grid_a=(22.0, 22.0, 22.0))
    assert deliverable_power_w(full, car, allocate, 230.0) == 0.0
