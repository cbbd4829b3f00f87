"""Replays a recorded period: what the controller would have done with the house as it was.

Every cycle (`step_s`):
1. the recording is advanced to the cycle's time and read by the hub's own `SiteReader` (units,
   unavailable values, voltage hold) and, per load, by `RecordedLoad`;
2. the house per site phase is the recorded grid minus the recorded draw of the managed loads;
   solar and the battery (their output is already in the recorded grid) follow the recording.
   A grid phase the recording lacks keeps the last house, and reaches the controller as
   unavailable, so it holds and, past `grid_stale_timeout_s`, falls back as it would live;
3. each car is plugged in when its recorded session says so; the simulator's plant
   (`sim.plant.SimulatedSite`) then carries house + what the devices take of the last commands;
4. the controller (`engine.controller.Controller`, the hub's) decides on what the hub would read,
   and the plant applies its commands. The recorded day is measured alongside with the same
   `Metrics`, so "recorded" and "Load Juggler" compare like with like.
A cycle in which no record arrived reuses the last reading of the recording (nothing in it can
have changed), so a week of 5 s cycles costs little more than the controller's own time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

from ..config import parse_mode
from ..engine.control_types import Command, CycleResult, Readings, SiteConfig
from ..engine.controller import Controller
from ..engine.model import SITE_NODE
from ..engine.node_totals import line_terms, node_totals
from ..engine.smoothing import finite_or_none
from ..sim.metrics import Metrics
from ..sim.plant import SimulatedSite
from ..sim.runner import MAX_SERIES_POINTS, RunResult, Series, final_of, record_step
from ..sim.scenario import LoadSpec, Scenario, SiteSpec
from ..site_readings import Episodes, SiteReader
from .recorded_loads import Recorded, RecordedLoad
from .setup import ReplaySite
from .sources import Record
from .states import EntityCounts, RecordedStates


@dataclass
class ReplayResult:
    """The replayed run (as the simulator reports it) and the recorded day, measured alike."""

    run: RunResult
    recorded: dict[str, Any]
    history: dict[str, dict[str, float | int]]
    start_s: float
    #: Recorded solar production over the period; the same in both, as solar follows the record.
    solar_wh: float = 0.0
    #: Import cost at the recorded price (`--price-entity`), recorded and replayed; None without.
    cost: tuple[float, float] | None = None

    def self_consumption(self, export_wh: float) -> float | None:
        """Share of the solar energy not exported (None without solar): export and solar are
        both net of the whole house, so a battery's discharge exported would count against it."""
        if self.solar_wh <= 0:
            return None
        return max(0.0, 1.0 - export_wh / self.solar_wh)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.run.as_json(),
            "recorded": self.recorded,
            "history": self.history,
            "start": self.start_s,
            "solar_wh": round(self.solar_wh, 3),
            "cost": None
            if self.cost is None
            else {"recorded": round(self.cost[0], 4), "replayed": round(self.cost[1], 4)},
        }


class _Recording:
    """The recording as read at the current cycle: site readings, each load, the house."""

    def __init__(self, site: ReplaySite, records: list[Record], phases: tuple[str, ...]) -> None:
        hub = site.hub
        self.phases = phases
        self.messages: list[tuple[float, str]] = []
        self.now_s = 0.0
        self.states = RecordedStates(records)
        episodes = Episodes(lambda line, _level: self.messages.append((self.now_s, line)))
        self.reader = SiteReader(hub, self.states.full_state, episodes)
        self.loads = {item.load.id: RecordedLoad(item) for item in site.loads}
        self.engine_loads = {item.load.id: item.load for item in site.loads}
        self.mode_selects = {item.load.id: item.settings.mode_select for item in site.loads}
        sensors = hub.sensors
        self.watched = [*sensors.grid.entities]
        self.watched += [e for e in (sensors.solar_power, sensors.battery_soc) if e is not None]
        self.site_now = Readings()
        self.seen: dict[str, Recorded] = {}
        self.modes: dict[str, str] = {}
        self.house_a = [0.0] * len(phases)
        self.grid_a = [0.0] * len(phases)
        self._voltage_v: float | None = None

    def advance(self, epoch_s: float, t_s: float, step_s: float) -> float:
        """Read the recording at `epoch_s`; returns the voltage W/A conversions use."""
        self.now_s = t_s
        changed = self.states.advance(epoch_s)
        self.states.count_unavailable(self.watched, step_s)
        measured_v, voltage = self.reader.cycle_voltage(t_s)
        if not changed and voltage == self._voltage_v and self.seen:
            return voltage
        self._voltage_v = voltage
        self.site_now = self.reader.read(voltage, measured_v)
        per_phase = dict.fromkeys(self.phases, 0.0)
        for load_id, recorded in self.loads.items():
            seen = recorded.read(self.states, voltage)
            self.seen[load_id] = seen
            for phase, amps in line_terms(self.engine_loads[load_id], seen.line_a):
                if phase in per_phase:
                    per_phase[phase] += amps
            self.messages.extend((t_s, line) for line in recorded.unit_problems)
            recorded.unit_problems.clear()
            mode = parse_mode(self.states.state(self.mode_selects[load_id]))
            if mode is not None:
                self.modes[load_id] = mode.value
        grid = self.site_now.grid_a or (None,) * len(self.phases)
        for i, phase in enumerate(self.phases):
            if grid[i] is not None:
                self.grid_a[i] = float(grid[i])  # type: ignore[arg-type]
                self.house_a[i] = self.grid_a[i] - per_phase[phase]
        return voltage


