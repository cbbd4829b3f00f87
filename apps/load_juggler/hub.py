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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from .command_schema import (
    COMMAND_EVENT,
    RESULT_EVENT,
    CommandError,
    CommandTarget,
    command_of,
    parse_command,
    target_of,
)
from .commands import CommandDesk, Outcome
from .config import HubConfig, HubConfigError, parse_hub
from .cycle_log import CycleLog
from .engine.control_types import Command, CycleResult, LoadState, Readings, SiteConfig, SiteStatus
from .engine.controller import Controller
from .engine.errors import ConfigError
from .engine.model import Load
from .engine.validate import validate
from .hub_publish import HubEntities
from .load_checks import facts_of, placement_refusal, rating_warnings, refusal
from .load_registry import LoadRegistry
from .loads.base import CycleContext, LoadApp, utc_now
from .loads.schedule import zone_named
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
        self._desk: CommandDesk | None = None
        self._cycle_lock = threading.RLock()  # a command and a cycle never run at once
        self._last_tick_s: float | None = None
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
        self._desk = CommandDesk(self.state)
        if self._desk.distribution is not None:
            site = dataclasses.replace(config.site, distribution=self._desk.distribution)
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
        self.listen_event(self._on_command, COMMAND_EVENT)
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
        if self._desk is not None:
            load.set_override(self._desk.override_of(load.name))
        settings = load.settings
        if settings is None:
            return False, "load has configuration errors"
        listed = self._owner_of.get(load.name)
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
        with self._cycle_lock:
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
        self._override_upkeep(now_s, ctx.voltage_v, readings, loads)
        result = controller.step(now_s, readings)
        self.last_result = result
        for name, command in result.commands.items():
            self._apply(loads.get(name), name, command, ctx)
        for name in sorted(unplaced):
            self._apply(loads.get(name), name, _not_placed(name), ctx)
        for line, level in self._cycle_log.lines(result, readings):
            self.log(line, level=level)
        self._report_overloads(result, now_s)
        self._entities.cycle(config, result, self._registry.specs_copy(), now_s)

    def _loads_for_cycle(
        self, now_s: float, config: HubConfig, controller: Controller
    ) -> tuple[dict[str, LoadApp], set[str]]:
        """The registered load apps and the names of those not placed yet (`LoadRegistry`);
        a changed load set goes to the controller first."""
        missing = self._members.update(now_s, self._registry.names())
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

    # -- commands from Home Assistant (event load_juggler_command, see command_schema.py)

    def _on_command(self, event_name: str, data: Any, cb_args: dict[str, Any]) -> None:
        """Check and carry out one command; answer with RESULT_EVENT and a log line."""
        fields = data if isinstance(data, Mapping) else {}
        command, hub, request_id = command_of(fields)
        if hub is not None and hub != self.name:
            return  # for another hub of this house
        load = fields.get("load")
        try:
            with self._cycle_lock:
                outcome = self._carry_out(data)
        except CommandError as err:
            self._answer(command, load, request_id, None, str(err))
        except Exception as err:  # a bug must not leave the automation without an answer
            self._answer(command, load, request_id, None, f"{type(err).__name__}: {err}")
        else:
            self._answer(command, load, request_id, outcome.message, None)

    def _carry_out(self, data: Any) -> Outcome:
        config, desk = self.config, self._desk
        if config is None or desk is None:
            raise CommandError(f"hub '{self.name}' has configuration errors (see its log)")
        now = utc_now(self)
        apps = self._registered_apps()
        settings: dict[str, CommandTarget] = {
            n: target_of(a.settings) for n, a in apps.items() if a.settings is not None
        }
        request = parse_command(data, now, self._zone(), settings)
        outcome = desk.carry_out(request, now.timestamp(), settings)
        for name in outcome.loads_changed:
            apps[name].set_override(desk.override_of(name))
            if outcome.limits_changed:
                self._respec(apps[name], config)
        if outcome.distribution is not None:
            self._set_distribution(outcome.distribution)
        if outcome.reset is not None:
            self._reset_charger(apps[outcome.reset], apps)
        return outcome

    def _registered_apps(self) -> dict[str, LoadApp]:
        apps: dict[str, LoadApp] = {}
        for name in self._registry.names():
            try:
                app = self.get_app(name)
            except Exception:
                continue
            if app is not None and self._registry.holds(app):
                apps[name] = app
        return apps

    def _zone(self) -> Any:
        try:
            return zone_named(self.get_timezone())
        except Exception:
            return zone_named(None)

    def _respec(self, load: LoadApp, config: HubConfig) -> None:
        """The load's engine view again (its current range changed): from the next cycle.
        The range only narrows the configured one, which fits the site already."""
        settings = load.settings
        assert settings is not None
        circuit = settings.circuit or self._owner_of.get(load.name)
        spec = load.engine_load(config.site, circuit)
        validate(config.site, config.circuits, (spec,))
        self._registry.add(load, spec, facts_of(load, settings))

    def _set_distribution(self, strategy: Any) -> None:
        assert self.config is not None and self._controller is not None
        site = dataclasses.replace(self.config.site, distribution=strategy)
        self.config = dataclasses.replace(self.config, site=site)
        plant = self._controller.plant
        self._controller.replace_plant(dataclasses.replace(plant, site=site))

    def _reset_charger(self, target: LoadApp, apps: dict[str, LoadApp]) -> None:
        """Clear the charger's profiles, then every connector we drive on it sends ours again
        at once (clear_profile clears them all)."""
        devid = target.ocpp.devid  # type: ignore[attr-defined]
        ok, detail = target.clear_profiles()  # type: ignore[attr-defined]
        if not ok:
            raise CommandError(f"command reset_charger: {detail}")
        for app in apps.values():
            ocpp = getattr(app, "ocpp", None)
            if ocpp is not None and ocpp.devid == devid:
                app.resend()

    def _answer(
        self,
        command: str | None,
        load: Any,
        request_id: str | None,
        message: str | None,
        error: str | None,
    ) -> None:
        """The command's answer: an HA event, and a log line (WARNING when refused)."""
        if error is None:
            self.log(f"command {command}: {message}")
        else:
            self.log(f"command refused: {error}", level="WARNING")
        answer: dict[str, Any] = {
            "command": command,
            "hub": self.name,
            "load": load,
            "result": "ok" if error is None else "error",
            "reason": message if error is None else error,
        }
        if request_id is not None:
            answer["id"] = request_id
        try:
            self.fire_event(RESULT_EVENT, **answer)
        except Exception as err:
            self.log(f"could not fire {RESULT_EVENT}: {err}", level="WARNING")

    def _override_upkeep(
        self, now_s: float, volts: float, readings: Readings, loads: dict[str, LoadApp]
    ) -> None:
        """Count boost energy from each load's meter, end overrides that are due, and hand the
        loads whose override changed their new one."""
        desk = self._desk
        if desk is None:
            return
        elapsed_s = 0.0 if self._last_tick_s is None else now_s - self._last_tick_s
        self._last_tick_s = now_s
        assert self.config is not None
        elapsed_s = min(max(elapsed_s, 0.0), 2 * self.config.period_s)
        delivered: dict[str, float] = {}
        hand: dict[str, float | None] = {}
        for name in desk.names():
            load = loads.get(name)
            if load is None:
                continue
            hand[name] = load.select_changed_s
            reading = readings.loads.get(name)
            draw = reading.draw_a if reading is not None and reading.draw_a else ()
            amps = sum(a for a in draw if a is not None and a > 0)
            delivered[name] = amps * volts * elapsed_s / 3600.0
        lines, changed = desk.upkeep(now_s, delivered, hand)
        for line in lines:
            self.log(f"override: {line}")
        for name in changed:
            if name in loads:
                loads[name].set_override(desk.override_of(name))


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
