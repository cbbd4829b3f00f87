"""The phases-in-use thresholds (`engine/phases_in_use.py`: a line is unused below 0.5 A for 3
readings while another line carries >= 4 A; in use again from 0.5 A) checked on simulated
sessions and on the recorded day of `tests/replay/data` (README "Phase intelligence").

Simulated: a car on 1, 2 or 3 lines of a 3-phase charger at 6..16 A, the charger's meter
updating every cycle, every 10 s or every 60 s (held in between, as the hub reads it every 5 s
cycle), noise of 0.2 A on the car's lines and 0..0.2 A on idle ones, and a car tapering to 0
over its last 20 minutes. Recorded: the charger readings of the made-up day, read by the
replay's own reader, and the same recording with the OCPP integration's L1/L2/L3 attributes of
a 1-phase car.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from load_juggler.engine.phases_in_use import LinesInUse
from load_juggler.history.recorded_loads import RecordedLoad
from load_juggler.history.setup import load_site, needed_entities, optional_entities
from load_juggler.history.sources import read_history
from load_juggler.history.states import RecordedStates
from tests.replay.replaying import APPS, DAY_CSV, at

CYCLE_S = 5
CHARGE_S = 2 * 3600
TAPER_S = 20 * 60
RAMP_S = 60
#: A car that switches its second line on after 10 minutes (a phase-switching charge).
LATE_S = 10 * 60


def _true_lines_a(
    t_s: int, car_lines: tuple[int, ...], target_a: float, late_line: int | None
) -> list[float]:
    """The car's real current per line `t_s` after plug-in: ramping up over its first minute
    (every line together), full, then tapering to 0; `late_line` joins after `LATE_S`."""
    if t_s >= CHARGE_S:
        amps = 0.0
    elif t_s > CHARGE_S - TAPER_S:
        amps = target_a * (CHARGE_S - t_s) / TAPER_S
    else:
        amps = target_a * min(1.0, t_s / RAMP_S)
    lines = car_lines if late_line is None or t_s < LATE_S else (*car_lines, late_line)
    return [amps if i in lines else 0.0 for i in range(3)]


def _session(
    seed: int, car_lines: tuple[int, ...], meter_s: int, late_line: int | None = None
) -> tuple[int | None, int, int]:
    """Run one simulated session; returns the seconds until the lines in use were the car's
    lines (None if never), the cycles where a line carrying 0.5 A or more was taken as unused,
    and the cycles after that first find where the lines in use were not the car's."""
    rng = random.Random(seed)
    target_a = rng.uniform(6.0, 16.0)
    # The car starts at a random moment of the meter's period.
    offset_s = rng.randrange(0, max(meter_s, CYCLE_S), CYCLE_S)
    tracker = LinesInUse(3)
    reading: list[float] = [0.0, 0.0, 0.0]
    found_s: int | None = None
    wrong = strayed = 0
    for t_s in range(0, CHARGE_S, CYCLE_S):
        true_a = _true_lines_a(t_s, car_lines, target_a, late_line)
        if meter_s == 0 or (t_s + offset_s) % meter_s == 0:
            reading = [
                max(0.0, a + rng.gauss(0.0, 0.2)) if a > 0 else rng.uniform(0.0, 0.2)
                for a in true_a
            ]
        tracker.observe(reading)
        wrong += any(true_a[i] >= 0.5 for i in tracker.unused)
        if found_s is None and tracker.in_use == car_lines:
            found_s = t_s
        elif found_s is not None and late_line is None:
            strayed += tracker.in_use != car_lines
    return found_s, wrong, strayed


@pytest.mark.parametrize("meter_s", [0, 10, 60])
@pytest.mark.parametrize("car_lines", [(0,), (0, 1), (0, 1, 2), (1, 2)])
def test_simulated_cars_are_found_fast_and_no_drawing_line_is_dropped(
    car_lines: tuple[int, ...], meter_s: int
) -> None:
    """The car's lines reach 4 A 15..40 s into its 60 s ramp (4 A of a 6..16 A target), 4.6 A
    (3 sigma of meter noise above) by 46 s: the meter shows it at once, within 10 s or within
    60 s. From the first reading of 4 A the idle lines need 3 readings (that cycle and the next
    two, 10 s): found from 15 + 10 = 25 s to 50 + 10 = 60 s with a meter read every cycle,
    70 s every 10 s, 120 s every 60 s. A 3-phase car is never narrowed; tapering to 0 takes
    every line below 4 A together, so no line of the car is ever dropped and the lines in use
    never change once found."""
    worst_s = {0: 60, 10: 70, 60: 120}[meter_s]
    for seed in range(20):
        found_s, wrong, strayed = _session(seed, car_lines, meter_s)
        assert wrong == 0, (seed, car_lines, meter_s)
        assert strayed == 0, (seed, car_lines, meter_s)
        if len(car_lines) == 3:
            assert found_s == 0  # all lines in use from the start, and throughout
        else:
            assert found_s is not None and 25 <= found_s <= worst_s, (seed, found_s)


