"""What every load app shares: config check, hub registration, mode select, entities, failures.

A load app never decides. Each hub cycle it is asked for a `LoadReading` (what the device does
now) and handed a `Command` (what it may do); the device subclass turns those into HA states
and service calls. Threads: the hub calls `reading`/`apply` from its own worker thread while
this app's `listen_state` callbacks run in this app's thread, so state touched by both sits
behind `self._lock` (a plain `threading.Lock`; AppDaemon's `@app_lock` is not available under
the test framework).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from appdaemon.plugins.hass.hassapi import Hass

from .. import units
from ..config import MODE_OPTIONS, MODE_WORDS, LoadConfigError, LoadSettings, parse_mode, slugify
from ..engine.control_types import Command, LoadReading, LoadState
from ..engine.model import Load, Mode, Site
from ..problems import report_config_problems
from .entities import EntityPublisher, sensor_attrs

#: How often a load checks that its hub knows it (hub started late, reloaded or restarted).
REGISTER_CHECK_S = 10
#: How often a load checks that its hub still sends commands (the no-hub watchdog).
WATCHDOG_S = 5
#: How long a load that never had a command waits before it puts its device in the safe state.
DEFAULT_STALE_TIMEOUT_S = 60.0
#: The state entity's state while the load holds its device safe without a hub.
NO_HUB_STATE = "no_hub"

UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", "none", ""})


@dataclass(frozen=True)
class CycleContext:
    """What the hub tells every load along with its reading request and command."""

    now_s: float
    now_utc: datetime
    voltage_v: float
    republish_s: float = 60.0
    #: The hub's `grid_stale_timeout_s`: a load left this long without a command acts alone.
    stale_timeout_s: float = DEFAULT_STALE_TIMEOUT_S


def utc_now(app: Hass) -> datetime:
    """AppDaemon's clock as an aware UTC datetime (AppDaemon time: time travel and tests work)."""
    now = app.datetime(aware=True)
    if now.tzinfo is None:  # the test framework returns naive UTC
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


