"""The HA entities every load app publishes: `sensor.load_juggler_<app>_state`, `_reason` and
`_allocated_current`, plus whatever its kind adds (`ExtraEntity`).

Written through `EntityPublisher`: only on a change or when `republish_s` has passed.
"""

from __future__ import annotations

from typing import Any

from ..config import slugify
from ..engine.control_types import Command
from .capabilities import ExtraEntity
from .entities import EntityPublisher, SetState, sensor_attrs


class LoadEntities:
    """Entity ids and publishing of one load app (`name`), through its `set_state`."""

    def __init__(self, name: str, set_state: SetState) -> None:
        self._name = name
        self._publisher = EntityPublisher(set_state)
        self.entity_base = f"load_juggler_{slugify(name)}"

    def entity(self, domain: str, suffix: str) -> str:
        return f"{domain}.{self.entity_base}_{suffix}"

    def set_republish_s(self, republish_s: float) -> None:
        """The hub's republish interval, as the last cycle said."""
        self._publisher.republish_s = republish_s

    def _sensor(self, suffix: str, state: Any, now_s: float, label: str, **attrs: Any) -> None:
        """`sensor.load_juggler_<app>_<suffix>`, named `<app> <label>`."""
        self._publisher.publish(
            self.entity("sensor", suffix),
            state,
            sensor_attrs(f"{self._name} {label}", **attrs),
            now_s,
        )

    def publish_state(self, state: str, reason: str, now_s: float, **extra: Any) -> None:
        """The load's state entity (with `extra` attributes) and its reason entity."""
        self._sensor(
            "state",
            state,
            now_s,
            "state",
            device_class="enum",
            state_class=None,
            icon="mdi:state-machine",
            reason=reason,
            **extra,
        )
        self._sensor(
            "reason", reason[:250], now_s, "limit reason", state_class=None, icon="mdi:information"
        )

    def publish_command(
        self,
        command: Command,
        now_s: float,
        state: str | None,
        phases: int,
        attributes: dict[str, Any],
    ) -> None:
        """What the load was told: its allocated current, and its state with `attributes`."""
        current_a = round(command.current_a, 2) if command.on else 0.0
        self._sensor(
            "allocated_current",
            current_a,
            now_s,
            "allocated current",
            unit="A",
            device_class="current",
            icon="mdi:current-ac",
            on=command.on,
            phases=phases,
        )
        self.publish_state(state or command.state.value, command.reason, now_s, **attributes)

    def publish_extra(self, extra: ExtraEntity, now_s: float) -> None:
        """An entity of the load's kind (`binary_sensor.load_juggler_<app>_allocated`, ...)."""
        self._publisher.publish(
            self.entity(extra.domain, extra.suffix), extra.state, extra.attributes, now_s
        )