@pytest.mark.parametrize("meter_s", [0, 10, 60])
def test_a_line_the_car_switches_on_later_is_in_use_from_its_first_reading(meter_s: int) -> None:
    """A car on L1 that adds L2 after 10 minutes: L2, unused by then, is in use again from the
    first reading that shows it. Until the charger's meter shows it (up to `meter_s` later:
    at most 1 cycle with a 10 s meter, 11 with a 60 s one, none with a meter read every cycle)
    its current is in the measured grid as house load."""
    for seed in range(10):
        found_s, wrong, _ = _session(seed, (0,), meter_s, late_line=1)
        assert found_s is not None and found_s < LATE_S
        assert wrong <= max(0, meter_s // CYCLE_S - 1), (seed, wrong)


def _recorded_day() -> tuple[RecordedStates, RecordedLoad]:
    site = load_site(APPS)
    wanted = {**needed_entities(site), **optional_entities(site)}
    records = read_history(DAY_CSV, wanted, at("00:00"), at("23:59") + 60)
    item = next(item for item in site.loads if item.load.id == "wallbox")
    return RecordedStates(records), RecordedLoad(item)


def _feed_day(states: RecordedStates, load: RecordedLoad) -> tuple[list[float], int, int]:
    """Every 5 s cycle of the day to a `LinesInUse`, as the hub does (the session forgotten
    when the car is not connected); returns the times the lines in use changed, the cycles a
    line reading 0.5 A or more was unused, and the cycles some line carried 4 A or more."""
    tracker = LinesInUse(3)
    changes: list[float] = []
    wrong = carrying = 0
    start_s = at("00:00")
    for epoch_s in range(int(start_s), int(at("23:59")) + 60, CYCLE_S):
        states.advance(epoch_s)
        seen = load.read(states, 230.0)
        changed = tracker.observe(seen.line_a) if seen.connected else tracker.end_session()
        if changed:
            changes.append(epoch_s - start_s)
        wrong += any(seen.line_a[i] >= 0.5 for i in tracker.unused)
        carrying += max(seen.line_a) >= 4.0
    return changes, wrong, carrying


def test_the_recorded_three_phase_car_keeps_all_its_lines() -> None:
    """The day's car draws 16 A per line from 18:10 to 21:10 (the sum, 48 A, spread over the
    lines as the history has no attributes): 3 h of 720 cycles carrying, no line dropped."""
    states, load = _recorded_day()
    changes, wrong, carrying = _feed_day(states, load)
    assert carrying == 3 * 720
    assert changes == []
    assert wrong == 0


def test_the_recorded_session_as_a_one_phase_car_is_found_in_ten_seconds() -> None:
    """The same recording, the charger publishing L1/L2/L3 attributes as the OCPP integration
    does for a 1-phase car (state = the sum = 16 A on L1): the first reading at 18:10:00 and
    the cycles at :05 and :10 make L2 and L3 unused at 18:10:10; the session ends when the car
    leaves at 21:30 (Available), which forgets it. No reading of L1 (16 A) is ever unused."""
    states, load = _recorded_day()
    entity = "sensor.wallbox_current_import"
    records = [
        replace(
            r,
            state=str(float(r.state) / 3),
            attributes={"L1": float(r.state) / 3, "L2": 0, "L3": 0},
        )
        if r.entity_id == entity
        else r
        for r in states.records
    ]
    changes, wrong, carrying = _feed_day(RecordedStates(records), load)
    assert carrying == 3 * 720
    assert changes == [18 * 3600 + 10 * 60 + 10, 21 * 3600 + 30 * 60]
    assert wrong == 0
