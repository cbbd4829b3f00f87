"""Live overrides survive an AppDaemon restart: the hub keeps them in its state file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from commands_support import last_limit, run_cycles, send
from lj_support import HUB_ARGS, published, quiet_site_with_charger

from load_juggler.commands import CommandDesk
from load_juggler.engine.model import Mode, Strategy
from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.loads.overrides import LoadOverride
from load_juggler.state_file import StateFile

STATE = "sensor.load_juggler_evse1_state"


def start(ad: Any, path: Path) -> Hub:
    hub = ad(Hub, "lj_hub", **{**copy.deepcopy(HUB_ARGS), "state_file": str(path)})
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    return hub


def test_overrides_and_the_distribution_come_back_after_a_restart(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj_state.json"
    quiet_site_with_charger(given_that)
    start(ad, path)
    run_cycles(given_that, hass_mocks, time_travel, 3)
    send(hass_mocks, command="set_mode", load="evse1", mode="off")
    send(hass_mocks, command="boost", load="evse1", energy_kwh=2, for_s=7200)
    send(hass_mocks, command="set_current_limits", load="evse1", max_a=10)
    send(hass_mocks, command="set_distribution", distribution="strict")
    # 10 A x 3 x 230 V = 6900 W, 9.58 Wh a cycle: 30 cycles deliver 287.5 Wh; the file is
    # written every 100 Wh, so it holds at least 200 Wh.
    assert run_cycles(given_that, hass_mocks, time_travel, 30) == 10.0
    saved = json.loads(path.read_text())["overrides"]
    assert saved["hub"] == {"distribution": "strict"}
    evse1 = saved["loads"]["evse1"]
    assert (evse1["mode"], evse1["max_a"], evse1["boost_energy_wh"]) == ("off", 10.0, 2000.0)
    assert 200.0 <= evse1["boost_delivered_wh"] <= 287.5

    # AppDaemon restarts: both apps are new objects, reading the file again.
    ad.stop("evse1")
    ad.stop("lj_hub")
    hub = start(ad, path)
    assert hub.config is not None and hub.config.site.distribution is Strategy.STRICT
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 10.0
    _, attrs = published(hass_mocks, STATE)
    assert attrs["mode_source"] == "boost"
    assert attrs["override"].startswith("boost (0.2")
    assert attrs["override"].endswith("of 2 kWh), mode off, max 10 A")
    # The boost ends once the rest of its 2 kWh is delivered (about 180 more cycles), then
    # the commanded off rules.
    run_cycles(given_that, hass_mocks, time_travel, 190)
    assert last_limit(hass_mocks) == 0.0
    assert published(hass_mocks, STATE)[1]["mode_source"] == "command"
    left = json.loads(path.read_text())["overrides"]["loads"]["evse1"]
    assert "boost_since_s" not in left and left["mode"] == "off"


def test_an_override_that_ended_while_appdaemon_was_down_is_gone_at_start(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj_state.json"
    quiet_site_with_charger(given_that)
    start(ad, path)
    run_cycles(given_that, hass_mocks, time_travel, 3)
    send(hass_mocks, command="set_mode", load="evse1", mode="off", for_s=60)
    ad.stop("evse1")
    ad.stop("lj_hub")
    time_travel.fast_forward(120).seconds()
    start(ad, path)
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 16.0
    assert published(hass_mocks, STATE)[1]["override"] == "none"
    assert "overrides" not in json.loads(path.read_text())


def test_a_damaged_overrides_section_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "lj_state.json"
    path.write_text(
        json.dumps(
            {
                "overrides": {
                    "loads": {
                        "evse1": {"mode": "turbo"},
                        "evse2": "off",
                        "evse3": {"mode": "off", "mode_since_s": "yesterday"},
                        "evse4": {"max_a": 10.0, "colour": "red"},
                    },
                    "hub": {"distribution": "fair"},
                }
            }
        )
    )
    state = StateFile(path, lambda line, level: None)
    state.load()
    desk = CommandDesk(state)
    assert desk.names() == ["evse4"]
    assert desk.override_of("evse4") == LoadOverride(max_a=10.0)
    assert desk.distribution is None


def test_an_override_reads_back_what_it_wrote() -> None:
    override = LoadOverride(
        mode=Mode.SOLAR_ONLY,
        mode_since_s=100.0,
        mode_until_s=700.0,
        boost_since_s=50.0,
        boost_energy_wh=3000.0,
        boost_delivered_wh=120.0,
        paused_since_s=None,
        min_a=8.0,
    )
    assert LoadOverride.from_json(json.loads(json.dumps(override.to_json()))) == override
