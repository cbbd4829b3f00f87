"""Runs a scenario: plant -> readings -> the hub's `Controller` -> commands -> plant, every step.

The controller is the very class the hub uses, fed the same `Readings` a hub would build, so a
scenario exercises smoothing, timers, ramps and the write deadband exactly as they run live.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine.control_types import (
    Command,
    ControlSettings,
    CycleResult,
    Readings,
    SiteConfig,
    SiteStatus,
)
from ..engine.controller import AllocateFn, Controller
from ..engine.model import SITE_NODE
from ..engine.phase_watch import PhaseEventKind
from ..engine.site_view import site_view
from .heat_pump_plant import heat_pump_metrics, indoor_temps_c
from .metrics import Metrics
from .plan_metrics import PlanMetrics
from .plant import SimulatedSite
from .scenario import Event, Scenario, apply_load, apply_site
from .sim_commands import SimCommands

#: At most this many points per line are kept for `--plot`; longer runs are aggregated.
MAX_SERIES_POINTS = 4000
_STATUS_WEIGHT = {SiteStatus.OK: 0, SiteStatus.GRID_STALE: 1, SiteStatus.ERROR: 3}


@dataclass
class Series:
    """Values kept for the plot: one point per cycle, or per bucket of `stride` cycles.

    A bucket keeps the highest current of each phase and load (a breaker cares about peaks),
    the worst status, and the last value of everything else, so a week of 1 s steps still fits
    in a few thousand points and shows every overload.
    """

    t_s: list[float] = field(default_factory=list)
    grid_a: list[tuple[float, ...]] = field(default_factory=list)
    loads_a: dict[str, list[float]] = field(default_factory=dict)
    solar_w: list[float] = field(default_factory=list)
    surplus_w: list[float | None] = field(default_factory=list)
    soc_pct: list[float | None] = field(default_factory=list)
    battery_w: list[float] = field(default_factory=list)
    status: list[SiteStatus] = field(default_factory=list)
    breaker_a: list[float] = field(default_factory=list)
    circuits_a: dict[str, list[tuple[float, ...]]] = field(default_factory=dict)
    #: Per water heater, its tank temperature (a bucket keeps the last).
    tank_c: dict[str, list[float]] = field(default_factory=dict)
    #: Per climate boost, the house's indoor temperature (a bucket keeps the last).
    indoor_c: dict[str, list[float]] = field(default_factory=dict)
    stride: int = 1
    _in_bucket: int = 0

    def add(
        self,
        t_s: float,
        grid_a: tuple[float, ...],
        loads_a: dict[str, float],
        circuits_a: dict[str, tuple[float, ...]],
        status: SiteStatus,
        others: tuple[float, float | None, float | None, float, float],
    ) -> None:
        """One cycle; `others` = (solar_w, surplus_w, soc_pct, battery_w, breaker_a)."""
        solar_w, surplus_w, soc_pct, battery_w, breaker_a = others
        if self._in_bucket == 0:
            self.t_s.append(t_s)
            self.grid_a.append(grid_a)
            for load_id, amps in loads_a.items():
                self.loads_a.setdefault(load_id, []).append(amps)
            for circuit_id, amps in circuits_a.items():
                self.circuits_a.setdefault(circuit_id, []).append(amps)
            self.status.append(status)
            self.solar_w.append(solar_w)
            self.surplus_w.append(surplus_w)
            self.soc_pct.append(soc_pct)
            self.battery_w.append(battery_w)
            self.breaker_a.append(breaker_a)
        else:
            self.grid_a[-1] = _peak(self.grid_a[-1], grid_a)
            for load_id, amps in loads_a.items():
                values = self.loads_a[load_id]
                values[-1] = max(values[-1], amps)
            for circuit_id, amps in circuits_a.items():
                values_c = self.circuits_a[circuit_id]
                values_c[-1] = _peak(values_c[-1], amps)
            if _STATUS_WEIGHT.get(status, 2) > _STATUS_WEIGHT.get(self.status[-1], 2):
                self.status[-1] = status
            self.solar_w[-1] = solar_w
            self.surplus_w[-1] = surplus_w
            self.soc_pct[-1] = soc_pct
            self.battery_w[-1] = battery_w
            self.breaker_a[-1] = min(self.breaker_a[-1], breaker_a)
        self._in_bucket = (self._in_bucket + 1) % self.stride

    def add_tank_c(self, temps_c: dict[str, float]) -> None:
        """The tanks' temperatures of the cycle `add` just took (after it, same bucket)."""
        self._add_last(self.tank_c, temps_c)

    def add_indoor_c(self, temps_c: dict[str, float]) -> None:
        """The climate boosts' indoor temperatures of the cycle `add` just took."""
        self._add_last(self.indoor_c, temps_c)

    def _add_last(self, series: dict[str, list[float]], temps_c: dict[str, float]) -> None:
        for load_id, temp_c in temps_c.items():
            values = series.setdefault(load_id, [])
            if len(values) < len(self.t_s):
                values.append(temp_c)
            else:
                values[-1] = temp_c


