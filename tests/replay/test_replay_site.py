"""Parts of apps.yaml the made-up day's own file does not use: circuits, mode selects, a
battery, a load sensor in a unit that is not a current. Each changes the day's apps.yaml or
history a little and replays the evening (17:30-22:00)."""

from __future__ import annotations

from pathlib import Path

import pytest

from load_juggler.replay import main
from tests.replay.recorder_db import csv_rows, write_db
from tests.replay.replaying import APPS, DAY_CSV, at, replay_file

HUB_END = "    solar_power: sensor.pv_power\n"


def _apps(tmp_path: Path, old: str, new: str) -> Path:
    text = APPS.read_text()
    assert old in text
    out = tmp_path / "apps.yaml"
    out.write_text(text.replace(old, new, 1))
    return out


def test_a_circuit_overload_is_measured_recorded_and_replayed(tmp_path: Path) -> None:
    """The wallbox on a 15 A garage breaker: recorded 16 A from 18:10 to 21:10 is 3 h over it
    on every phase; the replay offers at most 15 A."""
    apps = _apps(
        tmp_path,
        HUB_END,
        HUB_END + "  circuits:\n    garage:\n      limit_a: 15\n      members: [wallbox]\n",
    )
    result = replay_file(DAY_CSV, "17:30", "22:00", apps=apps)
    for phase in "ABC":
        assert result.recorded["overload_s"][f"garage.{phase}"] == 3 * 3600.0
        assert result.recorded["peak_a"][f"garage.{phase}"] == 16.0
        assert result.run.metrics["overload_s"][f"garage.{phase}"] == 0.0
        assert result.run.metrics["peak_a"][f"garage.{phase}"] <= 15.0 + 1e-6


def test_a_recorded_mode_select_is_followed(tmp_path: Path) -> None:
    apps = _apps(
        tmp_path, "  charger: wallbox\n", "  charger: wallbox\n  mode_select: input_select.wb\n"
    )
    rows = [
        *csv_rows(DAY_CSV),
        ("input_select.wb", "Continuous", at("00:00"), {}),
        ("input_select.wb", "Off", at("19:00"), {}),
    ]
    result = replay_file(write_db(tmp_path / "day.db", rows), "17:30", "22:00", apps=apps)
    step = next(s for s in result.run.steps if s["t"] == 2 * 3600)  # 19:30
    assert step["loads"]["wallbox"] == 0.0
    # 18:09 to 19:00 at 13 A at most, then off: (13 A x 51 min) x 690 W/A = 7625 Wh at most.
    assert 6_000 < result.run.metrics["energy_wh"]["wallbox"] <= 7_625


def test_a_battery_needs_its_soc_in_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = _apps(
        tmp_path,
        HUB_END,
        HUB_END
        + "    battery_soc: sensor.battery_soc\n"
        + "  battery:\n    max_charge_w: 3000\n    max_discharge_w: 3000\n",
    )
    args = ["--apps", str(apps), "--history", str(DAY_CSV)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == "error: " + str(DAY_CSV) + ": no history of sensor.battery_soc " + (
        "(sensors.battery_soc)\n"
    )


def test_a_load_meter_in_a_wrong_unit_is_named_once(tmp_path: Path) -> None:
    """A kWh counter given as the charger's current: named once, its draw held (0 A)."""
    rows = [
        (e, s, t, {"unit_of_measurement": "kWh"} if e == "sensor.wallbox_current_import" else a)
        for e, s, t, a in csv_rows(DAY_CSV)
    ]
    result = replay_file(write_db(tmp_path / "day.db", rows), "17:30", "22:00")
    named = [line for _, line in result.run.messages if "sensor.wallbox_current_import" in line]
    assert len(named) == 1 and "'kWh'" in named[0]
    assert result.recorded["energy_wh"]["wallbox"] == 0.0


def test_a_car_that_took_less_than_offered_takes_no_more_in_the_replay(tmp_path: Path) -> None:
    """From 19:30 the recorded car takes only 10 A of the 16 A offered (its battery nearly
    full): the replay offers up to 16 A but the car takes 10 A, as it did."""
    # current_import is the sum of the lines: 48 A for 16 A a line, 30 A for 10 A.
    rows = [
        (e, "30", t + 1, a) if e == "sensor.wallbox_current_import" and s == "48" else (e, s, t, a)
        for e, s, t, a in csv_rows(DAY_CSV)
    ]
    # The 48 A record stays at 18:10; the 30 A one is moved to 19:30.
    car = "sensor.wallbox_current_import"
    rows = [(e, s, at("19:30") if (e, s) == (car, "30") else t, a) for e, s, t, a in rows]
    rows.append(("sensor.wallbox_current_import", "48", at("18:10"), {}))
    result = replay_file(write_db(tmp_path / "day.db", rows), "19:00", "21:00")
    # 19:00-19:30 at 16 A, 19:30-21:00 at 10 A: (16 x 30 + 10 x 90) / 60 x 690 W/A = 15 870 Wh;
    # the replay starts from 6 A and ramps at 0.2 A/s to 16 A (50 s, some 50 Wh less). Taking
    # what it was offered, the car would have drawn 16 A x 2 h x 690 W/A = 22 080 Wh.
    expected_wh = (16 * 30 + 10 * 90) / 60 * 690
    assert result.run.metrics["energy_wh"]["wallbox"] == pytest.approx(expected_wh, abs=100)
    assert result.recorded["energy_wh"]["wallbox"] == pytest.approx(expected_wh, abs=1)


def test_stale_line_attributes_of_a_finished_session_count_nothing(tmp_path: Path) -> None:
    """The OCPP integration keeps the L1/L2/L3 attributes of the last session when its state
    (the sum of the lines) drops to 0. Every current_import record here carries 16 A a line:
    21:00-21:10 the car charges (48 A), from 21:10 the state is 0 and the lines are stale.
    Recorded energy 21:00-21:40: 16 A x 690 W/A x 10 min = 1840 Wh, not 4 x that."""
    stale = {"L1": 16.0, "L2": 16.0, "L3": 16.0}
    car = "sensor.wallbox_current_import"
    rows = [(e, s, t, stale if e == car else a) for e, s, t, a in csv_rows(DAY_CSV)]
    result = replay_file(write_db(tmp_path / "day.db", rows), "21:00", "21:40")
    assert result.recorded["energy_wh"]["wallbox"] == pytest.approx(16 * 690 * 10 / 60, abs=1)
