"""The hub's `dry_run` on the real stack: the fake charger and the boiler plug are never written
while the loads publish what they would send; saving apps.yaml without it hands over at once."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from .ha_client import HAClient, wait_for
from .lj_apps import (
    CAR_MAX_A,
    CHARGER_DEFAULT_A,
    MAX_A,
    apps_config,
    charger_debug,
    offered,
    set_baseline,
)
from .processes import REPO, AppDaemon, HomeAssistant

pytestmark = pytest.mark.e2e


def fake_charger(client: HAClient) -> dict[str, Any]:
    """The fake charger's diagnostic attributes: service calls counted, profiles installed."""
    return client.state("sensor.fake_ocpp_charger")["attributes"]


def would_send(client: HAClient, load: str) -> list[str]:
    state = client.state(f"sensor.load_juggler_{load}_state") or {}
    return list(state.get("attributes", {}).get("would_send") or [])


def start_watching_apps_yaml(ha: HomeAssistant, apps: dict[str, Any]) -> AppDaemon:
    """AppDaemon with the Load Juggler package, out of production mode so that it reloads
    apps whose apps.yaml entry changed (what a user does to end the dry run)."""
    appdaemon = AppDaemon(ha.config_dir.parent, ha, "ad-dry-run")
    appdaemon.write_config(apps, {"load_juggler": REPO / "apps" / "load_juggler"})
    config_path = appdaemon.dir / "appdaemon.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["appdaemon"]["production_mode"] = False
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    appdaemon.start()
    return appdaemon


@pytest.mark.timeout(150, func_only=True)
def test_dry_run_leaves_the_charger_and_the_plug_alone_until_it_is_switched_off(
    ha: HomeAssistant, ha_client: HAClient
) -> None:
    """House 2 A per phase, no sun, the car plugged in at the charger's own 32 A (it draws its
    16 A), the boiler on by hand. Load Juggler would send the car a profile and switch the
    boiler (Excess, no export) off; in dry run neither happens, for longer than a profile
    refresh. (Its limit is below 16 A: the car does not obey, so the hub counts what it draws
    above its command as house load.)"""
    assert MAX_A <= CAR_MAX_A < CHARGER_DEFAULT_A  # a profile would show in the offer
    ha_client.call("fake_ocpp", "reset")  # no profiles, no calls counted, plugs off
    set_baseline(ha_client)
    ha_client.switch("switch.boiler", True)
    apps = apps_config()
    apps["lj_hub"]["dry_run"] = True
    appdaemon = start_watching_apps_yaml(ha, apps)
    try:
        for load in ("evse", "boiler"):
            appdaemon.wait_log(f"{load}: registered with hub 'lj_hub'", 60)
        wait_for(
            lambda: (
                any("custom_profile=TxProfile" in line for line in would_send(ha_client, "evse"))
                and would_send(ha_client, "boiler") == ["switch/turn_off entity_id=switch.boiler"]
            ),
            20,
            "the loads' would_send: the car's profile, the boiler off",
            describe=lambda: f"{would_send(ha_client, 'evse')} {charger_debug(ha_client)}",
        )
        time.sleep(12)  # past refresh_s (10 s): a refresh is kept back too
        fake = fake_charger(ha_client)
        assert (fake["calls"], fake["profiles"]) == (0, [])
        assert offered(ha_client) == CHARGER_DEFAULT_A
        assert ha_client.value("switch.boiler") == "on"
        status = ha_client.state("sensor.load_juggler_status")
        assert status["attributes"]["dry_run"] == "true"
        appdaemon.wait_log("lj_hub: dry run: deciding and publishing", 1)
        appdaemon.wait_log("boiler: dry run: would call switch/turn_off entity_id=switch.boiler", 1)

        # The user saves apps.yaml without the dry run: AppDaemon reloads the hub (and the loads
        # that depend on it), which take over with their current decision.
        apps["lj_hub"]["dry_run"] = False
        (appdaemon.app_dir / "apps.yaml").write_text(yaml.safe_dump(apps, sort_keys=False))
        wait_for(
            lambda: offered(ha_client) == MAX_A and ha_client.value("switch.boiler") == "off",
            30,
            f"the car limited to {MAX_A:g} A by our profile and the boiler switched off",
            describe=lambda: charger_debug(ha_client),
        )
        assert fake_charger(ha_client)["limit_source"] == "TxProfile"
        assert would_send(ha_client, "evse") == []
        status = ha_client.state("sensor.load_juggler_status")
        assert status["attributes"]["dry_run"] == "false"
        # Checked before the stop: a cycle that runs into AppDaemon's shutdown may log
        # "Connector is closed" (AppDaemon closing its HTTP session), which is not ours.
        assert appdaemon.error_lines() == [], "\n".join(appdaemon.error_lines())
    finally:
        appdaemon.stop()
