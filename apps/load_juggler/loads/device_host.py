"""What a load app gives its device (`capabilities.DeviceHost`): HA states and service calls.

States are read through the one unit reader (`units.py`); an entity whose unit cannot be
converted reads as unknown and is logged once per episode (a WARNING when it starts, a line when
the unit is usable again), not every cycle. Service calls never raise: a failed call is retried
by the next cycle anyway, so the log says when a failure starts (a WARNING) and when it ends;
the failures between are DEBUG lines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from .. import units

#: States that say HA does not know the value (lower case, stripped).
UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", "none", ""})


class AppDeviceHost:
    """A load app's AppDaemon calls, as its device may use them."""

    def __init__(self, app: Hass) -> None:
        self._app = app
        self.name: str = app.name
        self._lock = threading.Lock()
        self._unit_errors: set[str] = set()
        self._failing: str | None = None

    def log(self, msg: str, *args: Any, **kwargs: Any) -> Any:
        return self._app.log(msg, *args, **kwargs)

    def exists(self, entity_id: str) -> bool:
        """True when HA has `entity_id`; False also when AppDaemon cannot tell."""
        try:
            return bool(self._app.entity_exists(entity_id))
        except Exception:
            return False

    # -- states, in the units the device needs

    def state(self, entity_id: str, attribute: str | None = None) -> Any:
        """An entity's state (or attribute); None when AppDaemon cannot read it."""
        try:
            return self._app.get_state(entity_id, attribute=attribute)
        except Exception:
            return None

    def full(self, entity_id: str | None) -> dict[str, Any] | None:
        """State and attributes of `entity_id`; None when it is not configured or not readable."""
        if not entity_id:
            return None
        full = self.state(entity_id, attribute="all")
        return full if isinstance(full, dict) else None

    def _convert(self, entity_id: str, convert: Callable[[], float | None]) -> float | None:
        """`convert()`; a refused unit reads as unknown, with one WARNING per episode."""
        try:
            value = convert()
        except units.UnitError as err:
            with self._lock:
                first = entity_id not in self._unit_errors
                self._unit_errors.add(entity_id)
            if first:
                self.log(str(err), level="WARNING")
            return None
        if value is not None:
            with self._lock:
                was = entity_id in self._unit_errors
                self._unit_errors.discard(entity_id)
            if was:
                self.log(f"{entity_id} reports a usable unit again")
        return value

    def power_w(self, entity_id: str | None, default_unit: str) -> float | None:
        """A power entity in W (`default_unit` when it declares none); None when unknown."""
        full = self.full(entity_id)
        if full is None or entity_id is None:
            return None
        return self._convert(
            entity_id,
            lambda: units.power_w(
                full.get("state"),
                units.unit_of(full),
                entity_id=entity_id,
                default_unit=default_unit,
            ),
        )

    def current_from(
        self, entity_id: str, full: dict[str, Any], raw: Any, voltage_v: float
    ) -> float | None:
        """`raw` (the state or a per-phase attribute of `full`) in A, by the entity's unit."""
        return self._convert(
            entity_id,
            lambda: units.current_a(raw, units.unit_of(full), voltage_v, entity_id=entity_id),
        )

    def current_a(self, entity_id: str, voltage_v: float) -> float | None:
        """A current entity's state in A (a power per phase is divided by `voltage_v`)."""
        full = self.full(entity_id)
        if full is None:
            return None
        return self.current_from(entity_id, full, full.get("state"), voltage_v)

    def voltage_v(self, entity_id: str) -> float | None:
        """A voltage entity in V; None when unknown or its unit is not a voltage."""
        full = self.full(entity_id)
        if full is None:
            return None
        return self._convert(
            entity_id,
            lambda: units.voltage_v(full.get("state"), units.unit_of(full), entity_id=entity_id),
        )

    # -- service calls

    def call(self, service: str, **data: Any) -> tuple[bool, str]:
        """Call an HA service; (ok, detail). Never raises: a failed call is retried next cycle."""
        try:
            result = self._app.call_service(service, suppress_log_messages=True, **data)
        except Exception as err:
            return False, f"{type(err).__name__}: {err}"
        if isinstance(result, dict) and result.get("success") is False:
            error = result.get("error") or result.get("ad_status") or result
            return False, f"{service} returned an error: {error}"
        return True, ""

    def call_failed(self, what: str, detail: str) -> None:
        """Log the first failure of an episode; later ones only at DEBUG."""
        with self._lock:
            first = self._failing is None
            self._failing = what
        if first:
            self.log(
                f"{what} failed: {detail}; retrying every cycle (no further log until it works)",
                level="WARNING",
            )
        else:
            self.log(f"{what} still failing: {detail}", level="DEBUG")

    def call_ok(self, what: str) -> None:
        """End a failure episode, if one is running."""
        with self._lock:
            was = self._failing
            self._failing = None
        if was is not None:
            self.log(f"{what} works again")

    @property
    def failing(self) -> bool:
        """True while a failure episode runs (the state entity's `service_ok` is false)."""
        with self._lock:
            return self._failing is not None