def _peak(kept: tuple[float, ...], new: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(max(a, b) for a, b in zip(kept, new, strict=True))


@dataclass
class RunResult:
    scenario: Scenario
    final: dict[str, dict[str, Any]]
    metrics: dict[str, Any]
    steps: list[dict[str, Any]]
    messages: list[tuple[float, str]]
    series: Series

    def as_json(self) -> dict[str, Any]:
        return {"final": self.final, "metrics": self.metrics, "steps": self.steps}


def plant_of(scenario: Scenario, settings: ControlSettings | None = None) -> SiteConfig:
    settings = settings or ControlSettings()
    if scenario.plan.capacity_limit_w is not None:
        settings = replace(
            settings,
            capacity_limit_w=scenario.plan.capacity_limit_w,
            capacity_window_s=scenario.plan.capacity_window_s,
        )
    return SiteConfig(
        site=scenario.site.site,
        circuits=scenario.circuits,
        loads=tuple(spec.load for spec in scenario.loads),
        settings=settings,
    )


def _allocated_a(command: Command) -> float:
    return command.current_a if command.on else 0.0


def record_step(
    kept: tuple[list[dict[str, Any]] | None, Series | None],
    t_s: float,
    grid_a: tuple[float, ...],
    commands: dict[str, Command],
    circuits_a: dict[str, tuple[float, ...]],
    status: SiteStatus,
    plot_values: Callable[[], tuple[float, float | None, float | None, float, float]],
) -> None:
    """Keep one cycle for `--json` (steps) and for the plot (series), whichever is kept.

    The series takes every load of `series.loads_a` and the per-phase current of every
    circuit in `circuits_a`; `plot_values` is only called when the series is kept.
    """
    steps, series = kept
    loads_a = {load_id: round(_allocated_a(c), 3) for load_id, c in commands.items()}
    if steps is not None:
        steps.append({"t": t_s, "grid_a": [round(a, 3) for a in grid_a], "loads": loads_a})
    if series is not None:
        series.add(
            t_s,
            grid_a,
            {load_id: loads_a.get(load_id, 0.0) for load_id in series.loads_a},
            circuits_a,
            status,
            plot_values(),
        )


def final_of(commands: dict[str, Command]) -> dict[str, dict[str, Any]]:
    """Each load's last command, as `final` in the summary and `--json`."""
    return {
        load_id: {"allocated_a": round(_allocated_a(c), 3), "on": c.on}
        for load_id, c in commands.items()
    }


def run(
    scenario: Scenario,
    settings: ControlSettings | None = None,
    allocate_fn: AllocateFn | None = None,
    *,
    keep_steps: bool = True,
    keep_series: bool = True,
    max_series_points: int = MAX_SERIES_POINTS,
) -> RunResult:
    """Run the scenario; `keep_steps`/`keep_series` False keep memory flat for long runs.

    Without steps (`--json`) and series (`--plot`) only the metrics accumulate, and they do not
    grow with the duration: a 7-day run at `step_s: 1` needs no more memory than a short one.
    """
    controller = Controller(plant_of(scenario, settings), allocate_fn=allocate_fn)
    plant = SimulatedSite(
        site=scenario.site,
        loads={spec.load.id: spec for spec in scenario.loads},
        circuits=scenario.circuits,
        metered_circuits=scenario.metered_circuits,
    )
    modes = {spec.load.id: spec.load.mode.value for spec in scenario.loads}
    limits: dict[str, float | None] = {SITE_NODE: scenario.site.site.main_breaker_a}
    limits.update({c.id: c.limit_a for c in scenario.circuits})
    metrics = Metrics(limits_a=limits, phases=plant.phases)
    metrics.phase_remaps = {load_id: [] for load_id in modes}
    plan_metrics = PlanMetrics(scenario.plan)
    pending = list(scenario.timeline)
    commands: dict[str, Command] = {}
    step_count = max(1, round(scenario.duration_s / scenario.step_s))
    series = Series(
        loads_a={load_id: [] for load_id in modes},
        stride=max(1, math.ceil(step_count / max(1, max_series_points))),
    )
    steps: list[dict[str, Any]] = []
    messages: list[tuple[float, str]] = []
    commanded = SimCommands()

    for index in range(step_count):
        t_s = index * scenario.step_s
        while pending and pending[0].t_s <= t_s + 1e-9:
            event = pending.pop(0)
            controller_plant = _apply_event(event, plant, modes, controller)
            if event.commands or commanded.desk.names() or commanded.desk.distribution:
                messages.extend(
                    (t_s, line) for line in _command(event, commanded, plant, scenario.plan.start_s)
                )
                shaped = commanded.shaped(controller_plant or controller.plant, _configured(plant))
                controller_plant = shaped if shaped != controller.plant else None
            if controller_plant is not None:
                controller.replace_plant(controller_plant)
                metrics.limits_a[SITE_NODE] = controller_plant.site.main_breaker_a
        delivered_wh = dict(metrics.energy_wh)  # what each load drew before this step
        grid_a, nodes = _measure(plant, metrics, modes, scenario.step_s, t_s)
        clock_s = scenario.plan.start_s + t_s
        _measure_plan(plan_metrics, plant, delivered_wh, clock_s, grid_a, scenario.step_s)
        # Commands count on the wall clock, as their "HH:MM" ends were read (`parse_commands`).
        upkeep = commanded.upkeep(clock_s, _delivered(plant, scenario))
        messages.extend((t_s, line) for line in upkeep)
        live = commanded.modes(modes, clock_s)
        result = _decide(controller, plant, metrics, live, grid_a, t_s, (scenario, delivered_wh))
        commands = result.commands
        messages.extend((t_s, message) for message in result.messages)
        if not (keep_steps or keep_series):
            continue
        circuit_nodes = {c.id: nodes[c.id] for c in scenario.circuits}
        record_step(
            (steps if keep_steps else None, series if keep_series else None),
            t_s, grid_a, commands, circuit_nodes, result.status,
            lambda result=result: _plot_values(plant, result),
        )  # fmt: skip
        if keep_series and plant.tanks:
            series.add_tank_c({load_id: tank.temp_c for load_id, tank in plant.tanks.items()})
        if keep_series and plant.heat_pumps:
            series.add_indoor_c(indoor_temps_c(plant.heat_pumps))

    return RunResult(
        scenario=scenario,
        final=final_of(commands),
        metrics={
            **metrics.as_dict(),
            **heat_pump_metrics(plant.heat_pumps),
            **plan_metrics.as_dict(),
        },
        steps=steps,
        messages=messages,
        series=series,
    )


def _configured(plant: SimulatedSite) -> dict[str, Any]:
    """Each load as the scenario configures it now (the ranges a command may narrow)."""
    return {load_id: spec.load for load_id, spec in plant.loads.items()}


def _command(
    event: Event, commanded: SimCommands, plant: SimulatedSite, start_s: float
) -> list[str]:
    """An entry's live-mode changes (the select, by hand) and commands, as the hub sees them,
    on the wall clock (`start_s` + t)."""
    clock_s = start_s + event.t_s
    for load_id, change in event.loads.items():
        if "mode" in change:
            commanded.mode_changed(load_id, clock_s)
    return commanded.carry_out(event.commands, clock_s, _configured(plant))


def _delivered(plant: SimulatedSite, scenario: Scenario) -> dict[str, float]:
    """Each load's energy over the last step (Wh), as its own meter counts it for a boost."""
    voltage = plant.site.site.voltage_v
    return {
        load_id: sum(plant.draw_a(load_id)) * voltage * scenario.step_s / 3600.0
        for load_id in plant.loads
    }


def _measure(
    plant: SimulatedSite, metrics: Metrics, modes: dict[str, str], step_s: float, t_s: float
) -> tuple[tuple[float, ...], dict[str, tuple[float, ...]]]:
    """The currents the breakers carry this cycle (the devices applied the last commands),
    into the metrics: grid per phase, and per node."""
    plant.step_noise()
    plant.settle_battery(step_s)
    grid_a = plant.grid_a()
    nodes = plant.node_currents(grid_a)
    metrics.add_currents(nodes, step_s, t_s)
    voltage = plant.site.site.voltage_v
    metrics.add_grid_power(grid_a, voltage, step_s)
    for load_id in modes:
        power_w = sum(plant.draw_a(load_id)) * voltage
        metrics.add_load_energy(load_id, power_w, step_s)
    for load_id, tank in plant.tanks.items():
        min_c = tank.spec.settings.min_c
        missed = min_c is not None and tank.deadlines_in(t_s, step_s) > 0 and tank.temp_c < min_c
        power_w = sum(plant.draw_a(load_id)) * voltage
        metrics.add_tank(load_id, tank.temp_c, power_w, sum(grid_a) * voltage, step_s, missed)
    plant.settle_tanks(t_s, step_s)
    return grid_a, nodes


def _decide(
    controller: Controller,
    plant: SimulatedSite,
    metrics: Metrics,
    modes: dict[str, str],
    grid_a: tuple[float, ...],
    t_s: float,
    planned: tuple[Scenario, dict[str, float]] | None = None,
) -> CycleResult:
    """One controller cycle on what the hub would read; its commands go to the devices.

    With a scenario plan the controller's clock is the wall clock (`start` + t) and each
    charger's reading carries its goal, as a charger app's would.
    """
    readings = plant.readings(grid_a, modes, t_s)
    clock_s = t_s
    if planned is not None:
        scenario, delivered_wh = planned
        clock_s = scenario.plan.start_s + t_s
        readings = _with_goals(readings, scenario, delivered_wh)
    started = time.perf_counter()
    result = controller.step(clock_s, readings)
    metrics.add_cycle_ms((time.perf_counter() - started) * 1000.0)
    plant.apply(result.commands, site_view(result), t_s, modes)
    for load_id, command in result.commands.items():
        metrics.add_command(load_id, command.on)
    for event in result.phase_events:
        if event.kind is PhaseEventKind.REMAPPED and event.load_id is not None:
            remap = [t_s, list(event.configured), list(event.detected)]
            metrics.phase_remaps.setdefault(event.load_id, []).append(remap)
        if event.notify:
            metrics.notifications.append([t_s, event.message])
    return result


def _with_goals(readings: Readings, scenario: Scenario, delivered_wh: dict[str, float]) -> Readings:
    """Each load's reading with the goal its charger app would send (energy still needed)."""
    if not (scenario.plan.goals or scenario.plan.prices):
        return readings
    loads = dict(readings.loads)
    for load_id, reading in readings.loads.items():
        goal = scenario.plan.goal(load_id, delivered_wh.get(load_id, 0.0))
        if goal is not None:
            loads[load_id] = replace(reading, goal=goal)
    return replace(readings, loads=loads)


def _measure_plan(
    plan_metrics: PlanMetrics,
    plant: SimulatedSite,
    delivered_wh: dict[str, float],
    clock_s: float,
    grid_a: tuple[float, ...],
    step_s: float,
) -> None:
    """The plan's metrics for this step: import (cost, capacity) and each goal's progress."""
    plan_metrics.add_step(clock_s, sum(grid_a) * plant.site.site.voltage_v, step_s)
    for load_id in plan_metrics.plan.goals:
        plan_metrics.add_load(load_id, clock_s, delivered_wh.get(load_id, 0.0))


def _plot_values(
    plant: SimulatedSite, result: CycleResult
) -> tuple[float, float | None, float | None, float, float]:
    """(solar_w, surplus_w, soc_pct, battery_w, breaker_a) of one cycle, for `Series.add`."""
    return (
        plant.solar_out_w,
        result.decision.surplus_w if result.decision else None,
        plant.soc_pct,
        plant.battery_w,
        plant.site.site.main_breaker_a,
    )


def _apply_event(
    event: Event, plant: SimulatedSite, modes: dict[str, str], controller: Controller
) -> SiteConfig | None:
    """Change the plant; return a new controller `SiteConfig` when configuration changed.

    A load's `mode` goes to the live mode (as an HA `input_select` would), not into the
    configuration, so it takes the same path as a user's switch on the dashboard.
    """
    config = controller.plant
    new_config = config
    if event.site:
        new_site = apply_site(plant.site, event.site)
        battery_change = event.site.get("battery")
        if isinstance(battery_change, dict) and "soc" in battery_change:
            plant.soc_pct = new_site.battery.soc_pct if new_site.battery else None
        elif new_site.battery is not None and plant.soc_pct is None:
            plant.soc_pct = new_site.battery.soc_pct
        plant.site = new_site
        if new_site.site != config.site:
            new_config = replace(new_config, site=new_site.site)
    for load_id, change in event.loads.items():
        spec = apply_load(plant.loads[load_id], change, plant.site.site)
        plant.loads[load_id] = spec
        if "mode" in change:
            modes[load_id] = spec.load.mode.value
        configured = next(ld for ld in new_config.loads if ld.id == load_id)
        wanted = replace(spec.load, mode=configured.mode)
        if wanted != configured:
            loads = tuple(wanted if ld.id == load_id else ld for ld in new_config.loads)
            new_config = replace(new_config, loads=loads)
    for sensor, state in event.faults.items():
        if state == "inverted":
            plant.grid_inverted = True
        elif state == "ok" and sensor == "grid":
            plant.grid_inverted = False
        if state == "unavailable":
            plant.faults.add(sensor)
        else:
            plant.faults.discard(sensor)
    return new_config if new_config is not config else None
