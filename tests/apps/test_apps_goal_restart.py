"""A deadline's delivered energy survives an AppDaemon restart: the hub's state file keeps the
count of the running session (section `charge_goals`), and a new session starts from 0.

Hub: 3-phase 25 A site, 2 A of house per phase; charger `cp1` continuous, 10 kWh by 18:00.
"""

from __future__ import annotations

import copy
import json
from datetime import time
from pathlib import Path
from typing import Any

from commands_support import HOUSE_A, last_limit
from lj_support import HUB_ARGS, START, published, set_charger, set_grid, set_solar

from load_juggler.config.kinds.charge_goal import ChargeGoalSettings
from load_juggler.engine.control_types import LoadReading
from load_juggler.hub import Hub
from load_juggler.loads.charge_goal_reader import GoalReader
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.state_file import StateFile

STATE = "sensor.load_juggler_evse1_state"


def start(ad: Any, path: Path) -> Hub:
    hub = ad(Hub, "lj_hub", **{**copy.deepcopy(HUB_ARGS), "state_file": str(path)})
    ad(
        OcppCharger,
        "evse1",
        hub="lj_hub",
        charger="cp1",
        mode="continuous",
        ready_by="18:00",
        target_energy_kwh=10,
    )
    return hub


def cycles(given_that: Any, hass_mocks: Any, time_travel: Any, n: int, tx: str) -> None:
    """`n` hub cycles of 5 s, the car drawing the last limit in transaction `tx`."""
    for _ in range(n):
        amps = last_limit(hass_mocks) or 0.0
        set_charger(given_that, "cp1", "Charging", (amps, amps, amps), transaction_id=tx)
        total = HOUSE_A + amps
        set_grid(given_that, total, total, total)
        time_travel.fast_forward(5).seconds()


def kept(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["charge_goals"]["evse1"]


def charge_before_restart(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, path: Path
) -> float:
    """30 cycles in transaction 7, then AppDaemon stops; the energy kept in the file."""
    given_that.time_is(START)
    set_grid(given_that, HOUSE_A, HOUSE_A, HOUSE_A)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging", transaction_id="7")
    start(ad, path)
    cycles(given_that, hass_mocks, time_travel, 30, "7")
    saved = kept(path)
    assert saved["session"] == "transaction 7"
    # At most 16 A x 3 x 230 V = 11040 W, 15.3 Wh a cycle: under 460 Wh in 30 cycles; the
    # file is written every 100 Wh, and the ramp from 6 A still leaves more than 200 Wh.
    assert 200.0 <= saved["delivered_wh"] <= 460.0
    ad.stop("evse1")
    ad.stop("lj_hub")
    return float(saved["delivered_wh"])


def test_a_restart_mid_session_keeps_the_delivered_energy(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj_state.json"
    delivered_wh = charge_before_restart(ad, given_that, hass_mocks, time_travel, path)
    start(ad, path)
    cycles(given_that, hass_mocks, time_travel, 1, "7")  # the first cycle counts no draw yet
    _, attrs = published(hass_mocks, STATE)
    assert attrs["energy_needed_kwh"] == round((10000.0 - delivered_wh) / 1000.0, 2)
    assert attrs["energy_needed_kwh"] < 9.8


def test_a_new_session_after_a_restart_starts_from_zero(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj_state.json"
    charge_before_restart(ad, given_that, hass_mocks, time_travel, path)
    start(ad, path)
    cycles(given_that, hass_mocks, time_travel, 1, "8")  # another car came while down
    _, attrs = published(hass_mocks, STATE)
    assert attrs["energy_needed_kwh"] == 10.0
    assert kept(path) == {"session": "transaction 8", "delivered_wh": 0.0}


def test_an_unplugged_car_leaves_nothing_kept(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj_state.json"
    charge_before_restart(ad, given_that, hass_mocks, time_travel, path)
    start(ad, path)
    set_charger(given_that, "cp1", "Available", transaction_id="7")
    time_travel.fast_forward(10).seconds()
    assert "charge_goals" not in json.loads(path.read_text())


# ---------------------------------------------- the reader alone: sessions without an id

GOAL = ChargeGoalSettings(ready_by=time(7, 0), target_energy_kwh=20.0)
DRAWING = LoadReading(connected=True, draw_a=(10.0, 10.0, 10.0))


def counted(store: StateFile, settings: ChargeGoalSettings = GOAL) -> GoalReader:
    """A reader as a charger without a transaction id has it (the session: its connection)."""
    return GoalReader(
        settings, lambda _e, _a: None, lambda _l: None, ("car", lambda: store, lambda: None)
    )


def test_without_an_id_a_connection_kept_across_the_restart_goes_on() -> None:
    store = StateFile(None, lambda _line, _level: None)
    before = counted(store)
    before.observe(0.0, DRAWING, 3, 230.0)
    before.observe(3600.0, DRAWING, 3, 230.0)  # 30 A x 230 V for 1 h = 6900 Wh
    after = counted(store)
    after.observe(4000.0, DRAWING, 3, 230.0)  # still plugged in at start
    assert after.delivered_wh == 6900.0


def test_without_an_id_a_car_unplugged_at_start_begins_a_new_session() -> None:
    store = StateFile(None, lambda _line, _level: None)
    before = counted(store)
    before.observe(0.0, DRAWING, 3, 230.0)
    before.observe(3600.0, DRAWING, 3, 230.0)
    after = counted(store)
    after.observe(4000.0, LoadReading(connected=False, draw_a=(0.0, 0.0, 0.0)), 3, 230.0)
    assert store.get("charge_goals") == {}
    after.observe(4100.0, LoadReading(connected=True, draw_a=(0.0, 0.0, 0.0)), 3, 230.0)
    assert after.delivered_wh == 0.0  # plugged in again: not the session kept before


def test_a_goal_without_target_energy_keeps_nothing() -> None:
    store = StateFile(None, lambda _line, _level: None)
    soc_goal = ChargeGoalSettings(
        ready_by=time(7, 0), soc_sensor="sensor.car_soc", battery_kwh=60.0, target_soc=80.0
    )
    reader = counted(store, soc_goal)
    reader.observe(0.0, DRAWING, 3, 230.0)
    reader.observe(3600.0, DRAWING, 3, 230.0)
    assert store.get("charge_goals") == {}
