"""The Load Juggler hub: one per site, owns the control loop.

Every `period_s` it reads the site's sensors, asks each registered load app for a reading, runs
the controller (`engine.controller.Controller`: smoothing, stale-grid fallback, timers,
deadband, allocation), hands each load its command and publishes what it decided.

Loads find the hub, not the other way round: a load app calls `register_load(self)` in its
`initialize` and re-checks every few seconds, so apps may start in any order and a load app
that is reloaded or removed is picked up without restarting the hub. Registration happens in
the load's thread and the cycle in the hub's: the registry (`load_registry`) sits behind a lock,
and only the cycle touches the controller.

The pieces live next to it: `site_readings` reads the site's sensors (units, glitches, the
voltage held while its sensor drops out), `site_checks` finds wiring mistakes in the live
readings, `load_checks` decides whether a registering load fits next to the others,
`overload_report` turns measured overloads into one episode, `cycle_log` writes the cycle's log
lines and `hub_publish` the hub's entities.

`dry_run: true` makes every load keep its service calls back (`LoadApp.set_dry_run`): the hub
tells a load when it registers, even one it refuses, so its no-hub safe state stays dry. A
reloaded hub is a new app object, so every load registers with it again and hears its setting.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from .command_schema import COMMAND_EVENT
from .config import HubConfig, HubConfigError, parse_hub
from .cycle_log import CycleLog
from .engine.control_types import Command, CycleResult, LoadState, Readings, SiteConfig, SiteStatus
from .engine.controller import Controller
from .engine.errors import ConfigError
from .engine.model import Load, Strategy
from .engine.site_view import site_view
from .engine.validate import validate
from .hub_commands import HubCommands
from .hub_phases import PhaseNews, restore, status_attributes
from .hub_publish import HubEntities
from .load_checks import facts_of, placement_refusal, rating_warnings, refusal
from .load_registry import LoadRegistry
from .loads.base import CycleContext, LoadApp, utc_now
from .overload_report import OVERLOAD_EVENT, OverloadEpisodes
from .problems import report_config_problems
from .site_checks import MemberCheck, PhantomExport
from .site_readings import Episodes, SiteReader
from .state_file import StateFile, state_path

#: The command of a registered load that must not be fed until the circuit members are placed.
NOT_PLACED = "not placed: a circuit's members name a load app that is not registered"


class Hub(Hass):
    """apps.yaml: `module: load_juggler.hub`, `class: Hub`; keys documented in README.md."""

    # -- AppDaemon lifecycle

    def initialize(self) -> None:
        self._registry: LoadRegistry[LoadApp] = LoadRegistry()
        self._specs = self._registry.specs  # the engine load of every registered app
        self._controller: Controller | None = None
        self._entities = HubEntities(self.set_state, self.name)
        self._cycle_log = CycleLog()
        self.last_result: CycleResult | None = None
        self.config: HubConfig | None = None
        self._episodes = Episodes(lambda line, level: self.log(line, level=level))
        #: Learned state and live overrides kept across restarts (`state_file`); in memory
        #: until a valid configuration names the file.
        self.state = StateFile(None, self._log_line)
        self._commands: HubCommands | None = None
        self.cycle_lock = threading.RLock()  # a command and a cycle never run at once
        self._overloads = OverloadEpisodes(self.name)
        started_s = utc_now(self).timestamp()
        try:
            config = parse_hub(self.name, dict(self.args))
            validate(config.site, config.circuits, ())
        except (HubConfigError, ConfigError) as err:
            problems = err.problems if isinstance(err, HubConfigError) else [err]
            self._entities.problems = [str(p) for p in problems]
            report_config_problems(
                self.log, self._entities.problems, "not balancing anything", "the hub"
            )
            self._entities.status(SiteStatus.ERROR.value, utc_now(self).timestamp(), {})
            return
        self._start(config, started_s)

    def _start(self, config: HubConfig, started_s: float) -> None:
        """Set up the cycle of a hub whose configuration is valid, and start it."""
        self.config = config
        self.state = StateFile(self._state_path(config.state_file), self._log_line)
        self.state.load()
        self._commands = HubCommands(self, self.state)
        kept = self._commands.desk.distribution
        if kept is not None:
            site = dataclasses.replace(config.site, distribution=kept)
            config = self.config = dataclasses.replace(config, site=site)
        self._entities.prefix = config.entity_prefix
        self._entities.dry_run = config.dry_run
        self._entities.publisher.republish_s = config.republish_s
        self._owner_of = {load: cid for cid, loads in config.members.items() for load in loads}
        self._controller = Controller(
            SiteConfig(
                site=config.site, circuits=config.circuits, loads=(), settings=config.control
            )
        )
        restore(self._controller, self.state, self._log_line)
        self._phase_news = PhaseNews(self.name, self._log_line, self.call_service)
        self._reader = SiteReader(config, self._full_state, self._episodes)
        self._members = MemberCheck(config.members, self.name, started_s, self._episodes)
        self._phantom = PhantomExport(
            config.sensors.grid.invert,
            has_solar=config.sensors.solar_power is not None,
            has_battery=config.sensors.battery_power is not None,
        )
        for warning in config.warnings:
            self.log(warning, level="WARNING")
        if config.dry_run:
            self.log(
                "dry run: deciding and publishing, but no load sends anything to its device; "
                "nothing protects the breakers until 'dry_run' is false",
                level="WARNING",
            )
        self._warn_if_prefix_taken()
        self.listen_event(self._commands.on_command, COMMAND_EVENT)
        self.run_every(self.tick, "now", config.period_s)
        site = config.site
        self.log(
            f"started: {site.phases}-phase site, main breaker {site.main_breaker_a:g} A, "
            f"{len(config.circuits)} circuit(s), cycle every {config.period_s:g} s; "
            "waiting for load apps to register"
        )

    def _state_path(self, option: str | None) -> Path | None:
        """The state file's path; None (kept in memory) for a relative path when AppDaemon
        has no config directory to put it under (an app test harness)."""
        try:
            config_dir = self.config_dir
        except AttributeError:
            return Path(option) if option and Path(option).is_absolute() else None
        return state_path(option, config_dir)

    def _log_line(self, line: str, level: str) -> None:
        self.log(line, level=level)

    def _warn_if_prefix_taken(self) -> None:
        """A status entity written by another hub: see `HubEntities.taken_by`."""
        try:
            owner = self.get_state(self.entity_id("status"), attribute="hub")
        except Exception:
            return
        line = self._entities.taken_by(owner)
        if line:
            self.log(line, level="WARNING")

    def terminate(self) -> None:
        # Nothing to tell the loads: each one's no-hub watchdog puts its device in the safe
        # state once no decision has come for its stale timeout.
        self._registry.clear()

    # -- load registry (called from the load apps' threads)

    def register_load(self, load: LoadApp) -> tuple[bool, str]:
        """Accept (or replace) a load app; (False, reason) if it does not fit this site."""
        config = self.config
        if config is None:
            return False, f"hub '{self.name}' has configuration errors (see its log)"
        load.set_dry_run(config.dry_run)
        if self._commands is not None:
            load.set_override(self._commands.desk.override_of(load.name))
        settings = load.settings
        if settings is None:
            return False, "load has configuration errors"
        listed = self._owner_of.get(load.name) or self._owner_of.get(load.app_name)
        circuit = settings.circuit or listed
        known = (c.id for c in config.circuits)
        reason = placement_refusal(load.name, self.name, settings.circuit, listed, known) or ""
        spec: Load | None = None
        if not reason:
            try:
                spec = load.engine_load(config.site, circuit)
                validate(config.site, config.circuits, (spec,))
            except ConfigError as err:
                reason = f"app '{load.name}': {err}"
        facts = facts_of(load, settings)
        if not reason:
            reason = refusal(facts, self._registry.others(), config.period_s) or ""
        if reason or spec is None:
            self._note_refusal(load.name, reason)
            return False, reason
        self._note_refusal(load.name, None)
        replaced, count = self._registry.add(load, spec, facts)
        verb = "re-registered" if replaced else "registered"
        self.log(f"load '{load.name}' {verb} ({count} load(s)); active from the next cycle")
        if not replaced:
            for warning in rating_warnings(facts, config, circuit):
                self.log(warning, level="WARNING")
        return True, ""

    def _note_refusal(self, name: str, reason: str | None) -> None:
        """A refused load asks again every few seconds: one ERROR per reason; None (accepted)
        closes the open one."""
        key = f"refused:{name}:{reason}"
        for open_key in self._episodes.keys(f"refused:{name}:"):
            if reason is None or open_key != key:
                self._episodes.end(open_key)
        if reason is not None:
            self._episodes.begin(key, f"rejected load: {reason}", "ERROR")

    def unregister_load(self, load: LoadApp) -> None:
        """Forget a load app (it stopped or is being reloaded)."""
        count = self._registry.remove(load)
        if count is not None:
            self.log(f"load '{load.name}' unregistered ({count} load(s) left)")

    def is_registered(self, load: LoadApp) -> bool:
        return self._registry.holds(load)

    @property
    def load_names(self) -> list[str]:
        return self._registry.names()

    # -- the cycle

    def tick(self, cb_args: dict[str, Any]) -> None:
        """One control cycle (run_every callback)."""
        with self.cycle_lock:
            self._tick()

    def _tick(self) -> None:
        config, controller = self.config, self._controller
        if config is None or controller is None:
            return
        now = utc_now(self)
        now_s = now.timestamp()
        loads, unplaced = self._loads_for_cycle(now_s, config, controller)
        measured_v, voltage_v = self._reader.cycle_voltage(now_s)
        ctx = self._context(now, voltage_v)
        readings = self._read(now_s, ctx, measured_v, loads, unplaced)
        if self._commands is not None:
            self._commands.upkeep(now_s, ctx.voltage_v, readings, loads)
        result = controller.step(now_s, readings)
        self.last_result = result
        ctx = dataclasses.replace(ctx, site=site_view(result))
        for name, load in loads.items():
            try:
                load.note_plan(result.plans.get(name), result.mode_reasons.get(name))
            except Exception as err:  # the plan is shown only; never stop the cycle for it
                self.log(f"load '{name}' failed to take its plan: {err}", level="ERROR")
        for name, command in result.commands.items():
            self._apply(loads.get(name), name, command, ctx)
        for name in sorted(unplaced):
            self._apply(loads.get(name), name, _not_placed(name), ctx)
        for line, level in self._cycle_log.lines(result, readings):
            self.log(line, level=level)
        self._report_overloads(result, now_s)
        specs = self._registry.specs_copy()
        self._phase_news.cycle(
            result, controller, self.state, self._entities.publisher, specs.values(), now_s
        )
        self._entities.phase_attrs = status_attributes(controller, specs.values())
        self._entities.cycle(config, result, specs, now_s)

    def _loads_for_cycle(
        self, now_s: float, config: HubConfig, controller: Controller
    ) -> tuple[dict[str, LoadApp], set[str]]:
        """The registered load apps and the names of those not placed yet (`LoadRegistry`);
        a changed load set goes to the controller first."""
        missing = self._members.update(now_s, self._registry.member_names())
        loads, unplaced, changed = self._registry.for_cycle(missing)
        if changed is not None:
            plant = SiteConfig(
                site=config.site, circuits=config.circuits, loads=changed, settings=config.control
            )
            try:
                controller.replace_plant(plant)
            except ConfigError as err:
                self.log(f"load set rejected by the controller: {err}", level="ERROR")
        return loads, unplaced

    def _context(self, now: Any, voltage_v: float) -> CycleContext:
        assert self.config is not None
        return CycleContext(
            now_s=now.timestamp(),
            now_utc=now,
            voltage_v=voltage_v,
            republish_s=self.config.republish_s,
            stale_timeout_s=self.config.control.grid_stale_timeout_s,
        )

    def _read(
        self,
        now_s: float,
        ctx: CycleContext,
        measured_v: float | None,
        loads: dict[str, LoadApp],
        unplaced: set[str],
    ) -> Readings:
        """The site's readings with the placed loads' own; a grid sign that cannot be right
        is warned about (`site_checks.PhantomExport`)."""
        load_readings = {
            name: load.reading(ctx) for name, load in loads.items() if name not in unplaced
        }
        site = self._reader.read(ctx.voltage_v, measured_v)
        readings = dataclasses.replace(site, loads=load_readings)
        hint = self._phantom.update(
            now_s, readings.grid_a, readings.solar_w, readings.battery_power_w
        )
        if hint:
            self.log(hint, level="WARNING")
        return readings

    def _full_state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            full = self.get_state(entity_id, attribute="all")
        except Exception:
            return None
        return full if isinstance(full, dict) else None

    def _apply(self, load: LoadApp | None, name: str, command: Command, ctx: CycleContext) -> None:
        if load is None:
            return
        try:
            load.apply(command, ctx)
        except Exception as err:  # one broken load must not stop the others
            self.log(f"load '{name}' failed to apply its command: {err}", level="ERROR")

    def _report_overloads(self, result: CycleResult, now_s: float) -> None:
        for warning in result.warnings:
            self.log(warning, level="WARNING")
        news = self._overloads.update(now_s, result.overloads)
        if news.line:
            self.log(news.line, level=news.level)
        if news.event is not None:
            try:
                self.fire_event(OVERLOAD_EVENT, **news.event)
            except Exception as err:
                self.log(f"could not fire {OVERLOAD_EVENT}: {err}", level="WARNING")

    def entity_id(self, suffix: str) -> str:
        return self._entities.entity_id(suffix)

    # -- what commands from Home Assistant need of the hub (`hub_commands.HubCommands`)

    def registered_apps(self) -> dict[str, LoadApp]:
        """The load apps registered now, by name."""
        apps: dict[str, LoadApp] = {}
        for name in self._registry.names():
            try:
                app = self.get_app(name)
            except Exception:
                continue
            if app is not None and self._registry.holds(app):
                apps[name] = app
        return apps

    def respec(self, load: LoadApp) -> None:
        """The load's engine view again (its current range changed), from the next cycle.
        The range only narrows the configured one, which fits the site already."""
        config, settings = self.config, load.settings
        assert config is not None and settings is not None
        circuit = settings.circuit or self._owner_of.get(load.name)
        spec = load.engine_load(config.site, circuit)
        validate(config.site, config.circuits, (spec,))
        self._registry.add(load, spec, facts_of(load, settings))

    def set_distribution(self, strategy: Strategy) -> None:
        """The hub's distribution from now on (a command, or one kept from before a restart)."""
        assert self.config is not None
        site = dataclasses.replace(self.config.site, distribution=strategy)
        self.config = dataclasses.replace(self.config, site=site)
        if self._controller is not None:
            plant = self._controller.plant
            self._controller.replace_plant(dataclasses.replace(plant, site=site))


def _not_placed(name: str) -> Command:
    """Off for a load that waits for the circuit members to be placed (`LoadRegistry`)."""
    return Command(
        load_id=name,
        current_a=0.0,
        on=False,
        write=True,
        state=LoadState.OFF,
        reason=NOT_PLACED,
    )
