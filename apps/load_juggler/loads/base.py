"""What every load app shares: config check, hub registration, mode select, entities, failures.

A load app never decides. Each hub cycle it is asked for a `LoadReading` (what the device does
now) and handed a `Command` (what it may do). Its kind's device object (`capabilities.py`) turns
those into HA states and service calls; this class talks to a kind only through those
capabilities. Threads: the hub calls `reading`/`apply` from its own worker thread while this
app's `listen_state` and timer callbacks run in this app's thread, so state touched by both sits
behind locks (plain `threading.Lock`s; AppDaemon's `@app_lock` is not available under the test
framework), and device writes behind `self._apply_lock`.

Dry run: the hub tells each load (`set_dry_run`) when it registers; the load's
host then keeps every service call back (`device_host.py`). The load keeps the last word it had
while its hub is gone, so a dry run stays dry in the no-hub safe state too. Each switch between
the two rebuilds the device, so it forgets what it believes it sent: after a dry run the device
never got those values, and its write deadband must not take them for sent.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar

from appdaemon.plugins.hass.hassapi import Hass

from ..config import LoadConfigError, LoadSettings
from ..config.kinds.charge_goal import ChargeGoalSettings
from ..engine.control_types import Command, LoadReading, LoadState
from ..engine.deadline import ChargeGoal, DeadlinePlan
from ..engine.model import Load, LoadKind, Mode, Site
from ..problems import report_config_problems
from ..state_file import StateFile
from .capabilities import (
    DEFAULT_STALE_TIMEOUT_S,
    ChecksEntities,
    CycleContext,
    KeepsChargingAlone,
    LoadDevice,
    NeedsUpkeep,
)
from .charge_goal_reader import GoalReader
from .device_host import AppDeviceHost
from .effective_mode import ModeChoice, ModeInputs, effective_mode
from .hub_link import REGISTER_CHECK_S, HubLink
from .load_entities import LoadEntities
from .mode_select import ModeSelect
from .overrides import LoadOverride
from .schedule import active_window, zone_named

__all__ = [
    "DEFAULT_STALE_TIMEOUT_S",
    "NO_HUB_STATE",
    "REGISTER_CHECK_S",
    "WATCHDOG_S",
    "CycleContext",
    "LoadApp",
    "utc_now",
]

#: How often a load checks that its hub still sends commands (the no-hub watchdog).
WATCHDOG_S = 5
#: The state entity's state while the load holds its device safe without a hub.
NO_HUB_STATE = "no_hub"


def utc_now(app: Hass) -> datetime:
    """AppDaemon's clock as an aware UTC datetime (AppDaemon time: time travel and tests work)."""
    now = app.datetime(aware=True)
    if now.tzinfo is None:  # the test framework returns naive UTC
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