def replay(
    site: ReplaySite,
    records: list[Record],
    start_s: float,
    end_s: float,
    step_s: float = 5.0,
    *,
    keep_steps: bool = False,
    keep_series: bool = False,
    price_entity: str | None = None,
) -> ReplayResult:
    """Replay `records` from epoch `start_s` to `end_s` in cycles of `step_s`.

    `price_entity`: a recorded price per kWh of import; the import of each cycle, recorded and
    replayed, is costed at the price of that moment (an unavailable price holds the last one).
    """
    hub = site.hub
    loads = tuple(item.load for item in site.loads)
    site_spec = SiteSpec(site=hub.site, solar_w=0.0, house_a=(0.0,) * hub.site.phases, battery=None)
    scenario = Scenario(
        name=f"{site.source}: replay",
        step_s=step_s,
        duration_s=end_s - start_s,
        site=site_spec,
        circuits=hub.circuits,
        loads=tuple(LoadSpec(load=load, connected=False) for load in loads),
        timeline=(),
    )
    plant_config = SiteConfig(
        site=hub.site, circuits=hub.circuits, loads=loads, settings=hub.control
    )
    controller = Controller(plant_config)
    plant = SimulatedSite(
        site=site_spec,
        loads={spec.load.id: spec for spec in scenario.loads},
        circuits=hub.circuits,
        metered_circuits=frozenset(cid for cid, m in hub.meters.items() if m.current is not None),
    )
    phases = plant.phases
    limits: dict[str, float | None] = {SITE_NODE: hub.site.main_breaker_a}
    limits.update({c.id: c.limit_a for c in hub.circuits})
    metrics = Metrics(limits_a=dict(limits), phases=phases)
    recorded_metrics = Metrics(limits_a=dict(limits), phases=phases)
    recording = _Recording(site, records, phases)
    modes = {load.id: load.mode.value for load in loads}
    step_count = max(1, round((end_s - start_s) / step_s))
    series = Series(
        loads_a={load.id: [] for load in loads},
        stride=max(1, math.ceil(step_count / MAX_SERIES_POINTS)),
    )
    steps: list[dict[str, Any]] = []
    messages = recording.messages
    commands: dict[str, Command] = {}
    power_meters = [cid for cid, meter in hub.meters.items() if meter.power is not None]
    solar_wh = 0.0
    price = _Price(recording.states, price_entity)
    cost = [0.0, 0.0]

    for index in range(step_count):
        t_s = index * step_s
        voltage = recording.advance(start_s + t_s, t_s, step_s)
        modes.update(recording.modes)
        _measure_recorded(recording, recorded_metrics, plant, voltage, step_s, t_s)
        solar_wh += (recording.site_now.solar_w or 0.0) * step_s / 3600.0
        per_kwh = price.now()
        _follow_recording(plant, recording)
        plant.settle_battery(step_s)
        grid_a = plant.grid_a()
        nodes = plant.node_currents(grid_a)
        metrics.add_currents(nodes, step_s, t_s)
        metrics.add_grid_power(grid_a, voltage, step_s)
        for i, amps in enumerate((recording.grid_a, grid_a)):
            cost[i] += max(0.0, sum(amps) * voltage) * step_s / 3.6e6 * per_kwh
        for load in loads:
            metrics.add_load_energy(load.id, sum(plant.draw_a(load.id)) * voltage, step_s)

        site_now = recording.site_now
        readings = _hub_readings(site_now, plant.readings(grid_a, modes, t_s), grid_a)
        if power_meters:
            power_w = {cid: sum(nodes[cid]) * voltage for cid in power_meters}
            readings = replace(readings, circuit_power_w=power_w)
        result = _decide(controller, readings, metrics, t_s)
        plant.apply(result.commands)
        commands = result.commands
        messages.extend((t_s, message) for message in result.messages)
        if not (keep_steps or keep_series):
            continue
        circuit_nodes = {c.id: nodes[c.id] for c in hub.circuits}
        record_step(
            (steps if keep_steps else None, series if keep_series else None),
            t_s, grid_a, commands, circuit_nodes, result.status,
            lambda site_now=site_now, result=result: (
                site_now.solar_w or 0.0,
                result.decision.surplus_w if result.decision else None,
                site_now.battery_soc_pct,
                site_now.battery_power_w or 0.0,
                hub.site.main_breaker_a,
            ),
        )  # fmt: skip

    final = final_of(commands)
    run = RunResult(scenario, final, metrics.as_dict(), steps, messages, series)
    counts = recording.states.counts
    history = {entity: counts.get(entity, EntityCounts()).as_dict() for entity in counts}
    for entity in recording.watched:
        history.setdefault(entity, EntityCounts().as_dict())
    return ReplayResult(
        run=run,
        recorded=recorded_metrics.as_dict(),
        history=dict(sorted(history.items())),
        start_s=start_s,
        solar_wh=solar_wh,
        cost=None if price_entity is None else (cost[0], cost[1]),
    )


