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
from dataclasses import replace

from .allocate import allocate
from .command_writer import safe_command, write_command
from .control_types import (
    Command,
    CycleResult,
    LoadReading,
    LoadState,
    Overload,
    Plant,
    Readings,
    SiteStatus,
)
from .guard import GUARD_HOLD_S, OverloadWatch, guard_load, node_limits_a, plan_cuts
from .input_filter import CycleInputs, InputFilter
from .model import SITE_NODE, BatteryLevels, Decision, Load, LoadKind, Mode, Snapshot
from .plausible import rated_a
from .smoothing import finite_or_none
from .targets import EPS_A, Action, Target
from .time_rules import in_min_off, plan_load, ramp_target
from .timers import LoadMemory
from .trust import in_force_a
from .validate import validate

AllocateFn = Callable[[Snapshot], Decision]

#: Engine-decision reason of a load left out of the allocation while in its min off time.
REASON_MIN_OFF = "min off time"


def validate_plant(plant: Plant) -> None:
    """Reject a bad configuration when it is loaded, not in the middle of a cycle."""
    validate(plant.site, plant.circuits, plant.loads)


class Controller:
    """Turns each cycle's readings into commands; see the module docstring for the rules.

    Three parts do the work, each named for what it holds: `input_filter` (sensor filtering),
    `time_rules` (delays, min on/off, pause budget, ramps) and `command_writer` (the write
    deadband). The controller runs the engine (up to three times a cycle), the stale-grid
    fallback and the measured-overload guard between them.

    Modes: `LoadReading.mode`, when given, is the live mode (an `input_select`) and is
    remembered; it takes effect in the step that sees it.
    """

    def __init__(self, plant: Plant, allocate_fn: AllocateFn | None = None) -> None:
        validate_plant(plant)
        self._allocate: AllocateFn = allocate_fn or allocate
        self._plant = plant
        self._memory: dict[str, LoadMemory] = {
            ld.id: LoadMemory(mode=ld.mode) for ld in plant.loads
        }
        self._inputs = InputFilter(plant, self._memory)
        self._last_now_s: float | None = None
        self._status = SiteStatus.OK
        self._stale = False
        self._levels: BatteryLevels | None = None
        self._watch = OverloadWatch()

    @property
    def plant(self) -> Plant:
        return self._plant

    def replace_plant(self, plant: Plant) -> None:
        """Adopt a new configuration; loads that keep their id keep their timers and mode.

        A load whose configured mode changed takes the new configured mode, otherwise the live
        mode (from readings) survives the reload.
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
        self._plant = plant
        self._memory = memory
        self._inputs.adopt(plant, memory)

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
        self._last_now_s = now_s
        inputs = self._inputs.read(now_s, readings, self._levels, warnings)
        stale = self._grid_stale(now_s, messages)
        overloads, began = self._watch.observe(
            now_s,
            node_limits_a(self._plant),
            inputs.frame.measured_a,
            self._plant.settings.grid_stale_timeout_s,
        )
        warnings.extend(_overload_line(overload) for overload in began)
        targets, decision, snapshot = self._targets(now_s, dt_s, inputs, stale)
        acting = self._watch.acting(overloads, self._plant.settings.overload_grace_s)
        targets = self._guard(now_s, inputs, targets, acting)
        commands = self._commands(now_s, inputs, targets)
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

    def _grid_stale(self, now_s: float, messages: list[str]) -> bool:
        """True while the grid sensor is stale; a message when that begins or ends."""
        stale_for_s = self._inputs.grid_stale_for_s(now_s)
        stale = stale_for_s >= self._plant.settings.grid_stale_timeout_s
        if stale and not self._stale:
            messages.append(
                f"grid current sensor has no valid value for {stale_for_s:.0f} s: charging cars "
                "held at minimum where the last known headroom allows it, other loads off"
            )
        elif not stale and self._stale:
            messages.append("grid current sensor is back: normal control resumed")
        return stale

    def _targets(
        self, now_s: float, dt_s: float, inputs: CycleInputs, stale: bool
    ) -> tuple[dict[str, Target], Decision, Snapshot]:
        """Every load's target, the decision that bounds it and the snapshot it was made from."""
        first = self._allocate(inputs.snapshot)
        self._levels = first.battery_levels
        if stale:
            targets, decision = self._stale_targets(inputs)
            return targets, decision, inputs.snapshot
        targets, decision, snapshot = self._normal_targets(now_s, dt_s, inputs, first)
        targets = self._hold_while_blind(inputs.loads, targets, inputs.frame.blind_nodes)
        # Published limits of resting loads give their rest, not the engine's "not connected".
        rest_reasons = {load_id: rest.reason for load_id, rest in inputs.rest.items()}
        return targets, _with_reasons(decision, rest_reasons), snapshot

    def _commands(
        self, now_s: float, inputs: CycleInputs, targets: dict[str, Target]
    ) -> dict[str, Command]:
        """Each load's command; a load not obeying says so whatever it was told."""
        commands = {}
        deadband_a = self._plant.settings.deadband_a
        for load in inputs.loads:
            mem = self._memory[load.id]
            command = write_command(now_s, load, mem, targets[load.id], deadband_a)
            reason = inputs.not_obeying.get(load.id)
            if reason is not None:
                command = replace(command, state=LoadState.NOT_OBEYING, reason=reason)
            commands[load.id] = command
        return commands

    # --------------------------------------------------------------------------- normal control

    def _normal_targets(
        self, now_s: float, dt_s: float, inputs: CycleInputs, first: Decision
    ) -> tuple[dict[str, Target], Decision, Snapshot]:
        """The time rules' targets under the engine's allocation (a second or third run)."""
        # A load inside its min off time cannot start this cycle whatever the engine offers it;
        # capacity the engine gave it would only be taken from running loads and left unused.
        # Its own plan (and reason) comes from the first run, everyone else's from a run that
        # leaves it out.
        loads, readings, settings = inputs.loads, inputs.readings, self._plant.settings
        locked = {
            ld.id
            for ld in loads
            if in_min_off(now_s, self._memory[ld.id], readings[ld.id], settings.min_off_s)
            and (alloc := first.loads.get(ld.id)) is not None
            and alloc.current_a > EPS_A
        }
        base, snapshot = first, inputs.snapshot
        if locked:
            snapshot = replace(
                snapshot,
                loads=tuple(replace(ld, mode=Mode.OFF) if ld.id in locked else ld for ld in loads),
            )
            base = self._allocate(snapshot)
        plans = {
            ld.id: plan_load(
                now_s,
                dt_s,
                ld,
                self._memory[ld.id],
                readings[ld.id],
                (first if ld.id in locked else base).loads.get(ld.id),
                inputs.rest.get(ld.id),
                settings,
            )
            for ld in loads
        }
        holders = {load_id for load_id, plan in plans.items() if plan.action is Action.HOLD}
        decision = base
        if holders:
            # Second engine run with the holding loads forced to exactly their minimum: its
            # allocation proves the minimum fits under every breaker, and it is the ceiling for
            # all loads this cycle (the holders' minimum may have taken capacity from others).
            forced = tuple(_forced_to_min(ld) if ld.id in holders else ld for ld in snapshot.loads)
            snapshot = replace(snapshot, loads=forced)
            decision = self._allocate(snapshot)
        # Published limits must not read "mode off" for a load that only waits out its min off.
        decision = _with_reasons(decision, dict.fromkeys(locked, REASON_MIN_OFF))
        targets = {
            ld.id: ramp_target(
                dt_s,
                ld,
                self._memory[ld.id],
                plans[ld.id],
                decision.loads.get(ld.id),
                settings.ramp_up_a_per_s,
            )
            for ld in loads
        }
        return targets, decision, snapshot

    # ---------------------------------------------------------------------------- stale control

    def _stale_targets(self, inputs: CycleInputs) -> tuple[dict[str, Target], Decision]:
        """Charging cars to min where the held (last known) headroom allows min; the rest off.

        Whether min fits is a question of breakers, circuits and the import cap only: a car
        that was charging at min on a fading surplus (its stop delay running) is held too, as
        DESIGN.md says of every charging load. So the engine is asked once with the charging
        cars as continuous loads capped at min and everything else off; in its order of
        priority, a car whose min no longer fits gets 0. Nothing starts while the grid is
        unknown, and timers are frozen apart from on/off times.
        """
        charging = {ld.id for ld in inputs.loads if self._charging(ld, inputs.readings[ld.id])}
        snapshot = inputs.snapshot
        held = replace(
            snapshot,
            loads=tuple(
                _forced_to_min(ld) if ld.id in charging else replace(ld, mode=Mode.OFF)
                for ld in snapshot.loads
            ),
        )
        decision = self._allocate(held)
        # Loads switched off here are off because the grid is unknown, not by their mode.
        stopped = {load_id: "grid stale" for load_id in decision.loads if load_id not in charging}
        decision = _with_reasons(decision, stopped)
        targets = {}
        for load in inputs.loads:
            alloc = decision.loads.get(load.id)
            target_a = 0.0
            if (
                load.id in charging
                and alloc is not None
                and alloc.on
                and alloc.current_a >= load.min_a - EPS_A
            ):
                target_a = load.min_a
            targets[load.id] = Target(target_a, target_a, LoadState.STALE_FALLBACK, "grid stale")
        return targets, decision

    def _charging(self, load: Load, reading: LoadReading | None) -> bool:
        """A car that charges now under our command: the one kind of load held while stale."""
        mem = self._memory[load.id]
        return (
            reading is not None
            and reading.available
            and bool(reading.connected)
            and bool(reading.drawing)
            and load.kind is LoadKind.EVSE
            and mem.on
            and mem.mode is not Mode.OFF
        )

    # ------------------------------------------------------------------ blind meter: no raises

    def _hold_while_blind(
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
        voltage_v = self._plant.site.voltage_v
        targets = dict(targets)
        for load in loads:
            blind = blind_nodes.intersection(self._inputs.tree.path(load.circuit))
            if not blind:
                continue
            mem = self._memory[load.id]
            held_a = in_force_a(
                mem.written_a, mem.written_on, mem.ever_written, rated_a(load, voltage_v)
            )
            if targets[load.id].target_a <= held_a + EPS_A:
                continue
            meters = ", ".join(sorted(_node_name(node) for node in blind))
            reason = f"no raise while the {meters} meter has no valid sample"
            targets[load.id] = targets[load.id].capped(held_a, reason)
        return targets

    # ------------------------------------------------------------------- measured-overload guard

    def _guard(
        self, now_s: float, inputs: CycleInputs, targets: dict[str, Target], acting: list[Overload]
    ) -> dict[str, Target]:
        """Apply the guard's cuts (see `guard`) and the hold that follows an earlier cut."""
        targets = dict(targets)
        for load in inputs.loads:
            mem = self._memory[load.id]
            if mem.guard_until_s is None or now_s >= mem.guard_until_s:
                mem.guard_until_s = None
                continue
            if targets[load.id].target_a > mem.guard_cap_a + EPS_A:
                left_s = mem.guard_until_s - now_s
                reason = f"held after a measured overload ({left_s:.0f} s left)"
                targets[load.id] = targets[load.id].capped(mem.guard_cap_a, reason)
        if not acting:
            return targets
        guard_loads = []
        for load in inputs.loads:
            reading = inputs.readings[load.id]
            drawing = reading is not None and bool(reading.available) and bool(reading.drawing)
            nodes = frozenset(self._inputs.tree.path(load.circuit))
            mem, target_a = self._memory[load.id], targets[load.id].target_a
            voltage_v = self._plant.site.voltage_v
            guard_loads.append(guard_load(now_s, load, mem, drawing, nodes, target_a, voltage_v))
        for load_id, (value_a, reason) in plan_cuts(acting, guard_loads).items():
            mem = self._memory[load_id]
            mem.guard_cap_a = value_a
            mem.guard_until_s = now_s + GUARD_HOLD_S
            targets[load_id] = replace(targets[load_id].capped(value_a, reason), pause=False)
        return targets

    # ------------------------------------------------------------------------------ safe state

    def _safe_state(self, now_s: float, err: Exception) -> CycleResult:
        """Everything to 0, written, and one message when the fault begins."""
        messages = ()
        if self._status is not SiteStatus.ERROR:
            messages = (f"engine error, all loads off: {type(err).__name__}: {err}",)
        self._status = SiteStatus.ERROR
        commands = {
            ld.id: safe_command(now_s, ld, self._memory.get(ld.id), err) for ld in self._plant.loads
        }
        return CycleResult(
            now_s=finite_or_none(now_s) or 0.0,
            status=SiteStatus.ERROR,
            commands=commands,
            decision=None,
            messages=messages,
        )


def _with_reasons(decision: Decision, reasons: dict[str, str]) -> Decision:
    """The decision with the given loads' reasons replaced (published limits read them)."""
    if not reasons:
        return decision
    allocations = dict(decision.loads)
    for load_id, reason in reasons.items():
        if load_id in allocations:
            allocations[load_id] = replace(allocations[load_id], reason=reason)
    return replace(decision, loads=allocations)


def _overload_line(overload: Overload) -> str:
    return (
        f"measured overload: {_node_name(overload.node)} phase {overload.phase} carries "
        f"{overload.measured_a:.1f} A, limit {overload.limit_a:.1f} A"
    )


def _forced_to_min(load: Load) -> Load:
    """The load as the engine must see it to prove its minimum fits: continuous, max = min."""
    if load.kind is LoadKind.EVSE:
        return replace(load, mode=Mode.CONTINUOUS, max_a=max(load.min_a, 0.1))
    return replace(load, mode=Mode.CONTINUOUS)


def _node_name(node: str) -> str:
    return "site" if node == SITE_NODE else f"circuit '{node}'"
