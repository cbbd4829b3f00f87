"""Phase intelligence in the hub: the notification it sends, the `phases_in_use` entity, the
status attributes, and the state file that keeps a learned map across a restart."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from lj_support import HUB_ARGS, START, calls, logs, published, set_charger, set_grid, set_solar

from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger

NOTIFY = "persistent_notification/create"
# No circuit: the 1-phase test charger is limited by the 32 A main breaker only.
ARGS = {**copy.deepcopy(HUB_ARGS), "site": {"phases": 3, "voltage": 230, "main_breaker_a": 32}}


def start(
    ad: Any, given_that: Any, hub_args: dict[str, Any], restart: bool = False, **charger: Any
) -> tuple[Hub, Any]:
    if not restart:
        given_that.time_is(START)
    set_grid(given_that, 5, 5, 5)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    hub = ad(Hub, "lj_hub", **copy.deepcopy(hub_args))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", **charger)
    return hub, cp


def swing_on_c(given_that: Any, time_travel: Any, swings: int) -> None:
    """The 1-phase car swings 0 <-> 20 A each cycle, and the grid shows it on C (house 5 A)."""
    draw = 0.0
    for _ in range(swings + 1):
        set_charger(given_that, "cp1", "Charging", (draw, 0.0, 0.0))
        set_grid(given_that, 5, 5, 5 + draw)
        time_travel.fast_forward(5).seconds()
        draw = 20.0 - draw


def test_a_wrong_phase_map_is_notified_once_with_what_to_change(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    start(ad, given_that, ARGS, phases=1, phase_map=["A"], max_a=32)
    time_travel.fast_forward(5).seconds()  # registered, first cycle
    swing_on_c(given_that, time_travel, 1)
    assert calls(hass_mocks, NOTIFY) == []  # 3 points: not sure yet
    swing_on_c(given_that, time_travel, 6)
    sent = calls(hass_mocks, NOTIFY)
    assert len(sent) == 1  # told once, however long the evidence grows
    assert sent[0]["title"] == "Load Juggler: check the wiring"
    assert sent[0]["notification_id"] == "load_juggler_lj_hub_detected_evse1"
    assert "load 'evse1' seems to draw on site phase C, not A" in sent[0]["message"]
    assert "set phase_map: [C] (or phase_map: auto)" in sent[0]["message"]
    assert logs(hass_mocks, "seems to draw on site phase C", "WARNING")
    _, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert attrs["detected_phase_map"] == {"evse1": ["C"]}


def test_a_learned_map_is_kept_across_a_restart(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj.json"
    args = {**ARGS, "state_file": str(path)}
    start(ad, given_that, args, phases=1, phase_map="auto", max_a=32)
    time_travel.fast_forward(5).seconds()
    swing_on_c(given_that, time_travel, 5)  # five 20 A swings: 15 points, remapped
    sent = calls(hass_mocks, NOTIFY)
    assert sent[-1]["notification_id"] == "load_juggler_lj_hub_remapped_evse1"
    assert "now allocated on C" in sent[-1]["message"]
    saved = json.loads(path.read_text())
    assert saved["phase_maps"] == {"evse1": ["C"]}
    assert saved["phase_scores"]["evse1"]["C"] == 15.0
    # AppDaemon restarts: a new hub reads the file and allocates the car on C at once.
    hub, _ = start(ad, given_that, args, restart=True, phases=1, phase_map="auto", max_a=32)
    assert hub._controller is not None
    assert hub._controller.phase_watch.remapped == {"evse1": "C"}
    assert logs(hass_mocks, "learned phase maps restored: evse1 on C")
    set_grid(given_that, 5, 5, 5)  # house 5 A everywhere, the car not drawing yet
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    time_travel.fast_forward(10).seconds()
    assert hub.last_result is not None and hub.last_result.decision is not None
    allocation = hub.last_result.decision.loads["evse1"]
    # On C (not A, as configured): 32 A breaker - 5 A house = 27 A.
    assert allocation.phases_a == {"C": 27.0}


def test_a_state_file_with_bad_phase_entries_does_not_stop_the_hub(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj.json"
    path.write_text('{"phase_maps": {"evse1": ["X"]}, "phases_in_use": {"evse1": "L9"}}')
    hub, _ = start(ad, given_that, {**ARGS, "state_file": str(path)}, phases=1, max_a=32)
    time_travel.fast_forward(10).seconds()
    assert logs(hass_mocks, "state file: phase_maps.evse1: ['X'] is not one site phase", "WARNING")
    assert logs(hass_mocks, "state file: phases_in_use.evse1: 'L9' is not a list", "WARNING")
    assert hub.last_result is not None and hub.last_result.decision is not None
    assert set(hub.last_result.decision.loads["evse1"].phases_a) == {"A"}


def test_phases_in_use_entity_follows_the_car(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj.json"
    start(ad, given_that, {**ARGS, "state_file": str(path)})  # a 3-phase charger
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_evse1_phases_in_use")[0] == "L1 L2 L3"
    set_grid(given_that, 21, 5, 5)
    set_charger(given_that, "cp1", "Charging", (16.0, 0.0, 0.0))
    time_travel.fast_forward(10).seconds()
    assert published(hass_mocks, "sensor.load_juggler_evse1_phases_in_use")[0] == "L1 L2 L3"
    time_travel.fast_forward(5).seconds()  # the third reading with L2, L3 at 0 A
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_phases_in_use")
    assert (state, attrs["lines"]) == ("L1", 1)
    assert json.loads(path.read_text())["phases_in_use"] == {"evse1": ["L1"]}
    assert logs(hass_mocks, "load 'evse1': the car draws on L1", "INFO")
    # The car leaves: the session is over, all lines are the next car's.
    set_grid(given_that, 5, 5, 5)
    set_charger(given_that, "cp1", "Available", (0.0, 0.0, 0.0))
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_evse1_phases_in_use")[0] == "L1 L2 L3"
    assert "phases_in_use" not in json.loads(path.read_text())


def test_a_failing_notification_is_logged_and_the_cycle_goes_on(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hub, _ = start(ad, given_that, ARGS, phases=1, phase_map=["A"], max_a=32)
    original = hub.call_service

    def failing(service: str, **kwargs: Any) -> Any:
        if service == NOTIFY:
            raise RuntimeError("no such service")
        return original(service, **kwargs)

    hub._phase_news._call_service = failing
    time_travel.fast_forward(5).seconds()
    swing_on_c(given_that, time_travel, 3)
    assert logs(hass_mocks, "could not send the notification (no such service)", "WARNING")
    last = hub.last_result
    swing_on_c(given_that, time_travel, 1)
    assert hub.last_result is not last  # still cycling
