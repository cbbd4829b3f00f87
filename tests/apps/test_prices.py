"""The price sensor forms HA price integrations publish, read into price slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from load_juggler.prices import read_prices

CET = timezone(timedelta(hours=1))


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_nord_pool_raw_today_and_raw_tomorrow_with_start_end_value():
    attributes = {
        "raw_today": [
            {
                "start": "2026-01-12T23:00:00+01:00",
                "end": "2026-01-13T00:00:00+01:00",
                "value": 0.21,
            },
        ],
        "raw_tomorrow": [
            {
                "start": "2026-01-13T00:00:00+01:00",
                "end": "2026-01-13T01:00:00+01:00",
                "value": 0.05,
            },
        ],
        "prices": [
            {"start": "2026-01-12T23:00:00+01:00", "price": 99}
        ],  # not read: first form wins
    }
    read = read_prices("sensor.nordpool", attributes)
    assert [(s.start_s, s.end_s, s.price) for s in read.slots] == [
        (ts("2026-01-12T23:00:00+01:00"), ts("2026-01-13T00:00:00+01:00"), 0.21),
        (ts("2026-01-13T00:00:00+01:00"), ts("2026-01-13T01:00:00+01:00"), 0.05),
    ]
    assert read.problems == ()


def test_a_prices_list_of_start_and_price_ends_each_slot_at_the_next_start():
    # Quarter-hour prices without an end: each lasts until the next; the last as long (900 s).
    attributes = {
        "prices": [
            {"start": "2026-01-13T00:15:00", "price": "-0.01"},
            {"start": "2026-01-13T00:00:00", "price": 0.10},
        ]
    }
    read = read_prices("sensor.tariff", attributes, zone=CET)
    first = ts("2026-01-13T00:00:00+01:00")
    assert [(s.start_s - first, s.end_s - first, s.price) for s in read.slots] == [
        (0.0, 900.0, 0.10),
        (900.0, 1800.0, -0.01),
    ]


def test_a_forecast_attribute_with_starts_at_and_total():
    attributes = {"forecast": [{"starts_at": "2026-01-13T02:00:00+00:00", "total": 0.3}]}
    read = read_prices("sensor.tibber", attributes)
    assert [(s.start_s, s.end_s, s.price) for s in read.slots] == [
        (ts("2026-01-13T02:00:00+00:00"), ts("2026-01-13T03:00:00+00:00"), 0.3)
    ]


def test_the_configured_attribute_is_the_one_read():
    attributes = {
        "prices": [{"start": "2026-01-13T00:00:00+00:00", "price": 1.0}],
        "my_list": [{"time": "2026-01-13T05:00:00+00:00", "value": 2.0}],
    }
    read = read_prices("sensor.x", attributes, names=("my_list",))
    assert [s.price for s in read.slots] == [2.0]


def test_bad_items_are_skipped_and_named_and_the_rest_is_read():
    attributes = {
        "prices": [
            {"start": "yesterday", "price": 1.0},
            {"start": "2026-01-13T00:00:00+00:00", "price": "n/a"},
            "0.3",
            {"start": "2026-01-13T01:00:00+00:00", "price": 0.4},
        ]
    }
    read = read_prices("sensor.x", attributes)
    assert [s.price for s in read.slots] == [0.4]
    assert read.problems == (
        "price sensor 'sensor.x' attribute 'prices' item 0: start 'yesterday' is not a date and "
        "time",
        "price sensor 'sensor.x' attribute 'prices' item 1: price 'n/a' is not a number "
        "(keys price, value, total)",
        "price sensor 'sensor.x' attribute 'prices' item 2: '0.3' is not a mapping with a start "
        "and a price",
    )


@pytest.mark.parametrize("attributes", [None, {}, {"prices": "0.3"}])
def test_no_list_reads_no_slots_and_says_where_it_looked(attributes):
    read = read_prices("sensor.x", attributes)
    assert read.slots == ()
    assert read.problems == (
        "price sensor 'sensor.x': no price list in attribute raw_today+raw_tomorrow or prices "
        "or forecast",
    )


def test_yaml_datetimes_are_read_too():
    start = datetime(2026, 1, 13, 3, 0, tzinfo=UTC)
    read = read_prices("sensor.x", {"prices": [{"start": start, "price": 0.2}]})
    assert read.slots[0].start_s == start.timestamp()
