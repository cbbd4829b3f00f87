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

from ..config import MODE_OPTIONS, MODE_WORDS, LoadConfigError, LoadSettings, parse_mode, slugify
from ..engine.control_types import Command, LoadReading
from ..engine.model import Load, Mode, Site
from ..problems import report_config_problems
from .entities import EntityPublisher, sensor_attrs

#: How often a load checks that its hub knows it (hub started late, reloaded or restarted).
REGISTER_CHECK_S = 10

UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", "none", ""})


@dataclass(frozen=True)
class CycleContext:
    """What the hub tells every load along with its reading request and command."""

    now_s: float
    now_utc: datetime
    voltage_v: float
    republish_s: float = 60.0


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
        )

    def apply(self, command: Command, ctx: CycleContext) -> None:
        """Apply the hub's command and publish this load's entities."""
        try:
            self.apply_device(command, ctx)
        except Exception as err:  # a device bug must not stop the hub's cycle
            self.service_failed("applying the command", f"{type(err).__name__}: {err}")
        self._publisher.republish_s = ctx.republish_s
        self._publish_command(command, ctx.now_s)

    def hub_rejected(self, reason: str) -> None:
        """The hub refused this load (bad circuit, phases...): say so on the state entity."""
        self._publish_state("error", reason, self._now_s())

    def hub_stopped(self) -> None:
        """The hub is going away; register again when it is back."""
        with self._lock:
            self._hub = None

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

    def _publish_command(self, command: Command, now_s: float) -> None:
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
            command.state.value,
            command.reason,
            now_s,
            mode=self.mode.value,
            priority=s.priority,
            hub=s.hub,
            service_ok=not self.failing,
            **self.device_attributes(),
        )
