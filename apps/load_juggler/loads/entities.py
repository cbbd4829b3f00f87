"""Publishing our own HA entities without flooding HA.

Entities made with `set_state` live only until HA restarts, so they must be written again from
time to time; but writing ~20 entities every 5 s is REST traffic and recorder churn for nothing.
`EntityPublisher` writes an entity when its state or attributes changed, or when `republish_s`
has passed since it was last written.

AppDaemon 4.5.13 cleans REST bodies by dropping every value equal to None or False, which
includes 0 and 0.0, at any depth (`utils.clean_http_kwargs`). A state of 0 A would reach HA empty
and be refused, and a list of phase currents would lose its zeros and shift. `wire_value` turns
what we publish into values that survive that cleaning.

AppDaemon also merges the attributes it is given into the ones it last saw unless told to
replace them, so an attribute left out (or dropped as None) would keep its old value in HA: a
resumed load would still show `paused`, an emptied `last_sent_a` its last amps. Every write here
carries the entity's whole attribute set, so it replaces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..engine.smoothing import finite_or_none

SetState = Callable[..., Any]


class EntityPublisher:
    """Remembers what was written per entity id; the caller provides `set_state` and the clock."""

    def __init__(self, set_state: SetState, republish_s: float = 60.0) -> None:
        self._set_state = set_state
        self.republish_s = republish_s
        self._last: dict[str, tuple[Any, dict[str, Any], float]] = {}

    def publish(
        self, entity_id: str, state: Any, attributes: Mapping[str, Any], now_s: float
    ) -> bool:
        """Write the entity if it changed or is due again; returns whether it was written."""
        attrs = dict(attributes)
        last = self._last.get(entity_id)
        unchanged = last is not None and last[0] == state and last[1] == attrs
        if unchanged and (self.republish_s <= 0 or now_s - last[2] < self.republish_s):
            return False
        self._set_state(
            entity_id,
            state=wire_state(state),
            attributes=wire_value(attrs),
            replace=True,
            check_existence=False,
        )
        self._last[entity_id] = (state, attrs, now_s)
        return True


def wire_state(state: Any) -> str:
    """HA keeps every state as a string; sending one means 0 A is never mistaken for no state."""
    if isinstance(state, bool):
        return "on" if state else "off"
    return str(state)


def wire_value(value: Any) -> Any:
    """`value` with booleans as "true"/"false" and zeros as "0", at any depth.

    Other numbers stay numbers; only what AppDaemon would drop is turned into text.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and value == 0:
        return "0"
    if isinstance(value, Mapping):
        return {key: wire_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire_value(item) for item in value]
    return value


def sensor_attrs(
    friendly_name: str,
    unit: str | None = None,
    device_class: str | None = None,
    state_class: str | None = "measurement",
    icon: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """HA sensor attributes; None values are left out so HA shows no empty unit."""
    attrs: dict[str, Any] = {"friendly_name": friendly_name}
    if unit is not None:
        attrs["unit_of_measurement"] = unit
    if device_class is not None:
        attrs["device_class"] = device_class
    if state_class is not None:
        attrs["state_class"] = state_class
    if icon is not None:
        attrs["icon"] = icon
    attrs.update(extra)
    return attrs


def to_float(value: Any) -> float | None:
    """An HA state string -> float; None for unavailable/unknown/non-numeric/NaN/inf."""
    return finite_or_none(value)
