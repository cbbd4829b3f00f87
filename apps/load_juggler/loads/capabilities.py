"""What the load app needs from a load kind, as small interfaces (no AppDaemon import).

A load kind is a device object built by its app class (`loads/ocpp.py`, `loads/switch.py`).
The base app (`loads/base.py`) drives every kind through these capabilities only, the way evcc
sees a charger as ChargeState + Enable + CurrentLimiter:

- `ReadsState`: what the device does now (connected, drawing, per-line draw, rest state);
- `AppliesCommand`: make the device follow the hub's command (a current or on/off);
- `PublishesState`: what the device adds to the load's published entities.

Optional ones, found with `isinstance` (a kind implements them only when it has the need):
`ChecksEntities` (look once at start for the device's entities), `NeedsUpkeep` (periodic work
with or without a hub), `KeepsChargingAlone` (a current other than off while no hub decides).

A device reaches Home Assistant only through the `DeviceHost` its app hands it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..engine.control_types import Command, LoadReading
from ..engine.site_view import SiteView

#: How long a load that never had a command waits before it puts its device in the safe state.
DEFAULT_STALE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CycleContext:
    """What the hub tells every load along with its reading request and command."""

    now_s: float
    now_utc: datetime
    voltage_v: float
    republish_s: float = 60.0
    #: The hub's `grid_stale_timeout_s`: a load left this long without a command acts alone.
    stale_timeout_s: float = DEFAULT_STALE_TIMEOUT_S
    #: This cycle's surplus and site limits (`engine.site_view`), set with the command; None
    #: while reading and without a hub. For kinds that pick a device state of their own.
    site: SiteView | None = None


@dataclass(frozen=True)
class ExtraEntity:
    """An entity a kind publishes beside the common ones: `<domain>.load_juggler_<app>_<suffix>`."""

    domain: str
    suffix: str
    state: Any
    attributes: dict[str, Any]


class DeviceHost(Protocol):
    """What a device may ask of Home Assistant; its load app provides it (`device_host.py`).

    States come converted by the one unit reader (`units.py`): None when unknown or in a unit
    that cannot be converted. Service calls never raise; a device reports a failed one with
    `call_failed` and a working one with `call_ok`, so the log shows failure episodes.
    """

    name: str

    def log(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...

    def exists(self, entity_id: str) -> bool: ...

    def state(self, entity_id: str, attribute: str | None = None) -> Any: ...

    def full(self, entity_id: str | None) -> dict[str, Any] | None: ...

    def power_w(self, entity_id: str | None, default_unit: str) -> float | None: ...

    def current_a(self, entity_id: str, voltage_v: float) -> float | None: ...

    def current_from(
        self, entity_id: str, full: dict[str, Any], raw: Any, voltage_v: float
    ) -> float | None: ...

    def voltage_v(self, entity_id: str) -> float | None: ...

    def call(self, service: str, **data: Any) -> tuple[bool, str]: ...

    def call_failed(self, what: str, detail: str) -> None: ...

    def call_ok(self, what: str) -> None: ...


class ReadsState(Protocol):
    def read(self, ctx: CycleContext) -> LoadReading:
        """The device's live state; the mode is filled in by the app. May raise: the app then
        counts the device as unavailable for this cycle."""
        ...


class AppliesCommand(Protocol):
    def apply(self, command: Command, ctx: CycleContext) -> None:
        """Make the device follow `command`; a failed service call goes to `host.call_failed`."""
        ...


class PublishesState(Protocol):
    def attributes(self) -> dict[str, Any]:
        """Extra attributes of the load's state entity (what the device reports, last sent)."""
        ...

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        """Entities of this kind only, published after the common ones with each command."""
        ...


class LoadDevice(ReadsState, AppliesCommand, PublishesState, Protocol):
    """Every load kind: read, apply, publish."""


@runtime_checkable
class ChecksEntities(Protocol):
    def check_entities(self) -> None:
        """Look once at start for the device's entities and log what is missing."""
        ...


@runtime_checkable
class NeedsUpkeep(Protocol):
    def upkeep(self, ctx: CycleContext) -> None:
        """Work the device needs with or without a hub (every watchdog tick, app's thread)."""
        ...


@runtime_checkable
class KeepsChargingAlone(Protocol):
    def safe_current_a(self, reading: LoadReading) -> float:
        """The current while no hub decides (0: off); kinds without this capability go off."""
        ...
