"""What every fake_ocpp entity shares: pushed, never polled, redrawn after each plant update."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity

from .plant import SIGNAL_UPDATE


class FollowsPlant(Entity):
    """Writes its state whenever the plant has recomputed (a reset included)."""

    _attr_should_poll = False

    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_UPDATE, self._plant_updated)
        )

    @callback
    def _plant_updated(self) -> None:
        self.async_write_ha_state()