def _follow_recording(plant: SimulatedSite, recording: _Recording) -> None:
    """Put the recorded house and each car's recorded session into the plant."""
    for load_id, seen in recording.seen.items():
        spec = plant.loads[load_id]
        now = (seen.connected, seen.wants, seen.limit_a)
        if (spec.connected, spec.draws, spec.draw_limit_a) != now:
            plant.loads[load_id] = replace(
                spec, connected=seen.connected, draws=seen.wants, draw_limit_a=seen.limit_a
            )
    house_a = tuple(recording.house_a)
    if house_a != plant.site.house_a:
        plant.site = replace(plant.site, house_a=house_a)


def _hub_readings(site_now: Readings, own: Readings, grid_a: tuple[float, ...]) -> Readings:
    """What the hub would read: the recorded solar, battery, voltage and import cap; the grid
    meter as it would read with the replayed loads (unavailable where the recording was); the
    loads' and circuit meters' readings from the plant."""
    recorded_grid = site_now.grid_a or (None,) * len(grid_a)
    return replace(
        site_now,
        grid_a=tuple(None if g is None else a for g, a in zip(recorded_grid, grid_a, strict=True)),
        loads=own.loads,
        circuit_a=own.circuit_a,
    )


def _measure_recorded(
    recording: _Recording,
    metrics: Metrics,
    plant: SimulatedSite,
    voltage: float,
    step_s: float,
    t_s: float,
) -> None:
    """The recorded day, measured like the replay: breakers (circuits from the recorded load
    draws), import/export from the recorded grid, energy and starts per load."""
    shares = []
    for load_id, seen in recording.seen.items():
        load = recording.engine_loads[load_id]
        shares.append((load.circuit, line_terms(load, seen.line_a), 0.0))
        metrics.add_load_energy(load_id, sum(seen.line_a) * voltage, step_s)
        metrics.add_command(load_id, seen.on)
    nodes = {SITE_NODE: tuple(recording.grid_a)}
    if plant.circuits:
        totals = node_totals(shares, plant.tree, plant.phases).amps
        for circuit in plant.circuits:
            nodes[circuit.id] = tuple(totals[circuit.id][p] for p in plant.phases)
    metrics.add_currents(nodes, step_s, t_s)
    metrics.add_grid_power(tuple(recording.grid_a), voltage, step_s)


class _Price:
    """The recorded price per kWh now; 0 until it is first known, then its last value."""

    def __init__(self, states: RecordedStates, entity: str | None) -> None:
        self.states = states
        self.entity = entity
        self.value = 0.0

    def now(self) -> float:
        if self.entity is None:
            return 0.0
        number = finite_or_none(self.states.state(self.entity))
        if number is not None:
            self.value = number
        return self.value


def _decide(
    controller: Controller, readings: Readings, metrics: Metrics, t_s: float
) -> CycleResult:
    """One controller cycle, timed as the simulator times it."""
    started = time.perf_counter()
    result = controller.step(t_s, readings)
    metrics.add_cycle_ms((time.perf_counter() - started) * 1000.0)
    for load_id, command in result.commands.items():
        metrics.add_command(load_id, command.on)
    return result
