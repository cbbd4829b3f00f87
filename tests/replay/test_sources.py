"""The recorder database and the History CSV of the same history give the same replay; what
only the database carries (attributes, units) is read like the hub reads the live entities."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from load_juggler.history.sources import HistoryError, read_history
from tests.replay.recorder_db import csv_rows, write_db
from tests.replay.replaying import DATA, DAY_CSV, at, replay_file

GRID = ("sensor.grid_current_l1", "sensor.grid_current_l2", "sensor.grid_current_l3")


def test_csv_and_recorder_database_replay_alike(tmp_path: Path) -> None:
    db = write_db(tmp_path / "home-assistant_v2.db", csv_rows(DAY_CSV))
    from_csv = replay_file(DAY_CSV, "17:30", "20:00")
    from_db = replay_file(db, "17:30", "20:00")
    assert _decisions(from_db) == _decisions(from_csv)
    assert from_db.recorded == from_csv.recorded
    assert from_db.history == from_csv.history
    # The window holds the car's arrival and the overload it caused (18:10-19:00).
    assert from_db.recorded["overload_s"]["site.A"] == 3000.0


def _decisions(result):
    """Everything a replay reports but the decision times, which are the machine's."""
    report = result.run.as_json()
    report["metrics"] = {k: v for k, v in report["metrics"].items() if not k.startswith("cycle_")}
    return report


def test_a_window_starts_from_each_entity_last_state_before_it() -> None:
    records = read_history(DAY_CSV, {"sensor.wallbox_status_connector"}, at("19:00"), at("22:00"))
    # Preparing (18:09) and Charging (18:10) lie before 19:00: only Charging is kept.
    assert [(r.state, r.t_s) for r in records] == [
        ("Charging", at("18:10")),
        ("Finishing", at("21:10")),
        ("Available", at("21:30")),
    ]


def _with_units(rows, pv_unit: str):
    """The day's rows with units, as a recorder keeps them; pv_power in `pv_unit`."""
    out = []
    for entity, state, t_s, _ in rows:
        attrs = {}
        if entity in GRID or entity == "sensor.wallbox_current_import":
            attrs = {"unit_of_measurement": "A"}
        elif entity == "sensor.pv_power":
            if pv_unit == "kW" and state not in ("unavailable", "unknown"):
                state = f"{float(state) / 1000:g}"
            attrs = {"unit_of_measurement": pv_unit}
        elif entity == "sensor.boiler_plug_power":
            attrs = {"unit_of_measurement": "W"}
        out.append((entity, state, t_s, attrs))
    return out


def test_a_solar_sensor_in_kw_replays_like_one_in_w(tmp_path: Path) -> None:
    rows = csv_rows(DAY_CSV)
    in_w = write_db(tmp_path / "w.db", _with_units(rows, "W"))
    in_kw = write_db(tmp_path / "kw.db", _with_units(rows, "kW"))
    a = replay_file(in_w, "09:00", "12:00")
    b = replay_file(in_kw, "09:00", "12:00")
    assert a.run.metrics["energy_wh"] == b.run.metrics["energy_wh"]
    assert a.run.metrics["export_wh"] == b.run.metrics["export_wh"]
    # The boiler runs on the export, which the solar reading sets: it did run here.
    assert a.run.metrics["energy_wh"]["boiler"] > 0


def test_a_unit_change_is_counted(tmp_path: Path) -> None:
    rows = _with_units(csv_rows(DAY_CSV), "W")
    # From 10:00 on the inverter reports kW (an integration update, say).
    changed = [
        (e, f"{float(s) / 1000:g}", t, {"unit_of_measurement": "kW"})
        if e == "sensor.pv_power" and t >= at("10:00")
        else (e, s, t, a)
        for e, s, t, a in rows
    ]
    result = replay_file(write_db(tmp_path / "day.db", changed), "09:00", "12:00")
    assert result.history["sensor.pv_power"]["unit_changes"] == 1
    same = replay_file(write_db(tmp_path / "w.db", rows), "09:00", "12:00")
    assert result.run.metrics["energy_wh"] == same.run.metrics["energy_wh"]


def test_grid_phases_as_attributes_of_one_entity(tmp_path: Path) -> None:
    """One grid entity whose L1/L2/L3 attributes carry the phases: the database has them."""
    by_time: dict[float, dict[str, str]] = {}
    rows = []
    for entity, state, t_s, _ in csv_rows(DAY_CSV):
        if entity in GRID:
            by_time.setdefault(t_s, {})[entity] = state
        else:
            rows.append((entity, state, t_s, {}))
    now: dict[str, str] = {}
    for t_s, changed in sorted(by_time.items()):
        now.update(changed)  # a phase that did not change keeps its value
        values = [now[e] for e in GRID]
        if "unavailable" in values:
            rows.append(("sensor.grid_current", "unavailable", t_s, {}))
            continue
        state = values[0]
        phase_a = dict(zip(("L1", "L2", "L3"), map(float, values), strict=True))
        rows.append(("sensor.grid_current", state, t_s, phase_a))
    apps = tmp_path / "apps.yaml"
    text = (DATA / "apps.yaml").read_text()
    apps.write_text(
        text.replace(
            "grid_current: [sensor.grid_current_l1, sensor.grid_current_l2, "
            "sensor.grid_current_l3]",
            "grid_current: sensor.grid_current",
        )
    )
    db = write_db(tmp_path / "one.db", rows)
    one = replay_file(db, "17:30", "20:00", apps=apps)
    three = replay_file(DAY_CSV, "17:30", "20:00")
    assert one.recorded["overload_s"] == three.recorded["overload_s"]
    assert one.run.metrics["energy_wh"] == three.run.metrics["energy_wh"]


def test_not_a_history_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.csv"
    bogus.write_text("time,value\n1,2\n")
    with pytest.raises(HistoryError, match=r"lacks column\(s\) entity_id, state, last_changed"):
        read_history(bogus, {"sensor.x"})
    db = tmp_path / "other.db"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    with pytest.raises(HistoryError, match="not a Home Assistant recorder database"):
        read_history(db, {"sensor.x"})
