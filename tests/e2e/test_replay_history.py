"""Replay of a history the real Home Assistant recorded: the recorder database, the REST API and
a CSV of the same history give the same replay, and the replay shows the overload the recorded
minutes had and Load Juggler would not have had.

No Load Juggler runs here: the fake charger offers its 32 A and the car takes its 16 A, as a
charger without load management would. Phase A's house load goes to 12 A for a while:
12 + 16 = 28 A on a 25 A breaker.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from load_juggler.history.rest import history_url
from load_juggler.replay import main

from .ha_client import HAClient, wait_for
from .processes import HomeAssistant

pytestmark = pytest.mark.e2e

APPS = """
lj_hub:
  module: load_juggler.hub
  class: Hub
  site: {phases: 3, voltage: 230, main_breaker_a: 25}
  sensors:
    grid_current: [sensor.grid_current_l1, sensor.grid_current_l2, sensor.grid_current_l3]
    solar_power: sensor.solar_power
charger:
  module: load_juggler.loads.ocpp
  class: OcppCharger
  hub: lj_hub
  charger: charger
  mode: continuous
  min_a: 6
  max_a: 16
  phases: 3
"""
HOLD_S = 40.0


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat()


def _replay(*args: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(args))
    return status, json.loads(out.getvalue()) if status == 0 else {}


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    """What must agree between sources (decision times are the machine's, not the replay's)."""
    metrics = report["metrics"]
    return {
        "recorded_overload_s": report["recorded"]["overload_s"],
        "replayed_overload_s": metrics["overload_s"],
        "recorded_energy_wh": {k: round(v) for k, v in report["recorded"]["energy_wh"].items()},
        "replayed_energy_wh": {k: round(v) for k, v in metrics["energy_wh"].items()},
    }


def test_a_recorded_history_replays_alike_from_every_source(
    ha: HomeAssistant, ha_client: HAClient, tmp_path: Path
) -> None:
    client = ha_client
    client.call("fake_ocpp", "reset")
    for phase in ("l1", "l2", "l3"):
        client.set_number(f"input_number.house_{phase}_a", 2.0)
    client.set_number("input_number.solar_w", 0)
    wait_for(lambda: (client.number("sensor.grid_current_l2") or 0) > 17.5, 20, "the car at 16 A")
    time.sleep(6)
    start_s = time.time()
    client.set_number("input_number.solar_w", 2070)  # 3 A per phase
    time.sleep(HOLD_S / 2)
    client.set_number("input_number.house_l1_a", 12.0)  # 12 + 16 - 3 = 25 A: at the limit
    client.set_number("input_number.solar_w", 0)  # 28 A: over it
    time.sleep(HOLD_S)
    client.set_number("input_number.house_l1_a", 2.0)
    time.sleep(HOLD_S / 2)
    end_s = time.time()
    time.sleep(3)  # the recorder commits every second

    apps = tmp_path / "apps.yaml"
    apps.write_text(APPS)
    window = ["--apps", str(apps), "--from", _iso(start_s), "--to", _iso(end_s), "--json"]
    db = ha.config_dir / "home-assistant_v2.db"
    status, from_db = _replay(*window, "--history", str(db))
    assert status == 0
    with mock.patch.dict(os.environ, {"HA_TOKEN": ha.token}):
        status, from_rest = _replay(*window, "--ha-url", ha.base_url)
    assert status == 0

    # The History panel's CSV of the same entities, from the same API the panel uses.
    entities = [f"sensor.grid_current_l{i}" for i in (1, 2, 3)]
    entities += ["sensor.solar_power", "sensor.charger_current_import"]
    entities += ["sensor.charger_status_connector", "sensor.charger_current_offered"]
    answer = client.get(history_url("", entities, start_s - 3600, end_s))
    csv_path = tmp_path / "history.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("entity_id", "state", "last_changed"))
        for history in answer:
            for state in history:
                writer.writerow((state["entity_id"], state["state"], state["last_updated"]))
    status, from_csv = _replay(*window, "--history", str(csv_path))
    assert status == 0

    assert _figures(from_rest) == _figures(from_db)
    assert _figures(from_csv) == _figures(from_db)
    recorded_s = from_db["recorded"]["overload_s"]["site.A"]
    # About HOLD_S seconds at 28 A, give or take a cycle at either end and HA's latency.
    assert HOLD_S - 10 <= recorded_s <= HOLD_S + 10, recorded_s
    assert from_db["recorded"]["peak_a"]["site.A"] == pytest.approx(28.0, abs=0.2)
    assert from_db["metrics"]["overload_s"]["site.A"] == 0.0
    assert from_db["metrics"]["peak_a"]["site.A"] <= 25.0 + 1e-6
    # The car's recorded 16 A x 3 x 230 V over the whole window.
    hours = (end_s - start_s) / 3600
    assert from_db["recorded"]["energy_wh"]["charger"] == pytest.approx(16 * 690 * hours, rel=0.1)
