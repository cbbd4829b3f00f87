"""The Load Juggler hub: one per site, owns the control loop.

Every `period_s` it reads the site's sensors, asks each registered load app for a reading, runs
the controller (`engine.controller.Controller`: smoothing, stale-grid fallback, timers,
deadband, allocation), hands each load its command and publishes what it decided.

Loads find the hub, not the other way round: a load app calls `register_load(self)` in its
`initialize` and re-checks every few seconds, so apps may start in any order and a load app
that is reloaded or removed is picked up without restarting the hub. Registration happens in
the load's thread and the cycle in the hub's: the registry sits behind `self._lock`, and only
the cycle touches the controller.
"""

from __future__ import annotations

import threading
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from .config import HubConfig, HubConfigError, parse_hub, slugify
from .engine.control_types import Command, CycleResult, Plant, Readings, SiteStatus
from .engine.controller import Controller
from .engine.errors import ConfigError
from .engine.model import SITE_NODE, SITE_PHASES, Load
from .engine.validate import validate
from .loads.base import CycleContext, LoadApp, utc_now
from .loads.entities import EntityPublisher, sensor_attrs, to_float
from .problems import report_config_problems

#: Reasons that say "nothing held this load back" (left out of `binding_constraints`).
UNCONSTRAINED = frozenset({"max current", "mode off", "not connected", "fits", "load unavailable"})


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
        if reason or spec is None:
            self.log(f"rejected load: {reason}", level="ERROR")
            return False, reason
        with self._lock:
            replaced = load.name in self._loads
            self._loads[load.name] = load
            self._specs[load.name] = spec
            self._dirty = True
            count = len(self._loads)
        verb = "re-registered" if replaced else "registered"
        self.log(f"load '{load.name}' {verb} ({count} load(s)); active from the next cycle")
        return True, ""

    def unregister_load(self, load: LoadApp) -> None:
        """Forget a load app (it stopped or is being reloaded)."""
        with self._lock:
            if self._loads.get(load.name) is not load:
                return
            del self._loads[load.name]
            del self._specs[load.name]
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
        with self._lock:
            loads = dict(self._loads)
            specs = tuple(self._specs.values())
            dirty, self._dirty = self._dirty, False
        if dirty:
            plant = Plant(
                site=config.site, circuits=config.circuits, loads=specs, settings=config.control
            )
            try:
                controller.replace_plant(plant)
            except ConfigError as err:
                self.log(f"load set rejected by the controller: {err}", level="ERROR")
        now = utc_now(self)
        now_s = now.timestamp()
        voltage_v = self._read_voltage()
        ctx = CycleContext(
            now_s=now_s,
            now_utc=now,
            voltage_v=voltage_v or config.site.voltage_v,
            republish_s=config.republish_s,
        )
        load_readings = {name: load.reading(ctx) for name, load in loads.items()}
        readings = Readings(
            grid_a=self._read_grid(ctx.voltage_v),
            solar_w=self._read_power(config.sensors.solar_power),
            battery_soc_pct=self._read_number(config.sensors.battery_soc),
            battery_power_w=self._read_battery_power(),
            voltage_v=voltage_v,
            max_import_w=self._read_power(config.sensors.max_import),
            loads=load_readings,
        )
        result = controller.step(now_s, readings)
        self.last_result = result
        for name, command in result.commands.items():
            load = loads.get(name)
            if load is None:
                continue
            try:
                load.apply(command, ctx)
            except Exception as err:  # one broken load must not stop the others
                self.log(f"load '{name}' failed to apply its command: {err}", level="ERROR")
        self._log_cycle(result, readings)
        self._publish(result, now_s)

    # -- reading the site

    def _full_state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            full = self.get_state(entity_id, attribute="all")
        except Exception:
            return None
        return full if isinstance(full, dict) else None

    def _read_number(self, entity_id: str | None) -> float | None:
        if not entity_id:
            return None
        full = self._full_state(entity_id)
        return None if full is None else to_float(full.get("state"))

    def _read_power(self, entity_id: str | None) -> float | None:
        """A power sensor in W; kW (by `unit_of_measurement`) is converted."""
        if not entity_id:
            return None
        full = self._full_state(entity_id)
        if full is None:
            return None
        return _watts(to_float(full.get("state")), full)

    def _read_battery_power(self) -> float | None:
        """Battery power, + = charging (engine convention); `battery_power_invert` flips it."""
        assert self.config is not None
        sensors = self.config.sensors
        value = self._read_power(sensors.battery_power)
        if value is None:
            return None
        return -value if sensors.battery_power_invert else value

    def _read_voltage(self) -> float | None:
        assert self.config is not None
        volts = self._read_number(self.config.sensors.voltage)
        return volts if volts is not None and 100.0 <= volts <= 480.0 else None

    def _read_grid(self, voltage_v: float) -> tuple[float | None, ...] | None:
        """Signed grid current per site phase (A, + = import); None per phase when unavailable."""
        assert self.config is not None
        grid = self.config.sensors.grid
        values: list[float | None] = []
        if grid.attributes:
            full = self._full_state(grid.entities[0])
            attrs = (full or {}).get("attributes") or {}
            for name in grid.attributes:
                raw = to_float(attrs.get(name))
                values.append(_watts(raw, full) if grid.unit == "W" else raw)
        else:
            for entity_id in grid.entities:
                full = self._full_state(entity_id)
                raw = None if full is None else to_float(full.get("state"))
                values.append(_watts(raw, full) if grid.unit == "W" else raw)
        if grid.unit == "W":
            values = [None if v is None else v / voltage_v for v in values]
        if grid.invert:
            values = [None if v is None else -v for v in values]
        return tuple(None if v is None else round(v, 3) for v in values)

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
        site = self.config.site
        phases = SITE_PHASES[: site.phases]
        decision = result.decision
        allocation = {
            name: {
                "current_a": round(cmd.current_a, 2) if cmd.on else 0.0,
                "on": cmd.on,
                "state": cmd.state.value,
                "reason": cmd.reason,
            }
            for name, cmd in sorted(result.commands.items())
        }
        limits: dict[str, str] = {}
        if decision is not None:
            limits = {name: alloc.reason for name, alloc in sorted(decision.loads.items())}
        binding = sorted({r for r in limits.values() if r not in UNCONSTRAINED})
        extra: dict[str, Any] = {
            "allocation": allocation,
            "limits": limits,
            "binding_constraints": binding,
            "loads": sorted(allocation),
        }
        if decision is not None:
            extra["import_w"] = round(decision.import_w)
            extra["background_a"] = [round(a, 2) for a in decision.background_a]
        if result.messages:
            extra["last_message"] = result.messages[-1]
        self._publish_status(result.status.value, now_s, extra)
        if decision is None:
            return
        self._publisher.publish(
            self.entity_id("solar_surplus"),
            round(decision.surplus_w),
            sensor_attrs("Load Juggler solar surplus", "W", "power", icon="mdi:solar-power"),
            now_s,
        )
        commanded = self._commanded_by_node(result.commands)
        for i, phase in enumerate(phases):
            p = phase.lower()
            available = site.main_breaker_a - decision.background_a[i]
            self._publisher.publish(
                self.entity_id(f"available_current_phase_{p}"),
                round(available, 2),
                sensor_attrs(
                    f"Load Juggler available current phase {phase}",
                    "A",
                    "current",
                    limit_a=site.main_breaker_a,
                ),
                now_s,
            )
            used = commanded[SITE_NODE][phase]
            self._publisher.publish(
                self.entity_id(f"headroom_phase_{p}"),
                round(available - used, 2),
                sensor_attrs(
                    f"Load Juggler headroom phase {phase}",
                    "A",
                    "current",
                    limit_a=site.main_breaker_a,
                    managed_a=round(used, 2),
                    background_a=round(decision.background_a[i], 2),
                ),
                now_s,
            )
        for circuit in self.config.circuits:
            base = f"circuit_{slugify(circuit.id)}_"
            label = f"Load Juggler circuit {circuit.id}"
            node = decision.nodes.get(circuit.id)
            for phase in phases:
                p = phase.lower()
                used = commanded[circuit.id][phase]
                self._publisher.publish(
                    self.entity_id(f"{base}allocated_phase_{p}"),
                    round(used, 2),
                    sensor_attrs(
                        f"{label} allocated phase {phase}",
                        "A",
                        "current",
                        limit_a=circuit.limit_a,
                        max_power_w=circuit.max_power_w,
                        engine_power_w=None if node is None else round(node.power_w),
                    ),
                    now_s,
                )
                if circuit.limit_a is not None:
                    self._publisher.publish(
                        self.entity_id(f"{base}headroom_phase_{p}"),
                        round(circuit.limit_a - used, 2),
                        sensor_attrs(
                            f"{label} headroom phase {phase}",
                            "A",
                            "current",
                            limit_a=circuit.limit_a,
                        ),
                        now_s,
                    )

    def _commanded_by_node(self, commands: dict[str, Command]) -> dict[str, dict[str, float]]:
        """Commanded current per site phase of the site and of every circuit (with ancestors)."""
        assert self.config is not None
        phases = SITE_PHASES[: self.config.site.phases]
        parents = {c.id: c.parent for c in self.config.circuits}
        totals = {node: dict.fromkeys(phases, 0.0) for node in (SITE_NODE, *parents)}
        with self._lock:
            specs = dict(self._specs)
        for name, cmd in commands.items():
            spec = specs.get(name)
            if spec is None or not cmd.on:
                continue
            nodes, node = [SITE_NODE], spec.circuit
            while node is not None and node in parents and node not in nodes:
                nodes.append(node)
                node = parents[node]
            for node_id in nodes:
                for phase in spec.site_phases:
                    if phase in totals[node_id]:
                        totals[node_id][phase] += cmd.current_a
        return totals


def _watts(value: float | None, full: dict[str, Any] | None) -> float | None:
    if value is None:
        return None
    unit = str(((full or {}).get("attributes") or {}).get("unit_of_measurement") or "W")
    return value * 1000.0 if unit.lower() == "kw" else value


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