class LoadApp(Hass):
    """Base of the OCPP charger and switched load apps; subclasses implement the device hooks."""

    KIND: ClassVar[str] = "load"

    # -- AppDaemon lifecycle

    def initialize(self) -> None:
        self._lock = threading.Lock()
        self._hub: Any = None
        self._hub_state_note: str | None = None
        self._select_mode: Mode | None = None
        self._failing: str | None = None
        self._apply_lock = threading.RLock()  # one device write at a time: hub or watchdog
        self._last_ctx: CycleContext | None = None
        self._last_command_s = self._now_s()
        self._on_own = False
        self._unit_errors: set[str] = set()
        self._publisher = EntityPublisher(self.set_state)
        self.entity_base = f"load_juggler_{slugify(self.name)}"
        self.config_ok = False
        self.problems: list[str] = []
        self.settings: LoadSettings | None = None
        try:
            self.settings = self.parse_args(dict(self.args))
        except LoadConfigError as err:
            self.problems = [str(p) for p in err.problems]
            report_config_problems(self.log, self.problems, "not started", "this app")
            self._publish_state("error", self.problems[0], self._now_s())
            return
        self.config_ok = True
        self.setup_device()
        self._setup_mode_select()
        self._ensure_registered({})
        self.run_every(self._ensure_registered, "now", REGISTER_CHECK_S)
        self._watchdog({})
        self.run_every(self._watchdog, "now", WATCHDOG_S)

    def terminate(self) -> None:
        hub = getattr(self, "_hub", None)
        if hub is not None:
            try:
                hub.unregister_load(self)
            except Exception as err:  # the hub may be gone already
                self.log(f"could not unregister from hub: {err}", level="DEBUG")

    # -- device hooks (subclasses)

    def parse_args(self, args: dict[str, Any]) -> LoadSettings:
        """Check `args`, keep device settings, return the common ones; raise LoadConfigError."""
        raise NotImplementedError

    def setup_device(self) -> None:
        """Check the device's entities once at start (log what is missing)."""

    def read_device(self, ctx: CycleContext) -> LoadReading:
        """The device's live state; `mode` is filled in by the caller."""
        raise NotImplementedError

    def apply_device(self, command: Command, ctx: CycleContext) -> None:
        """Make the device follow `command`; service failures go through `service_failed`."""
        raise NotImplementedError

    def device_attributes(self) -> dict[str, Any]:
        """Extra attributes for the state entity (what the device reports, last value sent)."""
        return {}

    def device_tick(self, ctx: CycleContext) -> None:
        """Upkeep the device needs with or without a hub (every WATCHDOG_S, load's thread)."""

    def safe_command(self, ctx: CycleContext, reason: str) -> Command:
        """What the device gets when no hub decides: off (chargers override this)."""
        return Command(
            load_id=self.name,
            current_a=0.0,
            on=False,
            write=True,
            state=LoadState.STALE_FALLBACK,
            reason=reason,
        )

    # -- called by the hub

    @property
    def load_id(self) -> str:
        return self.name

    def engine_load(self, site: Site, circuit: str | None) -> Load:
        """The static engine view of this load, in the mode now in force."""
        assert self.settings is not None
        return self.settings.engine_load(site.voltage_v, circuit, self.mode)

    def _state(self, entity_id: str, attribute: str | None = None) -> Any:
        """An entity's state (or attribute); None when AppDaemon cannot read it."""
        try:
            return self.get_state(entity_id, attribute=attribute)
        except Exception:
            return None

    @property
    def mode(self) -> Mode:
        """The mode in force: the select's option if valid, else the configured mode."""
        assert self.settings is not None
        with self._lock:
            return self._select_mode or self.settings.mode

    def reading(self, ctx: CycleContext) -> LoadReading:
        """This cycle's reading; a device that cannot be read counts as unavailable."""
        try:
            with self._apply_lock:  # the watchdog may read too, from this app's thread
                reading = self.read_device(ctx)
        except Exception as err:
            self.log(f"could not read the device: {type(err).__name__}: {err}", level="WARNING")
            reading = LoadReading(connected=False, drawing=False, draw_a=None, available=False)
        return LoadReading(
            connected=reading.connected,
            drawing=reading.drawing,
            draw_a=reading.draw_a,
            mode=self.mode,
            available=reading.available,
            rest=reading.rest,
        )

    def apply(self, command: Command, ctx: CycleContext) -> None:
        """Apply the hub's command and publish this load's entities."""
        assert self.settings is not None
        with self._lock:
            self._last_ctx = ctx
            self._last_command_s = ctx.now_s
            resumed, self._on_own = self._on_own, False
        if resumed:
            self.log(f"commands from hub '{self.settings.hub}' again; the hub decides from now on")
        self._apply(command, ctx)

    def _apply(self, command: Command, ctx: CycleContext, state: str | None = None) -> None:
        with self._apply_lock:
            try:
                self.apply_device(command, ctx)
            except Exception as err:  # a device bug must not stop the hub's cycle
                self.service_failed("applying the command", f"{type(err).__name__}: {err}")
            self._publisher.republish_s = ctx.republish_s
            self._publish_command(command, ctx.now_s, state)

    # -- without a hub

    def _watchdog(self, cb_args: dict[str, Any]) -> None:
        """Device upkeep, and the safe state when no command came for the stale timeout.

        A hub that is removed, reloading or stuck on a configuration error sends nothing; the
        last limit would stay in force (a charger refreshes nothing, but a switch stays on for
        good). After the hub's `grid_stale_timeout_s` (60 s before the first command) the load
        does what the hub does with a stale grid: a charging car at its minimum (or the
        fail-safe current, if lower), everything else off, until commands come again.
        """
        assert self.settings is not None
        now = utc_now(self)
        now_s = now.timestamp()
        with self._lock:
            last_ctx, last_s, on_own = self._last_ctx, self._last_command_s, self._on_own
        timeout_s = last_ctx.stale_timeout_s if last_ctx else DEFAULT_STALE_TIMEOUT_S
        ctx = CycleContext(
            now_s=now_s,
            now_utc=now,
            voltage_v=last_ctx.voltage_v if last_ctx else 230.0,
            republish_s=last_ctx.republish_s if last_ctx else 60.0,
            stale_timeout_s=timeout_s,
        )
        try:
            # Outside the apply lock: a slow charger call here must not hold up the hub's cycle.
            self.device_tick(ctx)
        except Exception as err:
            self.service_failed("device upkeep", f"{type(err).__name__}: {err}")
        with self._apply_lock:
            silent_s = now_s - last_s
            with self._lock:
                hub_spoke = self._last_command_s != last_s
            if silent_s < timeout_s or hub_spoke:
                return
            reason = (
                f"no command from hub '{self.settings.hub}' for {silent_s:.0f} s "
                f"(limit {timeout_s:g} s): hub stopped, reloading or misconfigured"
            )
            if self._hub_state_note:  # what registration found out: not running, refused...
                reason = f"{reason}; {self._hub_state_note}"
            command = self.safe_command(ctx, reason)
            if not on_own:
                with self._lock:
                    self._on_own = True
                what = f"{command.current_a:g} A" if command.on else "off"
                self.log(f"{reason}; safe state on my own: {what}", level="WARNING")
            self._apply(command, ctx, NO_HUB_STATE)

    @property
    def on_own(self) -> bool:
        """True while the load holds its device in the safe state because no hub decides."""
        with self._lock:
            return self._on_own

    # -- reading entities through the one unit reader

    def _full(self, entity_id: str | None) -> dict[str, Any] | None:
        if not entity_id:
            return None
        full = self._state(entity_id, attribute="all")
        return full if isinstance(full, dict) else None

    def _unit_refused(self, entity_id: str, err: units.UnitError) -> None:
        """One WARNING per episode for an entity whose unit cannot be converted."""
        with self._lock:
            first = entity_id not in self._unit_errors
            self._unit_errors.add(entity_id)
        if first:
            self.log(str(err), level="WARNING")

    def _unit_accepted(self, entity_id: str) -> None:
        with self._lock:
            was = entity_id in self._unit_errors
            self._unit_errors.discard(entity_id)
        if was:
            self.log(f"{entity_id} reports a usable unit again")

    def read_power_w(self, entity_id: str | None, default_unit: str) -> float | None:
        """A power entity in W (`default_unit` when it declares none); None when unknown."""
        full = self._full(entity_id)
        if full is None or entity_id is None:
            return None
        try:
            value = units.power_w(
                full.get("state"),
                units.unit_of(full),
                entity_id=entity_id,
                default_unit=default_unit,
            )
        except units.UnitError as err:
            self._unit_refused(entity_id, err)
            return None
        if value is not None:
            self._unit_accepted(entity_id)
        return value

    def current_from(
        self, entity_id: str, full: dict[str, Any], raw: Any, voltage_v: float
    ) -> float | None:
        """`raw` (the state or a per-phase attribute of `full`) in A, by the entity's unit."""
        try:
            amps = units.current_a(raw, units.unit_of(full), voltage_v, entity_id=entity_id)
        except units.UnitError as err:
            self._unit_refused(entity_id, err)
            return None
        if amps is not None:
            self._unit_accepted(entity_id)
        return amps

    def read_current_a(self, entity_id: str, voltage_v: float) -> float | None:
        """A current entity's state in A (a power per phase is divided by `voltage_v`)."""
        full = self._full(entity_id)
        return (
            None
            if full is None
            else self.current_from(entity_id, full, full.get("state"), voltage_v)
        )

    def read_voltage_v(self, entity_id: str) -> float | None:
        """A voltage entity in V; None when unknown or its unit is not a voltage."""
        full = self._full(entity_id)
        if full is None:
            return None
        try:
            volts = units.voltage_v(full.get("state"), units.unit_of(full), entity_id=entity_id)
        except units.UnitError as err:
            self._unit_refused(entity_id, err)
            return None
        if volts is not None:
            self._unit_accepted(entity_id)
        return volts

    # -- registration

    def _ensure_registered(self, cb_args: dict[str, Any]) -> None:
        """Register with the hub app, or re-register after the hub was (re)started."""
        assert self.settings is not None
        hub_name = self.settings.hub
        hub: Any = None
        try:
            hub = self.get_app(hub_name)
        except Exception:
            hub = None
        if hub is None or not hasattr(hub, "register_load"):
            note = (
                f"hub app '{hub_name}' is not running (yet); waiting for it. "
                f"Add 'dependencies: [{hub_name}]' to this app to start it after the hub"
                if hub is None
                else f"app '{hub_name}' is not a Load Juggler hub (key 'hub')"
            )
            if note != self._hub_state_note:
                self._hub_state_note = note
                self.log(note, level="WARNING")
                self._publish_state("waiting_for_hub", note, self._now_s())
            with self._lock:
                self._hub = None
            return
        with self._lock:
            known = self._hub
        if known is hub and hub.is_registered(self):
            return
        accepted, reason = hub.register_load(self)
        if accepted:
            with self._lock:
                self._hub = hub
            self._hub_state_note = None
            self.log(f"registered with hub '{hub_name}' ({self._describe()})")
        elif reason != self._hub_state_note:
            self._hub_state_note = reason
            self.log(f"hub '{hub_name}' refused this load: {reason}", level="ERROR")
            self._publish_state("error", reason, self._now_s())

    def _describe(self) -> str:
        s = self.settings
        assert s is not None
        circuit = f", circuit {s.circuit}" if s.circuit else ""
        return (
            f"{self.KIND}, mode {self.mode.value}, priority {s.priority}, "
            f"{s.phases} phase(s) on {'/'.join(s.phase_map)}{circuit}"
        )

    # -- mode select

    def _setup_mode_select(self) -> None:
        assert self.settings is not None
        select = self.settings.mode_select
        if not select:
            return
        try:
            full = self.get_state(select, attribute="all")
        except Exception:
            full = None
        if not full:
            self.log(
                f"mode_select {select} does not exist; create an input_select helper with the "
                f"options {', '.join(MODE_OPTIONS)}. "
                f"Using mode '{self.settings.mode.value}' until then",
                level="WARNING",
            )
        else:
            options = list((full.get("attributes") or {}).get("options") or [])
            missing = [o for o in MODE_OPTIONS if o not in options]
            if missing:
                self.log(
                    f"mode_select {select} lacks the option(s) {', '.join(missing)} "
                    f"(it has: {', '.join(map(str, options)) or 'none'})",
                    level="WARNING",
                )
                if self.settings.fix_mode_options:
                    self._fix_mode_options(select)
                else:
                    self.log(
                        f"add them to {select}, or set 'fix_mode_options: true' to let this app "
                        "set the options",
                        level="WARNING",
                    )
            self._take_select_option(select, full.get("state"), initial=True)
        self.listen_state(self._on_mode_select, select)

    def _fix_mode_options(self, select: str) -> None:
        try:
            result = self.call_service(
                "input_select/set_options", entity_id=select, options=list(MODE_OPTIONS)
            )
        except Exception as err:
            self.log(f"could not set the options of {select}: {err}", level="WARNING")
            return
        if isinstance(result, dict) and result.get("success") is False:
            error = result.get("error") or result.get("ad_status") or result
            self.log(f"could not set the options of {select}: {error}", level="WARNING")
            return
        self.log(f"set the options of {select} to {', '.join(MODE_OPTIONS)}")

    def _on_mode_select(
        self, entity: str, attribute: str, old: Any, new: Any, cb_args: dict[str, Any]
    ) -> None:
        self._take_select_option(entity, new, initial=False)

    def _take_select_option(self, select: str, option: Any, *, initial: bool) -> None:
        if option is None or str(option).strip().lower() in UNAVAILABLE_STATES:
            return  # HA restarting: keep the mode we have
        mode = parse_mode(option)
        if mode is None:
            self.log(
                f"{select} has option '{option}', which is not a mode; allowed: "
                f"{', '.join(MODE_OPTIONS)}. Keeping mode '{self.mode.value}'",
                level="WARNING",
            )
            return
        with self._lock:
            changed = mode != self._select_mode
            self._select_mode = mode
        if changed and not initial:
            self.log(f"mode -> {MODE_WORDS[mode]} (from {select}); takes effect next cycle")

    # -- service calls

    def call_device(self, service: str, **data: Any) -> tuple[bool, str]:
        """Call an HA service; (ok, detail). Never raises: a failed call is retried next cycle."""
        try:
            result = self.call_service(service, suppress_log_messages=True, **data)
        except Exception as err:
            return False, f"{type(err).__name__}: {err}"
        if isinstance(result, dict) and result.get("success") is False:
            error = result.get("error") or result.get("ad_status") or result
            return False, f"{service} returned an error: {error}"
        return True, ""

    def service_failed(self, what: str, detail: str) -> None:
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

    def service_ok(self, what: str) -> None:
        """End a failure episode, if one is running."""
        with self._lock:
            was = self._failing
            self._failing = None
        if was is not None:
            self.log(f"{what} works again")

    @property
    def failing(self) -> bool:
        with self._lock:
            return self._failing is not None

    # -- entities

    def _now_s(self) -> float:
        return utc_now(self).timestamp()

    def entity(self, domain: str, suffix: str) -> str:
        return f"{domain}.{self.entity_base}_{suffix}"

    def _publish_state(self, state: str, reason: str, now_s: float, **extra: Any) -> None:
        """The load's state entity (with `extra` attributes) and its reason entity."""
        self._publisher.publish(
            self.entity("sensor", "state"),
            state,
            sensor_attrs(
                f"{self.name} state",
                device_class="enum",
                state_class=None,
                icon="mdi:state-machine",
                reason=reason,
                **extra,
            ),
            now_s,
        )
        self._publisher.publish(
            self.entity("sensor", "reason"),
            reason[:250],
            sensor_attrs(f"{self.name} limit reason", state_class=None, icon="mdi:information"),
            now_s,
        )

    def _publish_command(self, command: Command, now_s: float, state: str | None = None) -> None:
        s = self.settings
        assert s is not None
        current_a = round(command.current_a, 2) if command.on else 0.0
        self._publisher.publish(
            self.entity("sensor", "allocated_current"),
            current_a,
            sensor_attrs(
                f"{self.name} allocated current",
                unit="A",
                device_class="current",
                icon="mdi:current-ac",
                on=command.on,
                phases=s.phases,
            ),
            now_s,
        )
        self._publish_state(
            state or command.state.value,
            command.reason,
            now_s,
            mode=self.mode.value,
            priority=s.priority,
            hub=s.hub,
            service_ok=not self.failing,
            **self.device_attributes(),
        )
