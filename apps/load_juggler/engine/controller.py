"""The cycle controller: raw readings in, one command per load out, every cycle.

The engine (`allocate`) answers "what may each load use right now?" from one snapshot. This
controller adds what a single snapshot cannot know: filtered sensors, a stale grid sensor,
start/stop timers, ramps and a write deadband. It is driven only by the clock passed to `step`,
so the hub, the simulator and the tests replay it exactly.

Safety order, strongest first:
1. a command never exceeds the engine's allocation for that cycle; holding a load at its minimum
   against the engine's wish is only done after a second engine run with that load forced to its
   minimum, whose allocation is then the ceiling for every load;
2. cuts are immediate and always written; timers may delay a raise or a start, never a cut;
3. what the meters measure wins over what was predicted: a load's own draw is trusted only up to
   its command (`trust`), implausible readings are glitches (`plausible`, `sensors`), and a
   measured overload is cut by the guard whatever the timers say (`guard`);
4. any exception inside a cycle commands every load to 0 and reports `SiteStatus.ERROR`.

Status precedence: ERROR > OVERLOAD > GRID_STALE > OK.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace

from .allocate import allocate
from .circuits import CircuitTree
from .control_types import (
    REST_STATES,
    Command,
    CycleResult,
    LoadReading,
    LoadState,
    Overload,
    Plant,
    Readings,
    Rest,
    SiteStatus,
)
from .draws import draw_by_node, measured_draw, unmetered_circuits
from .errors import ConfigError
from .guard import GUARD_HOLD_S, GuardLoad, OverloadWatch, plan_cuts
from .model import (
    SITE_NODE,
    SITE_PHASES,
    BatteryLevels,
    Decision,
    Load,
    LoadAllocation,
    LoadKind,
    Mode,
    Snapshot,
)
from .plausible import load_draw_max_a, rated_a
from .sensors import SiteFrame, SiteSensors, WarnOnce
from .smoothing import finite_or_none
from .timers import LoadMemory
from .trust import in_force_a, trusted_draw
from .validate import validate

AllocateFn = Callable[[Snapshot], Decision]

#: Modes whose starts and stops follow the surplus and so get start and stop delays.
SURPLUS_MODES = frozenset({Mode.SOLAR_ONLY, Mode.EXCESS})
#: Modes whose cars keep their pause budget; after it a car holds at min instead of stopping.
BUDGET_MODES = frozenset({Mode.SOLAR_ONLY})

_EPS_A = 1e-6
#: Engine-decision reason of a load left out of the allocation while in its min off time.
REASON_MIN_OFF = "min off time"


def validate_plant(plant: Plant) -> None:
    """Reject a bad configuration when it is loaded, not in the middle of a cycle."""
    validate(plant.site, plant.circuits, plant.loads)


@dataclass(frozen=True)
class _Plan:
    """What the time rules want for one load before the ceiling and the ramp are applied."""

    # "follow" (engine's value), "hold" (min if physically possible), "off", "keep" (what is
    # in force, nothing reserved: a satisfied switch)
    action: str
    state: LoadState
    reason: str
    pause: bool = False  # a stop by us for lack of surplus: counts against the pause budget


@dataclass(frozen=True)
class _Target:
    """One load's command before the deadband: `ceiling_a` is what the limits allow now."""

    target_a: float
    ceiling_a: float
    state: LoadState
    reason: str
    pause: bool = False


