"""Test-only stand-in for the HA OCPP integration plus the plant that closes the control loop.

It creates the entities lbbrhzn/ocpp creates for a single-connector charger (current import with
L1/L2/L3 attributes, current offered, power active import in kW, status connector), registers
`ocpp.set_charge_rate` and `ocpp.clear_profile` with the integration's voluptuous schemas (extra
keys rejected), and simulates a car that draws what the last valid profile offers. Switch plugs and
the grid CTs (house load + managed loads - solar, per phase) live here too, so Load Juggler running
in AppDaemon sees the consequences of its own decisions. Configured from configuration.yaml.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import homeassistant.helpers.config_validation as cv
import voluptuous as vol
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import discovery
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.service import async_set_service_schema
from homeassistant.helpers.typing import ConfigType

from .plant import DOMAIN, Plant
from .profiles import ProfileError

_LOGGER = logging.getLogger(__name__)

PHASE = vol.In(["L1", "L2", "L3"])

CHARGER_SCHEMA = vol.Schema(
    {
        vol.Required("cpid"): cv.string,
        # Without any profile a charger offers its maximum (None: max_current_a).
        vol.Optional("default_limit_a"): vol.Coerce(float),
        vol.Optional("max_current_a", default=32.0): vol.Coerce(float),
        vol.Optional("car_connected", default=True): cv.boolean,
        vol.Optional("car_phases", default=3): vol.In([1, 2, 3]),
        vol.Optional("car_max_a", default=16.0): vol.Coerce(float),
        vol.Optional("car_min_a", default=6.0): vol.Coerce(float),
        vol.Optional("phase_map", default=["L1", "L2", "L3"]): vol.All(
            cv.ensure_list, [PHASE], vol.Length(min=3, max=3)
        ),
        # More than one: per-connector entities `sensor.<cpid>_connector_<n>_...`, one car each.
        vol.Optional("connectors", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=4)),
        # MeterValues interval (the integration's default: 60 s).
        vol.Optional("meter_interval_s", default=60.0): vol.Coerce(float),
    }
)
PLUG_SCHEMA = vol.Schema(
    {
        vol.Required("name"): cv.slug,
        vol.Required("power_w"): vol.Coerce(float),
        vol.Optional("phase", default="L1"): PHASE,
    }
)
# A variable-power load: it draws the W of a number entity while its enable switch is on.
POWER_LOAD_SCHEMA = vol.Schema(
    {
        vol.Required("number"): cv.entity_id,
        vol.Optional("enable"): cv.entity_id,
        vol.Optional("phase", default="L1"): PHASE,
    }
)
CONFIG_SCHEMA = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Optional("voltage", default=230.0): vol.Coerce(float),
                vol.Optional("tick_s", default=0.5): vol.Coerce(float),
                vol.Required("house_a"): vol.All(
                    cv.ensure_list, [cv.entity_id], vol.Length(min=3, max=3)
                ),
                vol.Required("solar_w"): cv.entity_id,
                vol.Optional("battery_w"): cv.entity_id,
                vol.Optional("grid_fault"): cv.entity_id,
                vol.Optional("chargers", default=[]): [CHARGER_SCHEMA],
                vol.Optional("plugs", default=[]): [PLUG_SCHEMA],
                vol.Optional("power_loads", default=[]): [POWER_LOAD_SCHEMA],
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)

# The same schemas lbbrhzn/ocpp (api.py) registers: unknown keys make HA refuse the call.
CHRGR_SERVICE_DATA_SCHEMA = vol.Schema(
    {
        vol.Optional("devid"): cv.string,
        vol.Optional("limit_amps"): cv.positive_float,
        vol.Optional("limit_watts"): cv.positive_int,
        vol.Optional("conn_id"): cv.positive_int,
        vol.Optional("custom_profile"): vol.Any(cv.string, dict),
    }
)
# Releases before 0.8.0 (0.5.x): no devid, so a call naming it is refused by the schema.
OLD_CHRGR_SERVICE_DATA_SCHEMA = vol.Schema(
    {
        vol.Optional("limit_amps"): cv.positive_float,
        vol.Optional("limit_watts"): cv.positive_int,
        vol.Optional("conn_id"): cv.positive_int,
        vol.Optional("custom_profile"): vol.Any(cv.string, dict),
    }
)
SET_INTEGRATION_SCHEMA = vol.Schema({vol.Required("accepts_devid"): cv.boolean})
CLEAR_SERVICE_DATA_SCHEMA = vol.Schema({vol.Optional("devid"): cv.string})
SET_CAR_SCHEMA = vol.Schema(
    {
        vol.Optional("devid"): cv.string,
        vol.Optional("conn_id"): cv.positive_int,
        vol.Optional("connected"): cv.boolean,
        vol.Optional("phases"): vol.In([1, 2, 3]),
        vol.Optional("max_a"): vol.Coerce(float),
    }
)
SET_CHARGER_SCHEMA = vol.Schema(
    {
        vol.Optional("devid"): cv.string,
        vol.Optional("conn_id"): cv.positive_int,
        vol.Optional("ignores_profiles"): cv.boolean,
        vol.Optional("meter_interval_s"): vol.Coerce(float),
    }
)

SERVICE_DESCRIPTIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("ocpp", "set_charge_rate"): {
        "name": "Set charge rate",
        "description": "Installs a charging profile (limit_amps, limit_watts or custom_profile).",
        "fields": {
            "devid": {"description": "Charger id (first charger when missing or unknown)."},
            "limit_amps": {"description": "Station-wide limit in A (no expiry)."},
            "limit_watts": {"description": "Station-wide limit in W (no expiry)."},
            "conn_id": {"description": "Connector id, 0 = station."},
            "custom_profile": {"description": "OCPP csChargingProfiles object or JSON string."},
        },
    },
    ("ocpp", "clear_profile"): {
        "name": "Clear profile",
        "description": "Removes every charging profile of the charger.",
        "fields": {"devid": {"description": "Charger id."}},
    },
    (DOMAIN, "set_car"): {
        "name": "Set car",
        "description": "Plugs the simulated car (of connector conn_id) in or out, or changes "
        "its phases / max current.",
        "fields": {},
    },
    (DOMAIN, "set_integration"): {
        "name": "Set integration",
        "description": "accepts_devid: false makes set_charge_rate refuse devid (before 0.8.0).",
        "fields": {},
    },
    (DOMAIN, "set_charger"): {
        "name": "Set charger",
        "description": "ignores_profiles: true makes the charger offer its default regardless; "
        "meter_interval_s: how often meter values come.",
        "fields": {},
    },
    (DOMAIN, "reset"): {
        "name": "Reset",
        "description": "Clears profiles and call counters and restores the configured cars.",
        "fields": {},
    },
}


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Build the plant, register the services and load the sensor and switch platforms."""
    conf = config[DOMAIN]
    plant = Plant(hass, conf)
    hass.data[DOMAIN] = plant

    async def set_charge_rate(call: ServiceCall) -> None:
        conn_id = call.data.get("conn_id", 0)
        reached = plant.connectors_of(call.data.get("devid"), conn_id)
        charger = reached[0]
        try:
            if "custom_profile" in call.data:
                raw = call.data["custom_profile"]
                if isinstance(raw, str):
                    raw = json.loads(raw.replace("'", '"'))
                for connector in reached:
                    connector.set_custom_profile(raw, conn_id)
            elif "limit_watts" in call.data:
                charger.set_station_limit(call.data["limit_watts"], "W")
            elif "limit_amps" in call.data:
                charger.set_station_limit(call.data["limit_amps"], "A")
            else:
                raise ProfileError("no limit_amps, limit_watts or custom_profile given")
        except (ProfileError, json.JSONDecodeError) as err:
            charger.note_rejected(dict(call.data), str(err))
            plant.update()
            raise HomeAssistantError(f"charging profile rejected: {err}") from err
        charger.note_call(dict(call.data))
        plant.update()

    async def clear_profile(call: ServiceCall) -> None:
        for connector in plant.connectors_of(call.data.get("devid")):
            connector.clear_profiles()
        plant.update()

    async def set_car(call: ServiceCall) -> None:
        plant.charger_for(call.data.get("devid"), call.data.get("conn_id")).set_car(
            connected=call.data.get("connected"),
            phases=call.data.get("phases"),
            max_a=call.data.get("max_a"),
        )
        plant.update()

    def register_set_charge_rate(accepts_devid: bool) -> None:
        plant.accepts_devid = accepts_devid
        schema = CHRGR_SERVICE_DATA_SCHEMA if accepts_devid else OLD_CHRGR_SERVICE_DATA_SCHEMA
        hass.services.async_register("ocpp", "set_charge_rate", set_charge_rate, schema=schema)

    async def set_integration(call: ServiceCall) -> None:
        register_set_charge_rate(call.data["accepts_devid"])
        plant.update()

    async def set_charger(call: ServiceCall) -> None:
        for connector in plant.connectors_of(call.data.get("devid"), call.data.get("conn_id")):
            if "ignores_profiles" in call.data:
                connector.ignores_profiles = call.data["ignores_profiles"]
            if "meter_interval_s" in call.data:
                connector.meter_interval_s = call.data["meter_interval_s"]
        plant.update()

    async def reset(call: ServiceCall) -> None:
        plant.reset()
        register_set_charge_rate(True)
        plant.update()

    register_set_charge_rate(True)
    hass.services.async_register(
        "ocpp", "clear_profile", clear_profile, schema=CLEAR_SERVICE_DATA_SCHEMA
    )
    hass.services.async_register(DOMAIN, "set_car", set_car, schema=SET_CAR_SCHEMA)
    hass.services.async_register(DOMAIN, "reset", reset, schema=vol.Schema({}))
    hass.services.async_register(DOMAIN, "set_charger", set_charger, schema=SET_CHARGER_SCHEMA)
    hass.services.async_register(
        DOMAIN, "set_integration", set_integration, schema=SET_INTEGRATION_SCHEMA
    )
    for (domain, service), description in SERVICE_DESCRIPTIONS.items():
        async_set_service_schema(hass, domain, service, description)

    for platform in (Platform.SENSOR, Platform.SWITCH):
        hass.async_create_task(discovery.async_load_platform(hass, platform, DOMAIN, {}, config))

    @callback
    def tick(_now: Any) -> None:
        plant.update()

    unsubscribe = async_track_time_interval(
        hass, tick, timedelta(seconds=conf["tick_s"]), name="fake_ocpp plant"
    )

    @callback
    def stop(_event: Event) -> None:
        unsubscribe()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)
    _LOGGER.info(
        "fake_ocpp plant ready: chargers %s, plugs %s",
        [c.cpid for c in plant.chargers],
        [p.name for p in plant.plugs],
    )
    return True
