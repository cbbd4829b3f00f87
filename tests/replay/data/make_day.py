"""Writes day.csv, the made-up day of README.md here: `python tests/replay/data/make_day.py`.

Every entity is recorded only when it changes, as Home Assistant's recorder does, in the
History panel's CSV layout (`entity_id,state,last_changed`, UTC).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAY = datetime(2026, 6, 21, tzinfo=UTC)
VOLTAGE_V = 230.0
GRID = ("sensor.grid_current_l1", "sensor.grid_current_l2", "sensor.grid_current_l3")


def house_a(minute: int) -> list[float]:
    """1 A per phase; 07:00-08:00 +3 A on every phase; 18:00-19:00 +11 A on phase A."""
    house = [1.0, 1.0, 1.0]
    if 7 * 60 <= minute < 8 * 60:
        house = [a + 3.0 for a in house]
    if 18 * 60 <= minute < 19 * 60:
        house[0] += 11.0
    return house


def solar_w(minute: int) -> float:
    """A triangle from 08:00 to 18:00 peaking at 6000 W at 13:00, read every quarter hour."""
    quarter = minute - minute % 15
    hours = quarter / 60.0
    if not 8.0 <= hours <= 18.0:
        return 0.0
    return round(6000.0 * (1.0 - abs(hours - 13.0) / 5.0), 1)


def boiler_w(minute: int) -> float:
    """A timer switches the boiler plug on from 11:00 to 13:00."""
    return 2000.0 if 11 * 60 <= minute < 13 * 60 else 0.0


def car(minute: int) -> tuple[str, float]:
    """(status, current per line): plugged in 18:09, charges 16 A 18:10-21:10, unplugged 21:30."""
    if minute < 18 * 60 + 9 or minute >= 21 * 60 + 30:
        return "Available", 0.0
    if minute < 18 * 60 + 10:
        return "Preparing", 0.0
    if minute < 21 * 60 + 10:
        return "Charging", 16.0
    return "Finishing", 0.0


def states(minute: int) -> dict[str, str]:
    status, car_a = car(minute)
    boiler = boiler_w(minute)
    solar_a = solar_w(minute) / (VOLTAGE_V * 3)
    lines = [h + car_a - solar_a for h in house_a(minute)]
    lines[1] += boiler / VOLTAGE_V
    values = {entity: f"{a:.2f}" for entity, a in zip(GRID, lines, strict=True)}
    if 3 * 60 <= minute < 3 * 60 + 2:  # the meter drops out for two minutes at 03:00
        values = dict.fromkeys(GRID, "unavailable")
    values.update(
        {
            "sensor.pv_power": f"{solar_w(minute):g}",
            "switch.boiler_plug": "on" if boiler else "off",
            "sensor.boiler_plug_power": f"{boiler:g}",
            "sensor.wallbox_status_connector": status,
            # The OCPP integration publishes the sum of the lines (3 x 16 = 48 A).
            "sensor.wallbox_current_import": f"{3 * car_a:g}",
            "sensor.wallbox_current_offered": "16",
        }
    )
    return values


def main() -> None:
    last: dict[str, str] = {}
    rows = []
    for minute in range(24 * 60):
        moment = DAY + timedelta(minutes=minute)
        for entity, value in states(minute).items():
            if last.get(entity) != value:
                rows.append((entity, value, moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")))
                last[entity] = value
    out = Path(__file__).with_name("day.csv")
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("entity_id", "state", "last_changed"))
        writer.writerows(sorted(rows, key=lambda row: (row[0], row[2])))


if __name__ == "__main__":
    main()
