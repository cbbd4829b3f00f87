"""The controller's sensor filtering: one cycle's raw readings as the engine may believe them.

The site's sensors are smoothed and held by `sensors.SiteSensors`; this module adds what the
controller knows of each load: its live mode, whether it is there and resting, and how much of
its meter's draw may count as its own (`trust`), plus the meters of circuits that have none of
their own as their loads' meters show them. What comes out (`CycleInputs`) is the snapshot the
engine decides from and what the time rules need of each load.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, replace

from .circuits import CircuitTree
from .control_types import REST_STATES, LoadReading, LoadState, Readings, Rest, SiteConfig
from .draws import draw_by_node, measured_draw, unmetered_circuits
from .guard import node_name
from .model import SITE_NODE, SITE_PHASES, BatteryLevels, Load, LoadKind, Mode, Snapshot
from .plausible import load_draw_max_a, rated_a
from .sensors import SiteFrame, SiteSensors, WarnOnce
from .targets import EPS_A, Target
from .timers import LoadMemory
from .trust import in_force_a, trusted_draw


@dataclass(frozen=True)
class CycleInputs:
    """One cycle's readings as filtered: what the engine sees and what the rules need.

    `loads` are the configured loads with this cycle's live mode, connection and trusted draw;
    `readings` each load's raw reading (None when its app sent none); `not_obeying` the
    reason of each load that does not obey its command; `rest` the rests the controller honours.
    """

    loads: tuple[Load, ...]
    readings: dict[str, LoadReading | None]
    not_obeying: dict[str, str]
    rest: dict[str, Rest]
    frame: SiteFrame
    snapshot: Snapshot


class InputFilter:
    """Filters each cycle's readings; remembers what filtering needs across cycles.

    It shares the controller's per-load `LoadMemory` (the draw held, obedience, live mode).
    """

    def __init__(self, plant: SiteConfig, memory: dict[str, LoadMemory]) -> None:
        self.plant = plant
        self.memory = memory
        self.tree = CircuitTree(plant.circuits)
        self.sensors = SiteSensors(plant)
        self.started_s: float | None = None
        self._draw_glitches = WarnOnce()
        # The state each load rested in last cycle (see `control_types.Rest`).
        self._rested: dict[str, LoadState] = {}

    def adopt(self, plant: SiteConfig, memory: dict[str, LoadMemory]) -> None:
        """Use a new configuration; the site's filters start over only if its phases changed."""
        phases_changed = plant.site.phases != self.plant.site.phases
        self.plant = plant
        self.memory = memory
        self.tree = CircuitTree(plant.circuits)
        if phases_changed:
            self.sensors = SiteSensors(plant, self.started_s)
        else:
            self.sensors.plant = plant

    def grid_stale_for_s(self, now_s: float) -> float:
        """Seconds since the grid sensor last had a valid value (or since the first cycle)."""
        seen_s = self.sensors.grid_seen_s
        if seen_s is None:
            seen_s = now_s if self.started_s is None else self.started_s
        return now_s - seen_s

    def read(
        self,
        now_s: float,
        readings: Readings,
        levels: BatteryLevels | None,
        warnings: list[str],
    ) -> CycleInputs:
        """Filter one cycle's readings; `levels` are the engine's battery levels of last cycle."""
        if self.started_s is None:
            self.started_s = now_s
        raw_loads = readings.loads if isinstance(readings.loads, dict) else {}
        load_readings = {ld.id: raw_loads.get(ld.id) for ld in self.plant.loads}
        not_obeying: dict[str, str] = {}
        rest: dict[str, Rest] = {}
        loads = tuple(
            self._engine_load(now_s, ld, load_readings[ld.id], not_obeying, rest, warnings)
            for ld in self.plant.loads
        )
        phases = SITE_PHASES[: self.plant.site.phases]
        voltage_v = self.plant.site.voltage_v
        draw_a, draw_w = draw_by_node(loads, self.tree, phases, voltage_v)
        frame = self.sensors.read(now_s, readings, draw_a, draw_w, warnings)
        frame = self._with_load_meters(frame, loads, draw_a, phases, voltage_v)
        snapshot = Snapshot(
            site=frame.site,
            loads=loads,
            circuits=self.plant.circuits,
            grid_a=frame.grid_a,
            solar_w=frame.solar_w,
            battery_soc_pct=frame.battery_soc_pct,
            battery_power_w=frame.battery_power_w,
            # allocate() applies SoC hysteresis itself from the previous cycle's levels; a
            # stale SoC starts over from "no threshold reached".
            battery_levels=None if frame.soc_stale else levels,
            circuit_background_a=frame.circuit_background_a,
            circuit_background_w=frame.circuit_background_w,
        )
        return CycleInputs(loads, load_readings, not_obeying, rest, frame, snapshot)

    def hold_while_blind(
        self, loads: tuple[Load, ...], targets: dict[str, Target], blind_nodes: frozenset[str]
    ) -> dict[str, Target]:
        """No load behind a blind meter (`SiteFrame.blind_nodes`) rises above its command.

        A blind meter's background is held at least as high as its last valid sample repeated
        (`SiteSensors._update_background`), so it leaves no more room in total. That is not
        enough per load: the allocation is not monotone in the room (with less of it a plug no
        longer fits and its share goes to a car, which then rises past what the clean repeat
        gives it). Nothing measured says a raise is safe while the meter is blind, so none is
        made: starts and ramps wait for the next valid sample; cuts still apply.
        """
        if not blind_nodes:
            return targets
        voltage_v = self.plant.site.voltage_v
        targets = dict(targets)
        for load in loads:
            blind = blind_nodes.intersection(self.tree.path(load.circuit))
            if not blind:
                continue
            mem = self.memory[load.id]
            held_a = in_force_a(
                mem.written_a, mem.written_on, mem.ever_written, rated_a(load, voltage_v)
            )
            if targets[load.id].target_a <= held_a + EPS_A:
                continue
            meters = ", ".join(sorted(node_name(node) for node in blind))
            reason = f"no raise while the {meters} meter has no valid sample"
            targets[load.id] = targets[load.id].capped(held_a, reason)
        return targets

    def _engine_load(
        self,
        now_s: float,
        cfg: Load,
        reading: LoadReading | None,
        not_obeying: dict[str, str],
        rest: dict[str, Rest],
        warnings: list[str],
    ) -> Load:
        """The load as the engine sees it this cycle: live mode, connection and trusted draw."""
        mem = self.memory[cfg.id]
        if reading is not None and reading.mode is not None:
            # An unknown input_select option must not stop every load: keep the last mode.
            with suppress(ValueError):
                mem.mode = Mode(reading.mode)
        mem.measured_a = None
        if reading is None or not reading.available:
            # No report from the load app: it gets nothing, and its draw stays in the background.
            return replace(cfg, mode=Mode.OFF, draw_a=None)
        draw = self._own_draw(now_s, cfg, mem, reading, not_obeying, warnings)
        resting = self._honoured_rest(cfg, reading, rest)
        return replace(
            cfg,
            mode=mem.mode,
            # A resting load gets nothing, like one not connected; its draw still counts as
            # its own (up to what is in force, see `trust`).
            connected=bool(reading.connected) and resting is None,
            drawing=bool(reading.drawing),
            draw_a=draw,
        )

    def _own_draw(
        self,
        now_s: float,
        cfg: Load,
        mem: LoadMemory,
        reading: LoadReading,
        not_obeying: dict[str, str],
        warnings: list[str],
    ) -> tuple[float, ...] | None:
        """What may be subtracted from the grid as the load's own draw (see `trust`).

        The measured draw, at most the command in force plus `draw_tolerance_a`. A load not
        obeying for long enough is recorded in `not_obeying` with its reason.
        """
        settings = self.plant.settings
        voltage_v = self.plant.site.voltage_v
        allowed_a = in_force_a(
            mem.written_a, mem.written_on, mem.ever_written, rated_a(cfg, voltage_v)
        )
        measured = measured_draw(
            now_s,
            cfg,
            reading.draw_a,
            mem,
            load_draw_max_a(cfg, voltage_v, allowed_a),
            settings.grid_stale_timeout_s,
            self._draw_glitches,
            warnings,
        )
        mem.measured_a = measured
        reason, began = mem.obedience.update(now_s, measured, allowed_a, settings.draw_tolerance_a)
        if reason is not None:
            not_obeying[cfg.id] = reason
        if began:
            warnings.append(
                f"load '{cfg.id}' does not obey its command: {reason}; "
                "the excess counts as house load"
            )
        if measured is None:
            return None
        trusted_a = mem.obedience.trusted_allowance_a(allowed_a)
        return trusted_draw(measured, trusted_a, settings.draw_tolerance_a)

    def _with_load_meters(
        self,
        frame: SiteFrame,
        loads: tuple[Load, ...],
        trusted_a: dict[str, dict[str, float]],
        phases: tuple[str, ...],
        voltage_v: float,
    ) -> SiteFrame:
        """Circuits without a meter of their own, as their loads' meters show them.

        See `draws.unmetered_circuits`: a member's excess over its command limits its circuit
        too, and the members' metered total is the circuit's measured current for the guard.
        A circuit meter, where there is one, wins.
        """
        measured_loads = tuple(replace(ld, draw_a=self.memory[ld.id].measured_a) for ld in loads)
        measured_a, _ = draw_by_node(measured_loads, self.tree, phases, voltage_v)
        metered = {node for node, _ in frame.measured_a if node != SITE_NODE}
        view = unmetered_circuits(
            self.plant.circuits, trusted_a, measured_a, metered, phases, voltage_v
        )
        if not view.background_a and not view.measured_a:
            return frame
        return replace(
            frame,
            measured_a={**view.measured_a, **frame.measured_a},
            circuit_background_a={**view.background_a, **frame.circuit_background_a},
            circuit_background_w={**view.background_w, **frame.circuit_background_w},
        )

    def _honoured_rest(self, cfg: Load, reading: LoadReading, rest: dict[str, Rest]) -> Rest | None:
        """The reading's rest if the controller acts on it; notes it in `rest`.

        A satisfied switch counts only while our command keeps it on: one we switched off is
        not resting, it is off. A car leaving `finished` or `idle` starts a new session, so
        the min off time of the rest does not delay the min it now asks for.
        """
        mem = self.memory[cfg.id]
        honoured = reading.rest
        if not (isinstance(honoured, Rest) and honoured.state in REST_STATES and reading.connected):
            honoured = None
        kept_on = cfg.kind is LoadKind.PLUG and mem.on and mem.written_on
        if honoured is not None and honoured.state is LoadState.SATISFIED and not kept_on:
            honoured = None
        before = self._rested.pop(cfg.id, None)
        if honoured is None:
            if before in (LoadState.FINISHED, LoadState.IDLE):
                mem.new_session()
            return None
        self._rested[cfg.id] = honoured.state
        rest[cfg.id] = honoured
        return honoured