class LoadApp(Hass):
    """Base of the load apps; a kind's app class only builds its device (`build_device`)."""

    KIND: ClassVar[str] = "load"

    # -- AppDaemon lifecycle

    def initialize(self) -> None:
        self._apply_lock = threading.RLock()  # one device write at a time: hub or watchdog
        self.host = AppDeviceHost(self)
        self._entities = LoadEntities(self.name, self.set_state)
        self._link: HubLink | None = None
        self.config_ok = False
        self.problems: list[str] = []
        self.settings: LoadSettings | None = None
        self._device_args = dict(self.args)
        self._override_lock = threading.Lock()
        self._override: LoadOverride | None = None
        self._last_command: Command | None = None
        self._zone = self._time_zone()
        try:
            self.settings, self.device = self.build_device(dict(self._device_args))
        except LoadConfigError as err:
            self.problems = [str(p) for p in err.problems]
            report_config_problems(self.log, self.problems, "not started", "this app")
            self.publish_state("error", self.problems[0])
            return
        self._modes = self.make_mode_select(self.settings)
        self._link = HubLink(self, self.settings.hub, self._now_s())
        self.config_ok = True
        if isinstance(self.device, ChecksEntities):
            self.device.check_entities()
        select = self._modes.setup()
        if select:
            self.listen_state(self._on_mode_select, select)
        self._ensure_registered({})
        self.run_every(self._ensure_registered, "now", REGISTER_CHECK_S)
        self._watchdog({})
        self.run_every(self._watchdog, "now", WATCHDOG_S)

    def terminate(self) -> None:
        if self._link is not None:
            self._link.unregister()

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, LoadDevice]:
        """Check `args`; the common settings and this kind's device. Raise LoadConfigError."""
        raise NotImplementedError

    def make_mode_select(self, settings: LoadSettings) -> ModeSelect:
        """The live mode's helper; a kind with modes of its own (a tank's `boost`) returns
        one that knows them."""
        return ModeSelect(self, settings)

    # -- called by the hub

    @property
    def app_name(self) -> str:
        """The AppDaemon app this load belongs to: itself, or a charger's with several plugs;
        a circuit's `members` may name either."""
        return self.name

    def set_dry_run(self, on: bool) -> None:
        """Follow the hub's `dry_run`: send nothing (on) or take over the device (off)."""
        if not self.config_ok:
            return
        with self._apply_lock:
            if not self.host.set_dry_run(on):
                return
            # What the device remembers as sent belongs to the other regime: start it afresh.
            _, self.device = self.build_device(dict(self._device_args))
        if on:
            self.log(
                f"dry run (hub '{self._hub_name}'): deciding and publishing, but sending nothing "
                "to the device; what would be sent is logged and published as 'would_send'"
            )
        else:
            self.log(f"dry run over (hub '{self._hub_name}'): the next command goes to the device")

    @property
    def _hub_name(self) -> str:
        return self.settings.hub if self.settings is not None else "?"

    def engine_load(self, site: Site, circuit: str | None) -> Load:
        """The static engine view of this load, in the mode now in force, with the current
        range a `set_current_limits` command narrowed (always inside the configured one)."""
        assert self.settings is not None
        load = self.settings.engine_load(site.voltage_v, circuit, self.mode)
        override = self.override
        if override is None or load.kind is not LoadKind.EVSE:
            return load
        max_a = min(load.max_a, override.max_a) if override.max_a is not None else load.max_a
        min_a = max(load.min_a, override.min_a) if override.min_a is not None else load.min_a
        return dataclasses.replace(load, min_a=min(min_a, max_a), max_a=max_a)

    @property
    def mode(self) -> Mode:
        """The mode in force (`mode_choice`)."""
        return self.mode_choice.mode

    @property
    def mode_choice(self) -> ModeChoice:
        """The mode in force now and why (`mode_choice_at`)."""
        return self.mode_choice_at(utc_now(self))

    def reading_mode(self, now: datetime) -> Mode:
        """The mode the engine gets with this cycle's reading: the mode in force; a kind whose
        own logic picks the engine's mode every cycle (a tank's thermostat) says so here."""
        return self.mode_choice_at(now).mode

    def mode_choice_at(self, now: datetime) -> ModeChoice:
        """The mode in force at `now` and why: pause, boost, a set_mode command, the schedule,
        the select, the configured mode (`effective_mode`)."""
        assert self.settings is not None
        select_mode, changed_s = self._modes.live
        return effective_mode(
            ModeInputs(
                now_s=now.timestamp(),
                configured=self.settings.mode,
                select_entity=self.settings.mode_select,
                select_mode=select_mode,
                select_changed_s=changed_s,
                window=active_window(self.settings.schedule, now, self._zone),
                override=self.override,
            )
        )

    @property
    def select_changed_s(self) -> float | None:
        """When the mode select was last changed by hand (None: not since start)."""
        return self._modes.live[1]

    @property
    def override(self) -> LoadOverride | None:
        with self._override_lock:
            return self._override

    def set_override(self, override: LoadOverride | None) -> None:
        """The overrides commands set (the hub keeps them across restarts); None: none."""
        with self._override_lock:
            self._override = None if override is None or override.empty else override

    def _time_zone(self) -> tzinfo:
        """Home Assistant's time zone as AppDaemon gives it (schedules run on its clock)."""
        try:
            return zone_named(self.get_timezone())
        except Exception:
            return UTC

    def reading(self, ctx: CycleContext) -> LoadReading:
        """This cycle's reading; a device that cannot be read counts as unavailable."""
        try:
            with self._apply_lock:  # the watchdog may read too, from this app's thread
                reading = self.device.read(ctx)
        except Exception as err:
            self.log(f"could not read the device: {type(err).__name__}: {err}", level="WARNING")
            reading = LoadReading(connected=False, drawing=False, draw_a=None, available=False)
        return dataclasses.replace(
            reading, mode=self.reading_mode(ctx.now_utc), goal=self.charge_goal(ctx, reading)
        )

    # -- deadlines and prices (a kind with goal options sets `goals` in `build_device`)

    goals: GoalReader | None = None

    def goal_reader(self, settings: ChargeGoalSettings | None) -> GoalReader | None:
        """The reader of a kind's goal options, None without any."""
        if settings is None:
            return None
        return GoalReader(
            settings,
            self.host.state,
            lambda line: self.log(line, level="WARNING"),
            (self.name, self._goal_store, self.session_id),
        )

    def _goal_store(self) -> StateFile | None:
        """The hub's state file, where the session's delivered energy is kept."""
        link = getattr(self, "_link", None)
        return link.hub_state() if link is not None else None

    def session_id(self) -> str | None:
        """The running charging session's id (a kind that knows one says it), else None: the
        session is then told by when its connection began."""
        return None

    def charge_goal(self, ctx: CycleContext, reading: LoadReading) -> ChargeGoal | None:
        """This cycle's deadline and prices for the controller (`charge_goal_reader`); the
        session's delivered energy is counted too. None: the load has none."""
        if self.goals is None or self.settings is None:
            return None
        self.goals.observe(ctx.now_s, reading, self.settings.phases, ctx.voltage_v)
        local = self.datetime(aware=True)
        zone = local.tzinfo if getattr(local, "tzinfo", None) is not None else UTC
        return self.goals.goal(ctx.now_utc, zone)

    def note_plan(self, plan: DeadlinePlan | None, mode_reason: str | None) -> None:
        """The controller's plan for this load this cycle, before its command is applied."""
        if self.goals is not None:
            line = self.goals.note(plan, mode_reason)
            if line is not None:
                self.log(line, level="WARNING")

    def goal_attributes(self) -> dict[str, Any]:
        """Attributes of the state entity that show the plan."""
        return {} if self.goals is None else self.goals.attributes()

    def apply(self, command: Command, ctx: CycleContext) -> None:
        """Apply the hub's command and publish this load's entities."""
        assert self._link is not None
        if self._link.command_came(ctx):
            self.log(
                f"commands from hub '{self._link.hub_name}' again; the hub decides from now on"
            )
        self._apply(command, ctx)

    def _apply(self, command: Command, ctx: CycleContext, state: str | None = None) -> None:
        with self._apply_lock:
            self._last_command = command
            try:
                self.device.apply(command, ctx)
            except Exception as err:  # a device bug must not stop the hub's cycle
                self.host.call_failed("applying the command", f"{type(err).__name__}: {err}")
            self._entities.set_republish_s(ctx.republish_s)
            self._publish_command(command, ctx.now_s, state)

    def resend(self) -> None:
        """Forget what the device was sent and send it again now (`reset_charger`): a fresh
        device object, its upkeep (a charger's fail-safe profile), then the last command."""
        assert self._link is not None
        ctx, _last_s, _on_own = self._link.silence(utc_now(self))
        with self._apply_lock:
            _, self.device = self.build_device(dict(self._device_args))
            if isinstance(self.device, NeedsUpkeep):
                self.device.upkeep(ctx)
            if self._last_command is not None:
                self.device.apply(dataclasses.replace(self._last_command, write=True), ctx)

    # -- without a hub

    def _watchdog(self, cb_args: dict[str, Any]) -> None:
        """Device upkeep, and the safe state when no command came for the stale timeout.

        A hub that is removed, reloading or stuck on a configuration error sends nothing; the
        last limit would stay in force (a charger refreshes nothing, but a switch stays on for
        good). After the hub's `grid_stale_timeout_s` (60 s before the first command) the load
        does what the hub does with a stale grid: a charging car at its minimum (or the
        fail-safe current, if lower), everything else off, until commands come again.
        """
        assert self._link is not None
        ctx, last_s, on_own = self._link.silence(utc_now(self))
        if isinstance(self.device, NeedsUpkeep):
            try:
                # Outside the apply lock: a slow charger call here must not hold up the hub.
                self.device.upkeep(ctx)
            except Exception as err:
                self.host.call_failed("device upkeep", f"{type(err).__name__}: {err}")
        with self._apply_lock:
            silent_s = ctx.now_s - last_s
            if silent_s < ctx.stale_timeout_s or self._link.spoke_since(last_s):
                return
            reason = self._link.silence_reason(silent_s, ctx.stale_timeout_s)
            command = self._safe_command(ctx, reason)
            if not on_own:
                self._link.go_alone()
                what = f"{command.current_a:g} A" if command.on else "off"
                self.log(f"{reason}; safe state on my own: {what}", level="WARNING")
            self._apply(command, ctx, NO_HUB_STATE)

    def _safe_command(self, ctx: CycleContext, reason: str) -> Command:
        """What the device gets when no hub decides: off, unless its kind keeps a car charging."""
        amps = 0.0
        if isinstance(self.device, KeepsChargingAlone):
            amps = self.device.safe_current_a(self.reading(ctx))
        return Command(
            load_id=self.name,
            current_a=amps,
            on=amps > 0,
            write=True,
            state=LoadState.STALE_FALLBACK,
            reason=reason,
        )

    @property
    def on_own(self) -> bool:
        """True while the load holds its device in the safe state because no hub decides."""
        return self._link is not None and self._link.on_own

    # -- timer and state callbacks

    def _on_mode_select(
        self, entity: str, attribute: str, old: Any, new: Any, cb_args: dict[str, Any]
    ) -> None:
        self._modes.take(entity, new, initial=False, now_s=self._now_s())

    def _ensure_registered(self, cb_args: dict[str, Any]) -> None:
        assert self._link is not None
        self._link.ensure_registered()

    # -- entities

    def _now_s(self) -> float:
        return utc_now(self).timestamp()

    def publish_state(self, state: str, reason: str) -> None:
        """Set the load's state entity (and reason) now, outside the hub's cycle."""
        self._entities.publish_state(state, reason, self._now_s())

    def _publish_command(self, command: Command, now_s: float, state: str | None = None) -> None:
        s = self.settings
        assert s is not None
        choice = self.mode_choice_at(datetime.fromtimestamp(now_s, UTC))
        override = self.override or LoadOverride()
        self._entities.publish_command(
            command,
            now_s,
            state,
            s.phases,
            {
                "mode": choice.mode.value,
                "mode_source": choice.source,
                "mode_reason": choice.reason,
                **override.attributes(),
                "priority": s.priority,
                "hub": s.hub,
                "service_ok": not self.host.failing,
                **self.device.attributes(),
                **self.goal_attributes(),
                **self._dry_run_attributes(),
            },
        )
        for extra in self.device.extra_entities(command):
            self._entities.publish_extra(extra, now_s)

    def _dry_run_attributes(self) -> dict[str, Any]:
        """`dry_run` and `would_send` (the calls kept back, one line per target; empty when
        live). Always both: AppDaemon merges attributes into the entity's old ones, so an
        attribute left out would keep its dry-run value in HA after the dry run."""
        return {"dry_run": self.host.dry_run, "would_send": self.host.would_send}