class Controller:
    """Turns each cycle's readings into commands; see the module docstring for the rules.

    Modes: `LoadReading.mode`, when given, is the live mode (an `input_select`) and is remembered;
    `set_mode` does the same from code. Either takes effect in the step that sees it.
    """

    def __init__(self, plant: Plant, allocate_fn: AllocateFn | None = None) -> None:
        validate_plant(plant)
        self._allocate: AllocateFn = allocate_fn or allocate
        self._plant = plant
        self._memory: dict[str, LoadMemory] = {
            ld.id: LoadMemory(mode=ld.mode) for ld in plant.loads
        }
        self._tree = CircuitTree(plant.circuits)
        self._started_s: float | None = None
        self._sensors = SiteSensors(plant)
        self._last_now_s: float | None = None
        self._status = SiteStatus.OK
        self._stale = False
        self._levels: BatteryLevels | None = None
        self._watch = OverloadWatch()
        self._draw_glitches = WarnOnce()
        # Loads resting this cycle (see `control_types.Rest`) and the state each rested in last.
        self._rest: dict[str, Rest] = {}
        self._rested: dict[str, LoadState] = {}

    # ------------------------------------------------------------------ configuration at runtime

    @property
    def plant(self) -> Plant:
        return self._plant

    def mode_of(self, load_id: str) -> Mode:
        return self._memory_of(load_id).mode

    def set_mode(self, load_id: str, mode: Mode | str) -> None:
        self._memory_of(load_id).mode = Mode(mode)

    def replace_plant(self, plant: Plant) -> None:
        """Adopt a new configuration; loads that keep their id keep their timers and mode.

        A load whose configured mode changed takes the new configured mode, otherwise the live
        mode (from `set_mode` or readings) survives the reload.
        """
        validate_plant(plant)
        old_cfg = {ld.id: ld for ld in self._plant.loads}
        memory: dict[str, LoadMemory] = {}
        for load in plant.loads:
            mem = self._memory.get(load.id)
            if mem is None:
                mem = LoadMemory(mode=load.mode)
            elif old_cfg[load.id].mode != load.mode:
                mem.mode = load.mode
            memory[load.id] = mem
        phases_changed = plant.site.phases != self._plant.site.phases
        self._plant = plant
        self._memory = memory
        self._tree = CircuitTree(plant.circuits)
        if phases_changed:
            self._sensors = SiteSensors(plant, self._started_s)
        else:
            self._sensors.plant = plant

    def replace_load(self, load: Load) -> None:
        """Add a load, or change one in place (same id)."""
        loads = [ld for ld in self._plant.loads if ld.id != load.id]
        index = next((i for i, ld in enumerate(self._plant.loads) if ld.id == load.id), len(loads))
        loads.insert(index, load)
        self.replace_plant(replace(self._plant, loads=tuple(loads)))

    def remove_load(self, load_id: str) -> None:
        self._memory_of(load_id)
        loads = tuple(ld for ld in self._plant.loads if ld.id != load_id)
        self.replace_plant(replace(self._plant, loads=loads))

    # ------------------------------------------------------------------------------- the cycle

    def step(self, now_s: float, readings: Readings) -> CycleResult:
        """One cycle. Never raises: any failure yields the safe state (all loads at 0)."""
        try:
            result = self._step(now_s, readings)
        except Exception as err:
            return self._safe_state(now_s, err)
        return result

    def _step(self, now_s: float, readings: Readings) -> CycleResult:
        now_s = float(now_s)
        if not math.isfinite(now_s):
            raise ValueError(f"clock value {now_s!r} is not a finite number")
        messages: list[str] = []
        warnings: list[str] = []
        if self._status is SiteStatus.ERROR:
            messages.append("engine recovered: normal control resumed")
        dt_s = 0.0 if self._last_now_s is None else max(0.0, now_s - self._last_now_s)
        if self._started_s is None:
            self._started_s = now_s
        self._last_now_s = now_s

        settings = self._plant.settings
        raw_loads = readings.loads if isinstance(readings.loads, dict) else {}
        load_readings = {ld.id: raw_loads.get(ld.id) for ld in self._plant.loads}
        not_obeying: dict[str, str] = {}
        self._rest = {}
        loads = tuple(
            self._engine_load(now_s, ld, load_readings[ld.id], not_obeying, warnings)
            for ld in self._plant.loads
        )
        phases = SITE_PHASES[: self._plant.site.phases]
        voltage_v = self._plant.site.voltage_v
        draw_a, draw_w = draw_by_node(loads, self._tree, phases, voltage_v)
        frame = self._sensors.read(now_s, readings, draw_a, draw_w, warnings)
        frame = self._with_load_meters(frame, loads, draw_a, phases, voltage_v)
        snapshot = Snapshot(
            site=frame.site,
            loads=loads,
            circuits=self._plant.circuits,
            grid_a=frame.grid_a,
            solar_w=frame.solar_w,
            battery_soc_pct=frame.battery_soc_pct,
            battery_power_w=frame.battery_power_w,
            # allocate() applies SoC hysteresis itself from the previous cycle's levels; a
            # stale SoC starts over from "no threshold reached".
            battery_levels=None if frame.soc_stale else self._levels,
            circuit_background_a=frame.circuit_background_a,
            circuit_background_w=frame.circuit_background_w,
        )

        grid_seen_s = self._sensors.grid_seen_s
        stale_for_s = now_s - (grid_seen_s if grid_seen_s is not None else self._started_s)
        stale = stale_for_s >= settings.grid_stale_timeout_s
        if stale and not self._stale:
            messages.append(
                f"grid current sensor has no valid value for {stale_for_s:.0f} s: charging cars "
                "held at minimum where the last known headroom allows it, other loads off"
            )
        elif not stale and self._stale:
            messages.append("grid current sensor is back: normal control resumed")

        overloads, began = self._watch.observe(
            now_s, self._limits(), frame.measured_a, settings.grid_stale_timeout_s
        )
        for overload in began:
            warnings.append(
                f"measured overload: {_node_name(overload.node)} phase {overload.phase} carries "
                f"{overload.measured_a:.1f} A, limit {overload.limit_a:.1f} A"
            )

        decision = self._allocate(snapshot)
        self._levels = decision.battery_levels
        if stale:
            targets, decision = self._stale_targets(loads, load_readings, snapshot)
        else:
            targets, decision, snapshot = self._normal_targets(
                now_s, dt_s, loads, load_readings, snapshot, decision
            )
            targets = self._hold_while_blind(loads, targets, frame.blind_nodes)
            decision = self._rest_reasons(decision)
        acting = self._watch.acting(overloads, settings.overload_grace_s)
        targets = self._guard(now_s, loads, load_readings, targets, acting)
        commands = {}
        for load in loads:
            command = self._emit(now_s, load, self._memory[load.id], targets[load.id])
            reason = not_obeying.get(load.id)
            if reason is not None:
                command = replace(command, state=LoadState.NOT_OBEYING, reason=reason)
            commands[load.id] = command

        status = SiteStatus.OK
        if overloads:
            status = SiteStatus.OVERLOAD
        elif stale:
            status = SiteStatus.GRID_STALE
        self._stale = stale
        self._status = status
        return CycleResult(
            now_s=now_s,
            status=status,
            commands=commands,
            decision=decision,
            messages=tuple(messages),
            snapshot=snapshot,
            overloads=tuple(overloads),
            warnings=tuple(warnings),
        )

    # --------------------------------------------------------------------------- snapshot input

    def _engine_load(
        self,
        now_s: float,
        cfg: Load,
        reading: LoadReading | None,
        not_obeying: dict[str, str],
        warnings: list[str],
    ) -> Load:
        """The load as the engine sees it this cycle: live mode, connection and trusted draw.

        `draw_a` is what may be subtracted from the grid as the load's own (see `trust`): the
        measured draw, at most the command in force plus `draw_tolerance_a`. A load not obeying
        for long enough is recorded in `not_obeying` with its reason.
        """
        mem = self._memory[cfg.id]
        if reading is not None and reading.mode is not None:
            # An unknown input_select option must not stop every load: keep the last mode.
            with suppress(ValueError):
                mem.mode = Mode(reading.mode)
        mem.measured_a = None
        if reading is None or not reading.available:
            # No report from the load app: it gets nothing, and its draw stays in the background.
            return replace(cfg, mode=Mode.OFF, draw_a=None)
        settings = self._plant.settings
        allowed_a = in_force_a(
            mem.written_a,
            mem.written_on,
            mem.ever_written,
            rated_a(cfg, self._plant.site.voltage_v),
        )
        measured = measured_draw(
            now_s,
            cfg,
            reading.draw_a,
            mem,
            load_draw_max_a(cfg, self._plant.site.voltage_v, allowed_a),
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
        draw = None
        if measured is not None:
            trusted_a = mem.obedience.trusted_allowance_a(allowed_a)
            draw = trusted_draw(measured, trusted_a, settings.draw_tolerance_a)
        rest = self._honoured_rest(cfg, reading)
        return replace(
            cfg,
            mode=mem.mode,
            # A resting load gets nothing, like one not connected; its draw still counts as
            # its own (up to what is in force, see `trust`).
            connected=bool(reading.connected) and rest is None,
            drawing=bool(reading.drawing),
            draw_a=draw,
        )

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
        measured_loads = tuple(replace(ld, draw_a=self._memory[ld.id].measured_a) for ld in loads)
        measured_a, _ = draw_by_node(measured_loads, self._tree, phases, voltage_v)
        metered = {node for node, _ in frame.measured_a if node != SITE_NODE}
        view = unmetered_circuits(
            self._plant.circuits, trusted_a, measured_a, metered, phases, voltage_v
        )
        if not view.background_a and not view.measured_a:
            return frame
        return replace(
            frame,
            measured_a={**view.measured_a, **frame.measured_a},
            circuit_background_a={**view.background_a, **frame.circuit_background_a},
            circuit_background_w={**view.background_w, **frame.circuit_background_w},
        )

    def _honoured_rest(self, cfg: Load, reading: LoadReading) -> Rest | None:
        """The reading's rest if the controller acts on it; notes it in `_rest`.

        A satisfied switch counts only while our command keeps it on: one we switched off is
        not resting, it is off. A car leaving `finished` or `idle` starts a new session, so
        the min off time of the rest does not delay the min it now asks for.
        """
        mem = self._memory[cfg.id]
        rest = reading.rest
        if not (isinstance(rest, Rest) and rest.state in REST_STATES and reading.connected):
            rest = None
        kept_on = cfg.kind is LoadKind.PLUG and mem.on and mem.written_on
        if rest is not None and rest.state is LoadState.SATISFIED and not kept_on:
            rest = None
        before = self._rested.pop(cfg.id, None)
        if rest is None:
            if before in (LoadState.FINISHED, LoadState.IDLE):
                mem.new_session()
            return None
        self._rested[cfg.id] = rest.state
        self._rest[cfg.id] = rest
        return rest

    def _rest_reasons(self, decision: Decision) -> Decision:
        """Published limits of resting loads give their rest, not the engine's "not connected"."""
        if not self._rest:
            return decision
        allocations = dict(decision.loads)
        for load_id, rest in self._rest.items():
            if load_id in allocations:
                allocations[load_id] = replace(allocations[load_id], reason=rest.reason)
        return replace(decision, loads=allocations)

    def _limits(self) -> dict[tuple[str, str], float]:
        """Current limit of every node phase the guard watches."""
        phases = SITE_PHASES[: self._plant.site.phases]
        limits = {(SITE_NODE, p): self._plant.site.main_breaker_a for p in phases}
        for circuit in self._plant.circuits:
            if circuit.limit_a is not None:
                for phase in phases:
                    limits[(circuit.id, phase)] = circuit.limit_a
        return limits

    # --------------------------------------------------------------------------- normal control

    def _normal_targets(
        self,
        now_s: float,
        dt_s: float,
        loads: tuple[Load, ...],
        load_readings: dict[str, LoadReading | None],
        snapshot: Snapshot,
        first: Decision,
    ) -> tuple[dict[str, _Target], Decision, Snapshot]:
        # A load inside its min off time cannot start this cycle whatever the engine offers it;
        # capacity the engine gave it would only be taken from running loads and left unused.
        # Its own plan (and reason) comes from the first run, everyone else's from a run that
        # leaves it out.
        locked = {
            ld.id
            for ld in loads
            if self._in_min_off(now_s, ld, load_readings[ld.id])
            and (alloc := first.loads.get(ld.id)) is not None
            and alloc.current_a > _EPS_A
        }
        base = first
        if locked:
            snapshot = replace(
                snapshot,
                loads=tuple(replace(ld, mode=Mode.OFF) if ld.id in locked else ld for ld in loads),
            )
            base = self._allocate(snapshot)
        plans = {
            ld.id: self._plan(
                now_s,
                dt_s,
                ld,
                load_readings[ld.id],
                (first if ld.id in locked else base).loads.get(ld.id),
            )
            for ld in loads
        }
        holders = {load_id for load_id, plan in plans.items() if plan.action == "hold"}
        decision = base
        if holders:
            # Second engine run with the holding loads forced to exactly their minimum: its
            # allocation proves the minimum fits under every breaker, and it is the ceiling for
            # all loads this cycle (the holders' minimum may have taken capacity from others).
            forced = tuple(_forced_to_min(ld) if ld.id in holders else ld for ld in snapshot.loads)
            snapshot = replace(snapshot, loads=forced)
            decision = self._allocate(snapshot)
        if locked:
            # Published limits must not read "mode off" for a load that only waits out its
            # min off time.
            allocations = dict(decision.loads)
            for load_id in locked & allocations.keys():
                allocations[load_id] = replace(allocations[load_id], reason=REASON_MIN_OFF)
            decision = replace(decision, loads=allocations)
        targets = {}
        for load in loads:
            alloc = decision.loads.get(load.id)
            targets[load.id] = self._target(dt_s, load, plans[load.id], alloc)
        return targets, decision, snapshot

    def _plan(
        self,
        now_s: float,
        dt_s: float,
        load: Load,
        reading: LoadReading | None,
        alloc: LoadAllocation | None,
    ) -> _Plan:
        settings = self._plant.settings
        mem = self._memory[load.id]
        if reading is None or not reading.available:
            return _Plan("off", LoadState.UNAVAILABLE, "load unavailable")
        connected = bool(reading.connected)
        if mem.connected is not None and connected != mem.connected:
            mem.new_session()
        mem.connected = connected
        if not connected:
            return _Plan("off", LoadState.DISCONNECTED, "not connected")
        if mem.mode is Mode.OFF:
            mem.start.reset()
            mem.stop.reset()
            return _Plan("off", LoadState.OFF, "mode off")
        rest = self._rest.get(load.id)
        if rest is not None:
            mem.start.reset()
            mem.stop.reset()
            # A satisfied switch stays on as it is, with nothing reserved; a resting car gets 0.
            action = "keep" if rest.state is LoadState.SATISFIED else "off"
            return _Plan(action, rest.state, rest.reason)

        engine_reason = alloc.reason if alloc is not None else "not in engine decision"
        ok = alloc is not None and alloc.on and alloc.current_a > _EPS_A
        surplus_mode = mem.mode in SURPLUS_MODES

        if not mem.on:
            mem.stop.reset()
            waited_s = mem.start.update(now_s, ok) if surplus_mode else 0.0
            if not ok:
                state = LoadState.WAITING if surplus_mode else LoadState.PAUSED
                return _Plan("off", state, engine_reason)
            if surplus_mode and waited_s < settings.start_delay_s:
                reason = f"start delay {waited_s:.0f}/{settings.start_delay_s:.0f} s"
                return _Plan("off", LoadState.WAITING, reason)
            if mem.off_since_s is not None:
                off_for_s = now_s - mem.off_since_s
                if off_for_s < settings.min_off_s:
                    reason = f"min off time {off_for_s:.0f}/{settings.min_off_s:.0f} s"
                    return _Plan("off", LoadState.PAUSED, reason)
            return _Plan("follow", _running_state(load), engine_reason)

        mem.start.reset()
        if surplus_mode:
            mem.stop.update(now_s, dt_s, short=not ok)
        if ok:
            return _Plan("follow", _running_state(load), engine_reason)
        on_for_s = now_s - (mem.on_since_s if mem.on_since_s is not None else now_s)
        if surplus_mode and not mem.stop.due(now_s, settings.stop_delay_s):
            open_s = mem.stop.open_s(now_s)
            reason = f"stop delay {open_s:.0f}/{settings.stop_delay_s:.0f} s"
            return _Plan("hold", LoadState.HOLDING_MIN, reason)
        if on_for_s < settings.min_on_s:
            reason = f"min on time {on_for_s:.0f}/{settings.min_on_s:.0f} s"
            return _Plan("hold", LoadState.HOLDING_MIN, reason)
        if (
            mem.mode in BUDGET_MODES
            and load.kind is LoadKind.EVSE
            and mem.pauses >= settings.pause_budget
        ):
            return _Plan("hold", LoadState.HOLDING_MIN, "pause budget used: holding min")
        return _Plan("off", LoadState.PAUSED, engine_reason, pause=surplus_mode)

    def _in_min_off(self, now_s: float, load: Load, reading: LoadReading | None) -> bool:
        """True when `_plan` will keep this load off for its min off time whatever it is offered."""
        mem = self._memory[load.id]
        if reading is None or not reading.available or not reading.connected:
            return False
        if mem.mode is Mode.OFF or mem.on or mem.off_since_s is None:
            return False
        if mem.connected is not None and bool(reading.connected) != mem.connected:
            return False  # a new session forgets the off time
        return now_s - mem.off_since_s < self._plant.settings.min_off_s

    def _target(
        self,
        dt_s: float,
        load: Load,
        plan: _Plan,
        alloc: LoadAllocation | None,
    ) -> _Target:
        settings = self._plant.settings
        mem = self._memory[load.id]
        ceiling_a = alloc.current_a if alloc is not None and alloc.on else 0.0
        state, reason = plan.state, plan.reason
        target_a = 0.0
        if plan.action == "follow":
            if ceiling_a <= _EPS_A:
                state = LoadState.PAUSED
                reason = alloc.reason if alloc is not None else reason
            elif load.kind is LoadKind.PLUG:
                target_a = ceiling_a
            elif not mem.on:
                # A start goes to the minimum; the ramp takes it further from the next cycle.
                target_a = load.min_a if ceiling_a >= load.min_a - _EPS_A else 0.0
                if target_a < ceiling_a - _EPS_A:
                    reason = f"start at min, ramping to {ceiling_a:.1f} A"
            else:
                base_a = max(mem.target_a, load.min_a)
                target_a = ceiling_a
                limit_a = base_a + settings.ramp_up_a_per_s * dt_s
                if target_a > limit_a:
                    target_a = limit_a
                    reason = f"ramp {target_a:.1f}/{ceiling_a:.1f} A"
        elif plan.action == "keep":
            # Nothing reserved (the engine gave 0), but the device stays as it is. The target
            # is what is in force, so the guard can still cut it and its draw is trusted only
            # up to that.
            target_a = mem.written_a if mem.written_on else 0.0
            ceiling_a = target_a
        elif plan.action == "hold":
            floor_a = load.min_a if load.kind is LoadKind.EVSE else ceiling_a
            if ceiling_a > _EPS_A and ceiling_a >= floor_a - _EPS_A:
                target_a = min(floor_a, ceiling_a)
            else:
                state = LoadState.PAUSED
                reason = alloc.reason if alloc is not None else "no headroom for min"
        return _Target(target_a, ceiling_a, state, reason, plan.pause)

    # ---------------------------------------------------------------------------- stale control

    def _stale_targets(
        self,
        loads: tuple[Load, ...],
        load_readings: dict[str, LoadReading | None],
        snapshot: Snapshot,
    ) -> tuple[dict[str, _Target], Decision]:
        """Charging cars to min where the held (last known) headroom allows min; the rest off.

        Whether min fits is a question of breakers, circuits and the import cap only: a car
        that was charging at min on a fading surplus (its stop delay running) is held too, as
        DESIGN.md says of every charging load. So the engine is asked once with the charging
        cars held at min and everything else off; in rank order, a car whose min no longer
        fits gets 0. Nothing starts while the grid is
        unknown, and timers are frozen apart from on/off times.
        """
        charging = set()
        for load in loads:
            mem = self._memory[load.id]
            reading = load_readings[load.id]
            if (
                reading is not None
                and reading.available
                and reading.connected
                and reading.drawing
                and load.kind is LoadKind.EVSE
                and mem.on
                and mem.mode is not Mode.OFF
            ):
                charging.add(load.id)
        held = replace(
            snapshot,
            loads=tuple(
                _forced_to_min(ld) if ld.id in charging else replace(ld, mode=Mode.OFF)
                for ld in snapshot.loads
            ),
        )
        decision = self._allocate(held)
        # Loads switched off here are off because the grid is unknown, not by their mode.
        allocations = {
            load_id: alloc if load_id in charging else replace(alloc, reason="grid stale")
            for load_id, alloc in decision.loads.items()
        }
        decision = replace(decision, loads=allocations)
        targets = {}
        for load in loads:
            alloc = decision.loads.get(load.id)
            target_a = 0.0
            if (
                load.id in charging
                and alloc is not None
                and alloc.on
                and alloc.current_a >= load.min_a - _EPS_A
            ):
                target_a = load.min_a
            targets[load.id] = _Target(target_a, target_a, LoadState.STALE_FALLBACK, "grid stale")
        return targets, decision

    # ------------------------------------------------------------------ blind meter: no raises

    def _hold_while_blind(
        self, loads: tuple[Load, ...], targets: dict[str, _Target], blind_nodes: frozenset[str]
    ) -> dict[str, _Target]:
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
        voltage_v = self._plant.site.voltage_v
        targets = dict(targets)
        for load in loads:
            blind = blind_nodes.intersection(self._tree.path(load.circuit))
            if not blind:
                continue
            mem = self._memory[load.id]
            held_a = in_force_a(
                mem.written_a, mem.written_on, mem.ever_written, rated_a(load, voltage_v)
            )
            target = targets[load.id]
            if target.target_a <= held_a + _EPS_A:
                continue
            meters = ", ".join(sorted(_node_name(node) for node in blind))
            targets[load.id] = replace(
                target,
                target_a=held_a,
                ceiling_a=min(target.ceiling_a, held_a),
                state=target.state if held_a > _EPS_A else LoadState.PAUSED,
                reason=f"no raise while the {meters} meter has no valid sample",
            )
        return targets

    # ------------------------------------------------------------------- measured-overload guard

    def _guard(
        self,
        now_s: float,
        loads: tuple[Load, ...],
        load_readings: dict[str, LoadReading | None],
        targets: dict[str, _Target],
        acting: list[Overload],
    ) -> dict[str, _Target]:
        """Apply the guard's cuts (see `guard`) and the hold that follows an earlier cut."""
        targets = dict(targets)
        for load in loads:
            mem = self._memory[load.id]
            if mem.guard_until_s is None or now_s >= mem.guard_until_s:
                mem.guard_until_s = None
                continue
            target = targets[load.id]
            if target.target_a > mem.guard_cap_a + _EPS_A:
                left_s = mem.guard_until_s - now_s
                targets[load.id] = replace(
                    target,
                    target_a=mem.guard_cap_a,
                    ceiling_a=min(target.ceiling_a, mem.guard_cap_a),
                    state=target.state if mem.guard_cap_a > _EPS_A else LoadState.PAUSED,
                    reason=f"held after a measured overload ({left_s:.0f} s left)",
                )
        if not acting:
            return targets
        voltage_v = self._plant.site.voltage_v
        guard_loads = []
        for load in loads:
            mem = self._memory[load.id]
            reading = load_readings[load.id]
            drawing = reading is not None and bool(reading.available) and bool(reading.drawing)
            guard_loads.append(
                GuardLoad(
                    id=load.id,
                    service_key=(0 if drawing else 1, mem.mode.urgency, load.priority, load.id),
                    nodes=frozenset(self._tree.path(load.circuit)),
                    site_phases=load.site_phases,
                    in_force_a=in_force_a(
                        mem.written_a, mem.written_on, mem.ever_written, rated_a(load, voltage_v)
                    ),
                    target_a=targets[load.id].target_a,
                    min_a=load.min_a,
                    plug=load.kind is LoadKind.PLUG,
                    drawing=drawing,
                    suspect=mem.obedience.suspect(now_s),
                    draw_a=mem.measured_a,
                )
            )
        for load_id, (value_a, reason) in plan_cuts(acting, guard_loads).items():
            target = targets[load_id]
            mem = self._memory[load_id]
            mem.guard_cap_a = value_a
            mem.guard_until_s = now_s + GUARD_HOLD_S
            targets[load_id] = replace(
                target,
                target_a=value_a,
                ceiling_a=min(target.ceiling_a, value_a),
                state=target.state if value_a > _EPS_A else LoadState.PAUSED,
                reason=reason,
                pause=False,
            )
        return targets

    # ------------------------------------------------------------------------- output and state

    def _emit(self, now_s: float, load: Load, mem: LoadMemory, target: _Target) -> Command:
        """Apply the write deadband, update on/off bookkeeping, build the command.

        A write is forced on the first cycle, on any on/off change, when the device's current
        setting is above this cycle's ceiling (a cut the limits require, by any amount), and when
        the target reaches min or max exactly (so a slow approach does not stop short of it).
        When nothing is written the command carries the value the device already has.
        """
        settings = self._plant.settings
        target_a, ceiling_a, state, reason = (
            target.target_a,
            target.ceiling_a,
            target.state,
            target.reason,
        )
        target_on = target_a > _EPS_A
        mem.target_a = target_a
        bound_reached = target_on and any(
            abs(target_a - bound) < _EPS_A for bound in (load.min_a, load.max_a)
        )
        write = (
            not mem.ever_written
            or target_on != mem.written_on
            or mem.written_a > ceiling_a + _EPS_A
            or abs(target_a - mem.written_a) >= settings.deadband_a - _EPS_A
            or (bound_reached and abs(target_a - mem.written_a) > _EPS_A)
        )
        if write:
            mem.written_a = target_a
            mem.written_on = target_on
            mem.ever_written = True
        current_a, on = mem.written_a, mem.written_on

        if on and not mem.on:
            mem.on = True
            mem.on_since_s = now_s
            mem.stop.reset()
        elif not on and mem.on:
            mem.on = False
            mem.off_since_s = now_s
            mem.stop.reset()
            if target.pause:
                mem.pauses += 1
        if on and state in (LoadState.PAUSED, LoadState.WAITING, LoadState.OFF):
            state = _running_state(load)
        if on and state is LoadState.SATISFIED:
            current_a = 0.0  # switched on, nothing reserved
        return Command(
            load_id=load.id,
            current_a=current_a,
            on=on,
            write=write,
            state=state,
            reason=reason,
        )

    def _safe_state(self, now_s: float, err: Exception) -> CycleResult:
        """Everything to 0, written, and one message when the fault begins."""
        messages = ()
        if self._status is not SiteStatus.ERROR:
            messages = (f"engine error, all loads off: {type(err).__name__}: {err}",)
        self._status = SiteStatus.ERROR
        commands = {}
        for load in self._plant.loads:
            mem = self._memory.get(load.id)
            if mem is not None:
                if mem.on:
                    mem.on = False
                    mem.off_since_s = finite_or_none(now_s)
                mem.target_a = 0.0
                mem.written_a = 0.0
                mem.written_on = False
                mem.ever_written = True
            commands[load.id] = Command(
                load_id=load.id,
                current_a=0.0,
                on=False,
                write=True,
                state=LoadState.ERROR,
                reason=f"engine error: {type(err).__name__}",
            )
        return CycleResult(
            now_s=finite_or_none(now_s) or 0.0,
            status=SiteStatus.ERROR,
            commands=commands,
            decision=None,
            messages=messages,
        )

    def _memory_of(self, load_id: str) -> LoadMemory:
        mem = self._memory.get(load_id)
        if mem is None:
            raise ConfigError(f"load {load_id!r}", "id", load_id, "no such load in the plant")
        return mem


def _forced_to_min(load: Load) -> Load:
    """The load as the engine must see it to prove its minimum fits: held, max = min.

    It keeps its mode, so its rank: its min comes after the minimums of more urgent loads.
    """
    if load.kind is LoadKind.EVSE:
        return replace(load, held=True, max_a=max(load.min_a, 0.1))
    return replace(load, held=True)


def _node_name(node: str) -> str:
    return "site" if node == SITE_NODE else f"circuit '{node}'"


def _running_state(load: Load) -> LoadState:
    if load.kind is LoadKind.EVSE and load.drawing:
        return LoadState.CHARGING
    return LoadState.ON
