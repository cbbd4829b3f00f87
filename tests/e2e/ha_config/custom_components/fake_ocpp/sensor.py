"""Sensors with the entity ids and units the real integrations give them.

Charger sensors follow lbbrhzn/ocpp's names (`sensor.<cpid>_current_import`, with several
connectors `sensor.<cpid>_connector_<n>_current_import`, with
L1/L2/L3 attributes and the sum of the lines as state, as measured on the integration; after
StopTransaction and in SuspendedEVSE the state drops to 0 and the attributes keep the last lines
above 0, stale; the transaction sensor keeps the last id; power in kW); the grid CTs
report signed per-phase current (import positive) and go `unavailable` while the fault
input_boolean is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import UnitOfElectricCurrent, UnitOfElectricPotential, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.util import dt as dt_util

from .entity import FollowsPlant
from .plant import DOMAIN, PHASES, ChargerSim, Plant, PlugSim


class PlantSensor(FollowsPlant, SensorEntity):
    """A sensor whose state and attributes are read from the plant after each update."""

    def __init__(
        self,
        object_id: str,
        read: Callable[[], Any],
        *,
        unit: str | None = None,
        device_class: SensorDeviceClass | None = None,
        attributes: Callable[[], dict[str, Any]] | None = None,
        available: Callable[[], bool] | None = None,
    ) -> None:
        self.entity_id = f"sensor.{object_id}"
        self._attr_name = object_id
        self._read = read
        self._attributes = attributes
        self._available = available
        self._attr_native_unit_of_measurement = unit
        self._attr_device_class = device_class
        if unit is not None:
            self._attr_state_class = SensorStateClass.MEASUREMENT

    @property
    def available(self) -> bool:
        """Only the grid CTs can fail."""
        return self._available() if self._available is not None else True

    @property
    def native_value(self) -> Any:
        """The plant's current value."""
        return self._read()

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Per-phase values for the charger's current sensor, diagnostics for the fake."""
        return self._attributes() if self._attributes is not None else None


def _current_import(charger: ChargerSim) -> float:
    """HA OCPP's state for Current.Import as measured on 0.5.2: the sum of the lines (as the
    last meter values said)."""
    return round(sum(charger.metered_draw_a.values()), 2)


def charger_sensors(charger: ChargerSim, plant: Plant) -> list[PlantSensor]:
    """The connector's OCPP entities plus a diagnostic sensor of the fake itself.

    Measurands (current, power, offered, voltage) follow the last meter values
    (`meter_interval_s`); status and transaction follow at once, as the integration's do.
    """
    cpid, scope = charger.cpid, charger.prefix
    amps = UnitOfElectricCurrent.AMPERE
    debug_id = f"{DOMAIN}_{cpid}" if charger.connectors == 1 else f"{DOMAIN}_{scope[:-1]}"
    sensors = [
        PlantSensor(
            f"{scope}current_import",
            lambda: _current_import(charger),
            unit=amps,
            device_class=SensorDeviceClass.CURRENT,
            attributes=lambda: {**charger.metered_lines_a, "unit": "A"},
        ),
        PlantSensor(
            f"{scope}current_offered",
            lambda: charger.metered_offered_a,
            unit=amps,
            device_class=SensorDeviceClass.CURRENT,
        ),
        PlantSensor(
            f"{scope}power_active_import",
            lambda: round(sum(charger.metered_draw_a.values()) * plant.voltage / 1000, 3),
            unit=UnitOfPower.KILO_WATT,
            device_class=SensorDeviceClass.POWER,
        ),
        PlantSensor(
            f"{scope}power_offered",
            lambda: round(charger.metered_offered_a * 3 * plant.voltage / 1000, 3),
            unit=UnitOfPower.KILO_WATT,
            device_class=SensorDeviceClass.POWER,
        ),
        PlantSensor(
            f"{scope}voltage",
            lambda: plant.voltage,
            unit=UnitOfElectricPotential.VOLT,
            device_class=SensorDeviceClass.VOLTAGE,
        ),
        PlantSensor(f"{scope}status_connector", lambda: charger.status),
        PlantSensor(f"{scope}transaction_id", lambda: charger.transaction_id),
        PlantSensor(
            debug_id,
            lambda: charger.offered_a,
            attributes=lambda: {
                "conn_id": charger.conn_id,
                "meter_interval_s": charger.meter_interval_s,
                "limit_source": charger.limit_source,
                "calls": charger.calls,
                "rejected": charger.rejected,
                "last_call": charger.last_call,
                "last_error": charger.last_error,
                "car_connected": charger.car_connected,
                "car_phases": charger.car_phases,
                "transaction_id": charger.transaction_id,
                "in_transaction": charger.in_transaction,
                "accepts_devid": plant.accepts_devid,
                "ignores_profiles": charger.ignores_profiles,
                "profiles": charger.profiles_summary(dt_util.utcnow()),
            },
        ),
    ]
    if charger.connectors > 1 and charger.conn_id == 1:
        # The charger-wide status the integration keeps flat with several connectors.
        sensors.append(PlantSensor(f"{cpid}_status", lambda: "Available"))
    return sensors


def plug_sensor(plug: PlugSim) -> PlantSensor:
    """The plug's power meter."""
    return PlantSensor(
        f"{plug.name}_power",
        lambda: plug.power_w if plug.is_on else 0.0,
        unit=UnitOfPower.WATT,
        device_class=SensorDeviceClass.POWER,
    )


def grid_sensors(plant: Plant) -> list[PlantSensor]:
    """The grid CTs: current per phase (import positive) and total power."""
    amps = UnitOfElectricCurrent.AMPERE

    def available() -> bool:
        return plant.grid_available

    def phase_reader(phase: str) -> Callable[[], float]:
        return lambda: plant.grid_a[phase]

    sensors = [
        PlantSensor(
            f"grid_current_{phase.lower()}",
            phase_reader(phase),
            unit=amps,
            device_class=SensorDeviceClass.CURRENT,
            available=available,
        )
        for phase in PHASES
    ]
    sensors.append(
        PlantSensor(
            "grid_power",
            lambda: round(sum(plant.grid_a.values()) * plant.voltage, 1),
            unit=UnitOfPower.WATT,
            device_class=SensorDeviceClass.POWER,
            available=available,
        )
    )
    return sensors


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add every plant sensor; only reached through fake_ocpp's discovery."""
    if discovery_info is None:
        return
    plant: Plant = hass.data[DOMAIN]
    entities: list[PlantSensor] = grid_sensors(plant)
    for charger in plant.chargers:
        entities.extend(charger_sensors(charger, plant))
    entities.extend(plug_sensor(plug) for plug in plant.plugs)
    async_add_entities(entities)
    plant.update()
