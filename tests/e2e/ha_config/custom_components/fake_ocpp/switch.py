"""Switch plugs: turning one on adds its load to its phase of the grid CTs at the next update."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from .entity import FollowsPlant
from .plant import DOMAIN, Plant, PlugSim


class PlugSwitch(FollowsPlant, SwitchEntity):
    """`switch.<name>`: the relay of a plug with a fixed load."""

    def __init__(self, plant: Plant, plug: PlugSim) -> None:
        self.entity_id = f"switch.{plug.name}"
        self._attr_name = plug.name
        self._plant = plant
        self._plug = plug

    @property
    def is_on(self) -> bool:
        """The relay position."""
        return self._plug.is_on

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Close the relay; the grid sees the load at once."""
        self._plug.is_on = True
        self._plant.update()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Open the relay."""
        self._plug.is_on = False
        self._plant.update()


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add one switch per configured plug; only reached through fake_ocpp's discovery."""
    if discovery_info is None:
        return
    plant: Plant = hass.data[DOMAIN]
    async_add_entities(PlugSwitch(plant, plug) for plug in plant.plugs)
