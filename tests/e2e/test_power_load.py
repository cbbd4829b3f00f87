"""A PowerLoad on the real stack: a solar diverter whose device is a real Home Assistant
`input_number` (the power in W, min 0, max 3000, step 1) and `input_boolean` (its enable
switch). fake_ocpp's plant adds the number's watts to grid phase L3 while the boolean is on
(`power_loads` in ha_config/configuration.yaml), so the hub sees what it set."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import start_appdaemon
from .ha_client import HAClient, wait_for
from .lj_apps import CAR_MAX_A, HOUSE_A, apps_config, set_baseline, wait_steady
from .processes import REPO, HomeAssistant

pytestmark = pytest.mark.e2e

NUMBER = "input_number.diverter_w"
ENABLE = "input_boolean.diverter_on"
VOLTS = 230.0


def diverter_apps() -> dict[str, Any]:
    apps = apps_config()
    apps["diverter"] = {
        "module": "load_juggler.loads.power",
        "class": "PowerLoad",
        "dependencies": ["lj_hub"],
        "hub": "lj_hub",
        "entity": NUMBER,
        "enable_switch": ENABLE,
        "min_power_w": 300,
        "max_power_w": 3000,
        "step_w": 100,
        "phase_map": ["C"],
        "mode": "excess",
        "priority": 6,
    }
    return apps


def describe(client: HAClient) -> str:
    return (
        f"diverter {client.value(NUMBER)} W, enable {client.value(ENABLE)}, state "
        f"{client.value('sensor.load_juggler_diverter_state')} "
        f"({client.value('sensor.load_juggler_diverter_reason')}), grid "
        f"{[client.value(f'sensor.grid_current_l{n}') for n in (1, 2, 3)]}"
    )


@pytest.mark.timeout(180, func_only=True)
def test_a_diverter_on_an_input_number_follows_the_surplus(
    ha: HomeAssistant, ha_client: HAClient
) -> None:
    assert ha.client is not None
    ha.client.call("fake_ocpp", "reset")
    ha_client.set_number(NUMBER, 0)
    ha_client.switch(ENABLE, False)
    packages = {"load_juggler": REPO / "apps" / "load_juggler"}
    appdaemon = start_appdaemon(ha, "ad-power", diverter_apps(), packages)
    try:
        for load in ("evse", "boiler", "diverter"):
            appdaemon.wait_log(f"{load}: registered with hub 'lj_hub'", 60)
        set_baseline(ha_client)
        ha_client.select("input_select.boiler_mode", "Off")
        wait_steady(ha_client)
        assert ha_client.value(ENABLE) == "off"

        # The car takes 16 A x 3 x 230 V = 11040 W, the house 3 x 2 A x 230 V = 1380 W: with
        # 15000 W of sun 2580 W are exported, 11.217 A on one phase, allocated as 11.2 A =
        # 2576 W, which the diverter rounds down to 300 + 22 x 100 = 2500 W.
        house_w = 3 * HOUSE_A * VOLTS + 3 * CAR_MAX_A * VOLTS
        assert house_w == 12420.0
        ha_client.set_number("input_number.solar_w", 15000)
        wait_for(
            lambda: ha_client.number(NUMBER) == 2500 and ha_client.value(ENABLE) == "on",
            40,
            "the diverter at 2500 W and enabled",
            describe=lambda: describe(ha_client),
        )
        wait_for(
            lambda: ha_client.number("sensor.load_juggler_diverter_allocated_power") == 2500,
            10,
            "the diverter's allocated power published",
            describe=lambda: describe(ha_client),
        )

        def diverter_state() -> tuple[Any, Any]:
            state = ha_client.state("sensor.load_juggler_diverter_state") or {}
            return state.get("state"), state.get("attributes", {}).get("value")

        wait_for(
            lambda: diverter_state() == ("on", 2500.0),
            15,
            "the state entity saying on at 2500 W",
            describe=lambda: f"{diverter_state()}; {describe(ha_client)}",
        )
        # Phase C carries it: 2 A house + 16 A car + 2500 / 230 A - 15000 / 3 / 230 A.
        grid_c = ha_client.number("sensor.grid_current_l3")
        assert grid_c == pytest.approx(2 + 16 + 2500 / VOLTS - 5000 / VOLTS, abs=0.02)

        # Clouds: 12000 W of sun no longer covers the house and the car: held at its minimum
        # through the stop delay (300 W), then switched off with the value left at that.
        ha_client.set_number("input_number.solar_w", 12000)
        wait_for(
            lambda: ha_client.value(ENABLE) == "off",
            30,
            "the diverter switched off",
            describe=lambda: describe(ha_client),
        )
        assert ha_client.number(NUMBER) == 300
        assert appdaemon.error_lines() == [], "\n".join(appdaemon.error_lines())
    finally:
        ha_client.set_number("input_number.solar_w", 0)
        outcome = appdaemon.stop()
    assert outcome.startswith("stopped by SIGINT"), f"AppDaemon {outcome}\n{appdaemon.logs()}"
