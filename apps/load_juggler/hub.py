"""The Load Juggler hub: one per site, owns the control loop.

Every `period_s` it reads the site's sensors, asks each registered load app for a reading, runs
the controller (`engine.controller.Controller`: smoothing, stale-grid fallback, timers,
deadband, allocation), hands each load its command and publishes what it decided.

Loads find the hub, not the other way round: a load app calls `register_load(self)` in its
`initialize` and re-checks every few seconds, so apps may start in any order and a load app
that is reloaded or removed is picked up without restarting the hub. Registration happens in
the load's thread and the cycle in the hub's: the registry sits behind `self._lock`, and only
the cycle touches the controller.

The pieces live next to it: `site_readings` reads the site's sensors (units, glitches),
`site_checks` finds wiring mistakes in the live readings, `load_checks` decides whether a
registering load fits next to the others, `overload_report` turns measured overloads into one
episode, and `hub_publish` writes the site's entities.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from .config import HubConfig, HubConfigError, parse_hub
from .engine.control_types import (
    Command,
    CycleResult,
    LoadState,
    Plant,
    Readings,
    SiteStatus,
)
from .engine.controller import Controller
from .engine.errors import ConfigError
from .engine.model import Load
from .engine.validate import validate
from .hub_publish import publish_site, status_attributes
from .load_checks import LoadFacts, rating_warnings, refusal
from .loads.base import CycleContext, LoadApp, utc_now
from .loads.entities import EntityPublisher, sensor_attrs
from .overload_report import OVERLOAD_EVENT, OverloadEpisodes
from .problems import report_config_problems
from .site_checks import PhantomExport, missing_members
from .site_readings import Episodes, SiteReader

#: Load apps get this long (and `MEMBER_CHECK_CYCLES` cycles) to register before a circuit
#: `members` entry that names none of them is reported.
MEMBER_CHECK_S = 30.0
MEMBER_CHECK_CYCLES = 2


class Hub(Hass):
    """apps.yaml: `module: load_juggler.hub`, `class: Hub`; keys documented in README.md."""

    # -- AppDaemon lifecycle

    def initialize(self) -> None:
        self._lock = threading.Lock()
        self._loads: dict[str, LoadApp] = {}
        self._specs: dict[str, Load] = {}
        self._dirty = True
        self._controller: Controller | None = None
        self._publisher = EntityPublisher(self.set_state)
        self._last_table: tuple[Any, ...] | None = None
        self._last_status: SiteStatus | None = None
        self.last_result: CycleResult | None = None
        self.config: HubConfig | None = None
        self.problems: list[str] = []
        self.prefix = "load_juggler"
        self._facts: dict[str, LoadFacts] = {}
        self._episodes = Episodes(lambda line, level: self.log(line, level=level))
        self._overloads = OverloadEpisodes(self.name)
        self._cycles = 0
        self._last_unplaced: set[str] = set()
        self._voltage_v: float | None = None
        self._voltage_at_s = 0.0
        self._started_s = utc_now(self).timestamp()
        try:
            config = parse_hub(self.name, dict(self.args))
            validate(config.site, config.circuits, ())
        except (HubConfigError, ConfigError) as err:
            problems = err.problems if isinstance(err, HubConfigError) else [err]
            self.problems = [str(p) for p in problems]
            report_config_problems(self.log, self.problems, "not balancing anything", "the hub")
            self._publish_status(SiteStatus.ERROR.value, utc_now(self).timestamp(), {})
            return
        self.config = config
        self.prefix = config.entity_prefix
        self._publisher.republish_s = config.republish_s
        self._owner_of = {load: cid for cid, loads in config.members.items() for load in loads}
        self._controller = Controller(
            Plant(site=config.site, circuits=config.circuits, loads=(), settings=config.control)
        )
        self._reader = SiteReader(config, self._full_state, self._episodes)
        self._phantom = PhantomExport(
            config.sensors.grid.invert,
            has_solar=config.sensors.solar_power is not None,
            has_battery=config.sensors.battery_power is not None,
        )
        for warning in config.warnings:
            self.log(warning, level="WARNING")
        self._warn_if_prefix_taken()
        self.run_every(self.tick, "now", config.period_s)
        site = config.site
        self.log(
            f"started: {site.phases}-phase site, main breaker {site.main_breaker_a:g} A, "
            f"{len(config.circuits)} circuit(s), cycle every {config.period_s:g} s; "
            "waiting for load apps to register"
        )

    def _warn_if_prefix_taken(self) -> None:
        """Two hubs on one `entity_prefix` would overwrite each other's entities every cycle.

        The status entity names the hub that wrote it; one written by another hub means a second
        site shares the prefix (or a renamed hub left it behind until HA restarts).
        """
        try:
            owner = self.get_state(self.entity_id("status"), attribute="hub")
        except Exception:
            return
        if owner and owner != self.name:
            self.log(
                f"{self.entity_id('status')} was published by hub '{owner}': if that hub still "
                f"runs, give one of them its own entity_prefix, or both write "
                f"sensor.{self.prefix}_* (ignore this after renaming a hub)",
                level="WARNING",
            )

    def terminate(self) -> None:
        with self._lock:
            loads = list(self._loads.values())
            self._loads.clear()
        for load in loads:
            try:
                load.hub_stopped()
            except Exception as err:
                self.log(f"could not tell {load.name} that the hub stops: {err}", level="DEBUG")

    # -- load registry (called from the load apps' threads)

    def register_load(self, load: LoadApp) -> tuple[bool, str]:
        """Accept (or replace) a load app; (False, reason) if it does not fit this site."""
        config = self.config
        if config is None:
            return False, f"hub '{self.name}' has configuration errors (see its log)"
        settings = load.settings
        if settings is None:
            return False, "load has configuration errors"
        listed = self._owner_of.get(load.name)
        circuit = settings.circuit or listed
        known = sorted(c.id for c in config.circuits)
        reason = ""
        spec: Load | None = None
        if settings.circuit and listed and settings.circuit != listed:
            reason = str(
                ConfigError(
                    f"app '{load.name}'",
                    "circuit",
                    settings.circuit,
                    f"contradicts hub '{self.name}', whose circuit '{listed}' lists it in members",
                )
            )
        elif circuit is not None and circuit not in known:
            reason = str(
                ConfigError(
                    f"app '{load.name}'",
                    "circuit",
                    circuit,
                    f"must name a circuit of hub '{self.name}': "
                    + (", ".join(known) or "none declared"),
                )
            )
        else:
            try:
                spec = load.engine_load(config.site, circuit)
                validate(config.site, config.circuits, (spec,))
            except ConfigError as err:
                reason = f"app '{load.name}': {err}"
        facts = _facts_of(load, settings)
        if not reason:
            with self._lock:
                others = [f for name, f in self._facts.items() if name in self._loads]
            reason = refusal(facts, others, config.period_s) or ""
        if reason or spec is None:
            # A refused load asks again every few seconds: log each reason once.
            for key in self._episodes.keys(f"refused:{load.name}:"):
                if key != f"refused:{load.name}:{reason}":
                    self._episodes.end(key)
            self._episodes.begin(
                f"refused:{load.name}:{reason}", f"rejected load: {reason}", "ERROR"
            )
            return False, reason
        for key in self._episodes.keys(f"refused:{load.name}:"):
            self._episodes.end(key)
        with self._lock:
            replaced = load.name in self._loads
            self._loads[load.name] = load
            self._specs[load.name] = spec
            self._facts[load.name] = facts
            self._dirty = True
            count = len(self._loads)
        verb = "re-registered" if replaced else "registered"
        self.log(f"load '{load.name}' {verb} ({count} load(s)); active from the next cycle")
        if not replaced:
            for warning in rating_warnings(facts, config, circuit):
                self.log(warning, level="WARNING")
        return True, ""

    def unregister_load(self, load: LoadApp) -> None:
        """Forget a load app (it stopped or is being reloaded)."""
        with self._lock:
            if self._loads.get(load.name) is not load:
                return
            del self._loads[load.name]
            del self._specs[load.name]
            self._facts.pop(load.name, None)
            self._dirty = True
            count = len(self._loads)
        self.log(f"load '{load.name}' unregistered ({count} load(s) left)")

    def is_registered(self, load: LoadApp) -> bool:
        with self._lock:
            return self._loads.get(load.name) is load

    @property
    def load_names(self) -> list[str]:
        with self._lock:
            return sorted(self._loads)

    # -- the cycle

    def tick(self, cb_args: dict[str, Any]) -> None:
        """One control cycle (run_every callback)."""
        config, controller = self.config, self._controller
        if config is None or controller is None:
            return
        now = utc_now(self)
        now_s = now.timestamp()
        self._cycles += 1
        with self._lock:
            registered = sorted(self._loads)
        missing = self._check_members(now_s, registered)
        with self._lock:
            loads = dict(self._loads)
            unplaced = {name for name in loads if missing and self._unplaced(name)}
            specs = tuple(s for name, s in self._specs.items() if name not in unplaced)
            if unplaced != self._last_unplaced:
                self._dirty = True
            self._last_unplaced = unplaced
            dirty, self._dirty = self._dirty, False
        if dirty:
            plant = Plant(
                site=config.site, circuits=config.circuits, loads=specs, settings=config.control
            )
            try:
                controller.replace_plant(plant)
            except ConfigError as err:
                self.log(f"load set rejected by the controller: {err}", level="ERROR")
        measured_v = self._reader.voltage()
        if measured_v is not None:
            self._voltage_v, self._voltage_at_s = measured_v, now_s
        elif now_s - self._voltage_at_s >= config.control.sensor_stale_timeout_s:
            self._voltage_v = None
        # A voltage reading that drops out keeps the last good one until it is stale: falling
        # back to the nominal value at once would change every W -> A conversion on a cycle
        # where nothing else changed.
        ctx = self._context(now, self._voltage_v or config.site.voltage_v)
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
        result = controller.step(now_s, readings)
        self.last_result = result
        for name, command in result.commands.items():
            self._apply(loads.get(name), name, command, ctx)
        for name in sorted(unplaced):
            command = Command(
                load_id=name,
                current_a=0.0,
                on=False,
                write=True,
                state=LoadState.OFF,
                reason="not placed: a circuit's members name a load app that is not registered",
            )
            self._apply(loads.get(name), name, command, ctx)
        self._log_cycle(result, readings)
        self._report_overloads(result, now_s)
        self._publish(result, now_s)

    def _context(self, now: Any, voltage_v: float) -> CycleContext:
        assert self.config is not None
        return CycleContext(
            now_s=now.timestamp(),
            now_utc=now,
            voltage_v=voltage_v,
            republish_s=self.config.republish_s,
            stale_timeout_s=self.config.control.grid_stale_timeout_s,
        )

    def _apply(self, load: LoadApp | None, name: str, command: Command, ctx: CycleContext) -> None:
        if load is None:
            return
        try:
            load.apply(command, ctx)
        except Exception as err:  # one broken load must not stop the others
            self.log(f"load '{name}' failed to apply its command: {err}", level="ERROR")

    def _unplaced(self, name: str) -> bool:
        """A load with no circuit of its own and listed in no members: it may be the one a
        misspelt members entry meant, so it must not be fed as if under the main breaker alone.
        Caller holds the lock."""
        spec = self._specs.get(name)
        return spec is not None and spec.circuit is None

    def _check_members(self, now_s: float, registered: list[str]) -> bool:
        """Whether some circuit member names no registered load; ERROR once loads had time."""
        assert self.config is not None
        missing = missing_members(self.config.members, registered)
        due = self._cycles > MEMBER_CHECK_CYCLES and now_s - self._started_s >= MEMBER_CHECK_S
        names = {f"member:{m.circuit}:{m.name}" for m in missing}
        for key in self._episodes.keys("member:"):
            if key not in names:
                _, circuit, name = key.split(":", 2)
                self._episodes.end(key, f"circuit '{circuit}' member '{name}' has registered")
        if due:
            for m in missing:
                self._episodes.begin(f"member:{m.circuit}:{m.name}", m.line(self.name), "ERROR")
        return bool(missing)

    # -- reading the site

    def _full_state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            full = self.get_state(entity_id, attribute="all")
        except Exception:
            return None
        return full if isinstance(full, dict) else None

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

    # -- logging and entities

    def _log_cycle(self, result: CycleResult, readings: Readings) -> None:
        for message in result.messages:
            level = "INFO" if result.status is SiteStatus.OK else "WARNING"
            self.log(message, level=level)
        table = tuple(
            (name, cmd.on, round(cmd.current_a, 1), cmd.state.value)
            for name, cmd in sorted(result.commands.items())
        )
        summary = _summary(result.commands)
        if table != self._last_table or result.status is not self._last_status:
            self.log(f"allocation [{result.status.value}]: {summary or 'no loads'}")
        else:
            self.log(
                f"cycle [{result.status.value}]: grid {_fmt(readings.grid_a)} A, solar "
                f"{_fmt(readings.solar_w)} W, battery {_fmt(readings.battery_soc_pct)} % "
                f"{_fmt(readings.battery_power_w)} W; {summary or 'no loads'}",
                level="DEBUG",
            )
        self._last_table = table
        self._last_status = result.status

    def entity_id(self, suffix: str) -> str:
        return f"sensor.{self.prefix}_{suffix}"

    def _publish_status(self, state: str, now_s: float, extra: dict[str, Any]) -> None:
        attrs = sensor_attrs(
            "Load Juggler status",
            device_class="enum",
            state_class=None,
            icon="mdi:scale-balance",
            hub=self.name,
            **extra,
        )
        if self.problems:
            attrs["problems"] = self.problems
            attrs["reason"] = self.problems[0]
        self._publisher.publish(self.entity_id("status"), state, attrs, now_s)

    def _publish(self, result: CycleResult, now_s: float) -> None:
        assert self.config is not None
        with self._lock:
            specs = dict(self._specs)
        extra = status_attributes(result)
        self._publish_status(result.status.value, now_s, extra)
        publish_site(self._publisher, self.entity_id, self.config, result, specs, now_s)


def _fmt(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, tuple | list):
        return "/".join(_fmt(v) for v in value)
    return f"{value:g}" if isinstance(value, float | int) else str(value)


def _summary(commands: dict[str, Command]) -> str:
    parts = []
    for name, cmd in sorted(commands.items()):
        value = f"{cmd.current_a:g} A" if cmd.on else "off"
        parts.append(f"{name} {value} {cmd.state.value} ({cmd.reason})")
    return "; ".join(parts)


def _facts_of(load: LoadApp, settings: Any) -> LoadFacts:
    """What the registration checks compare: the device an app drives and a charger's timing."""
    ocpp = getattr(load, "ocpp", None)
    switch = getattr(load, "switch_cfg", None)
    if ocpp is not None:
        return LoadFacts(
            name=load.name,
            settings=settings,
            device=f"charger '{ocpp.charger}' connector {ocpp.conn_id}",
            device_key="charger",
            device_value=ocpp.charger,
            validity_s=ocpp.validity_s,
            refresh_s=ocpp.refresh_s,
        )
    if switch is not None:
        return LoadFacts(
            name=load.name,
            settings=settings,
            device=f"switch {switch.switch}",
            device_key="switch",
            device_value=switch.switch,
        )
    return LoadFacts(name=load.name, settings=settings)
