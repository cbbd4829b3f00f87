"""What a load app gives its device (`capabilities.DeviceHost`): HA states and service calls.

States are read through the one unit reader (`units.py`); an entity whose unit cannot be
converted reads as unknown and is logged once per episode (a WARNING when it starts, a line when
the unit is usable again), not every cycle. Service calls never raise: a failed call is retried
by the next cycle anyway, so the log says when a failure starts (a WARNING) and when it ends;
the failures between are DEBUG lines.

In a dry run (the hub's `dry_run: true`) `call` sends nothing: it answers as if the call had
worked, so the device goes on deciding as usual, and keeps what it would have sent per target
(an entity, a charger connector's profile) for the state entity's `would_send`, logged at INFO
when it changes. Reading states is the same in both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from .. import units

#: States that say HA does not know the value (lower case, stripped).
UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", "none", ""})

#: The detail `call` returns with ok in a dry run: nothing reached the device.
DRY_RUN_DETAIL = "dry run: not sent"


def describe_call(service: str, data: dict[str, Any]) -> str:
    """One line for a service call: `switch/turn_on entity_id=switch.boiler`, a charging
    profile as `TxProfile 16 A for 120 s (id 1000, stack 8, tx 7)`.

    Compact and free of timestamps (an absolute profile's start and end change at every
    refresh), so the same decision gives the same line.
    """
    parts = [service]
    for key, value in data.items():
        text = _describe_profile(value) if isinstance(value, dict) else None
        parts.append(f"{key}={text if text is not None else value}")
    return " ".join(parts)


def _describe_profile(value: dict[str, Any]) -> str | None:
    """An OCPP charging profile as one phrase; None when `value` is no charging profile."""
    schedule = value.get("chargingSchedule")
    if not isinstance(schedule, dict):
        return None
    periods = schedule.get("chargingSchedulePeriod") or [{}]
    limit = periods[0].get("limit")
    amount = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
    words = [
        str(value.get("chargingProfilePurpose")),
        amount,
        str(schedule.get("chargingRateUnit")),
    ]
    if "duration" in schedule:
        words.append(f"for {schedule['duration']} s")
    ids = [f"id {value.get('chargingProfileId')}", f"stack {value.get('stackLevel')}"]
    if value.get("transactionId") is not None:
        ids.append(f"tx {value['transactionId']}")
    return f"{' '.join(words)} ({', '.join(ids)})"


def call_target(data: dict[str, Any]) -> str:
    """What a call acts on: its plain data (`entity_id`, `devid` + `conn_id`) and the id of a
    profile it carries. Calls to one target replace each other in `would_send` (turn_on by
    turn_off); the fail-safe and the expiring profile of one connector are two targets."""
    parts = [f"{k}={v}" for k, v in data.items() if not isinstance(v, dict | list)]
    for value in data.values():
        if isinstance(value, dict) and "chargingProfileId" in value:
            parts.append(f"profile={value['chargingProfileId']}")
    return " ".join(parts)


class AppDeviceHost:
    """A load app's AppDaemon calls, as its device may use them."""

    def __init__(self, app: Hass) -> None:
        self._app = app
        self.name: str = app.name
        self._lock = threading.Lock()
        self._unit_errors: set[str] = set()
        self._failing: str | None = None
        self._dry_run = False
        self._would_send: dict[str, str] = {}  # call_target -> describe_call, dry run only

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
        """Call an HA service; (ok, detail). Never raises: a failed call is retried next cycle.

        In a dry run nothing is called: (True, DRY_RUN_DETAIL), and the call is kept for
        `would_send` (an INFO line when it differs from the last one to its target).
        """
        if self.dry_run:
            self._would(service, data)
            return True, DRY_RUN_DETAIL
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

    # -- dry run

    @property
    def dry_run(self) -> bool:
        """True while service calls are only recorded, not made."""
        with self._lock:
            return self._dry_run

    def set_dry_run(self, on: bool) -> bool:
        """Start or end the dry run; True when that changed something. Either way what would
        have been sent, and a failure episode, are forgotten: they belong to the other regime
        (a call kept back is no call that works again)."""
        with self._lock:
            changed = on != self._dry_run
            self._dry_run = on
            if changed:
                self._would_send.clear()
                self._failing = None
        return changed

    @property
    def would_send(self) -> list[str]:
        """The last call per target that a dry run kept back, in the order they first came
        (empty when live)."""
        with self._lock:
            return list(self._would_send.values())

    def _would(self, service: str, data: dict[str, Any]) -> None:
        line = describe_call(service, data)
        target = call_target(data)
        with self._lock:
            changed = self._would_send.get(target) != line
            self._would_send[target] = line
        if changed:
            self.log(f"dry run: would call {line}")
