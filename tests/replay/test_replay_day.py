"""The committed made-up day (data/README.md) replayed whole: the figures are worked by hand
from the day's definition, not copied from a run.

The day, 3 phases at 230 V under a 25 A main breaker: house 1 A per phase, +11 A on phase A
from 18:00 to 19:00; a car charges at 16 A per line from 18:10 to 21:10 (Preparing from
18:09); the boiler plug draws 2000 W on phase B from 11:00 to 13:00; the grid meter is
unavailable from 03:00 to 03:02. Solar is 0 after 18:00.
"""

from __future__ import annotations

import pytest

from tests.replay.replaying import DAY_CSV, replay_file

LINE_W = 230.0 * 3  # one amp on each of three lines


@pytest.fixture(scope="module")
def day():
    return replay_file(DAY_CSV, "00:00", "24:00")


def test_the_recorded_day_overloads_phase_a_for_fifty_minutes(day) -> None:
    # 18:10-19:00: house 12 A + car 16 A = 28 A on phase A, no solar: 50 min above 25 A.
    assert day.recorded["overload_s"]["site.A"] == 3000.0
    assert day.recorded["overload_episodes"]["site.A"] == [[18 * 3600 + 600, 3000.0]]
    assert day.recorded["peak_a"]["site.A"] == 28.0
    # Phases B and C carry 1 + 16 = 17 A at worst.
    assert day.recorded["overload_s"]["site.B"] == 0.0
    assert day.recorded["peak_a"]["site.B"] == 17.0


def test_the_replay_keeps_every_phase_under_the_breaker(day) -> None:
    assert day.run.metrics["overload_s"] == {"site.A": 0.0, "site.B": 0.0, "site.C": 0.0}
    assert day.run.metrics["peak_a"]["site.A"] <= 25.0 + 1e-6


def test_recorded_energy_and_starts_per_load(day) -> None:
    # Car: 16 A x 3 lines x 230 V for 3 h; boiler: 2 kW for 2 h.
    assert day.recorded["energy_wh"]["wallbox"] == pytest.approx(16 * LINE_W * 3, abs=0.5)
    assert day.recorded["energy_wh"]["boiler"] == pytest.approx(4000.0, abs=0.5)
    assert day.recorded["start_stops"] == {"wallbox": 1, "boiler": 1}


def test_the_replayed_car_takes_what_the_breaker_leaves(day) -> None:
    """From 18:09 (Preparing asks for current) to 19:00 phase A has 25 - 12 = 13 A for the
    car; from 19:00 to the end of the session at 21:10 it gets its 16 A:
    (13 A x 51 min + 16 A x 130 min) x 690 W/A = 31 544 Wh, less the ramp from 6 A."""
    expected_wh = (13 * 51 + 16 * 130) / 60 * LINE_W
    assert day.run.metrics["energy_wh"]["wallbox"] == pytest.approx(expected_wh, abs=150)
    assert day.run.metrics["start_stops"]["wallbox"] == 1
    at_1830 = next(step for step in day.run.steps if step["t"] == 18.5 * 3600)
    assert at_1830["loads"]["wallbox"] == pytest.approx(13.0, abs=0.1)


def test_the_replayed_boiler_runs_on_export_above_its_power(day) -> None:
    """Excess mode: on while export exceeds 2000 W, i.e. solar > 2000 W + the 690 W house,
    from about 10:15 to 15:45 (solar steps every quarter hour): some 5.5 h at 2 kW."""
    assert day.run.metrics["start_stops"]["boiler"] == 1
    assert 10_000 <= day.run.metrics["energy_wh"]["boiler"] <= 12_000


def test_the_grid_dropout_is_counted_and_held_like_the_hub(day) -> None:
    for entity in ("sensor.grid_current_l1", "sensor.grid_current_l2", "sensor.grid_current_l3"):
        assert day.history[entity]["unavailable_s"] == 120.0
        assert day.history[entity]["unit_changes"] == 0
    # Phase A changes at 00:00, 03:00, 03:02, 07:00, 08:00, then with solar and the car until
    # 19:00 and 21:10: three silences over an hour (00:00-03:00, 03:02-07:00, 19:00-21:10).
    assert day.history["sensor.grid_current_l1"]["silent_periods"] == 3
    stale = [t for t, line in day.run.messages if "no valid value" in line]
    back = [t for t, line in day.run.messages if "is back" in line]
    # Unavailable from 03:00; stale after grid_stale_timeout_s (60 s), back at 03:02.
    assert len(stale) == 1 and 3 * 3600 + 55 <= stale[0] <= 3 * 3600 + 60
    assert back == [3 * 3600 + 120]


def test_solar_energy_and_self_consumption(day) -> None:
    """Solar steps every quarter hour from 08:00 to 17:45 along the triangle: the values sum to
    6000 W x (210 + 190) / 20 = 120 kW over quarter hours, i.e. 30 kWh. The replayed boiler
    runs on what was exported, so less is exported and more is used at home."""
    assert day.solar_wh == pytest.approx(30_000.0, abs=0.5)
    recorded = day.self_consumption(day.recorded["export_wh"])
    replayed = day.self_consumption(day.run.metrics["export_wh"])
    assert recorded is not None and replayed is not None
    assert replayed > recorded + 0.2
