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
from .charge_planner import CapacityLimit, ChargePlanner
from .charge_units import UnitHolders, waiting_for_unit, waiting_reason
from .command_writer import safe_command, write_commands
from .control_types import (
    CycleResult,
    LoadState,
    Overload,
    Readings,
    SiteConfig,
    SiteStatus,
)
from .guard import OverloadWatch, guard_targets, node_limits_a, overload_line
from .input_filter import CycleInputs, InputFilter
from .model import BatteryLevels, Decision, Load, LoadKind, Mode, Snapshot
from .phase_watch import PhaseEvent, PhaseWatch
from .smoothing import finite_or_none
from .stale_fallback import REASON_STALE, charging_loads, stale_targets
from .targets import Action, Plan, Target
from .time_rules import locked_in_min_off, plan_load, ramp_target
from .timers import LoadMemory, carried_memory
from .validate import validate

AllocateFn = Callable[[Snapshot], Decision]

#: Engine-decision reason of a load left out of the allocation while in its min off time.
REASON_MIN_OFF = "min off time"


def validate_plant(plant: SiteConfig) -> None:
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

    def __init__(self, plant: SiteConfig, allocate_fn: AllocateFn | None = None) -> None:
        validate_plant(plant)
        self._allocate: AllocateFn = allocate_fn or allocate
        # What apps.yaml says; `_plant` is what the engine allocates with (`phase_watch`).
        self._configured = plant
        self._phases = PhaseWatch(plant)
        plant = self._phases.effective(plant)
        self._plant = plant
        self._view_version = self._phases.version
        self._memory: dict[str, LoadMemory] = {
            ld.id: LoadMemory(mode=ld.mode) for ld in plant.loads
        }
        self._inputs = InputFilter(plant, self._memory)
        self._last_now_s: float | None = None
        self._status = SiteStatus.OK
        self._stale = False
        self._levels: BatteryLevels | None = None
        self._watch = OverloadWatch()
        self._units = UnitHolders()
        self._planner = ChargePlanner(self._allocate)
        self._capacity = CapacityLimit(plant.settings)

    @property
    def plant(self) -> SiteConfig:
        """The configuration as given (without what `phase_watch` learned)."""
        return self._configured

    @property
    def phase_watch(self) -> PhaseWatch:
        """What was learned of the wiring: read it, and `restore_phases` to restore it."""
        return self._phases

    def restore_phases(self, sections: dict[str, object]) -> list[str]:
        """Take the wiring learned before a restart (`PhaseWatch.restore`); its problems."""
        problems = self._phases.restore(sections)
        self._adopt_view()
        return problems

    def _adopt_view(self) -> None:
        """The engine's view of the loads follows what `phase_watch` learned."""
        if self._phases.version == self._view_version:
            return
        self._view_version = self._phases.version
        effective = self._phases.effective(self._configured)
        if effective == self._plant:
            return
        self._memory = carried_memory(self._memory, self._plant.loads, effective.loads)
        self._plant = effective
        self._inputs.adopt(effective, self._memory)

    def replace_plant(self, plant: SiteConfig) -> None:
        """Adopt a new configuration; loads that keep their id keep their timers and mode.

        A load whose configured mode changed takes the new configured mode, otherwise the live
        mode (from readings) survives the reload.
        """
        validate_plant(plant)
        self._configured = plant
        self._phases.adopt(plant)
        plant = self._phases.effective(plant)
        self._view_version = self._phases.version
        self._memory = carried_memory(self._memory, self._plant.loads, plant.loads)
        self._plant = plant
        self._inputs.adopt(plant, self._memory)
        self._capacity.adopt(plant.settings)

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
        phase_events: list[PhaseEvent] = self._phases.observe_lines(readings)
        self._adopt_view()
        raw = readings
        readings = self._phases.view_readings(readings)
        voltage_v = self._plant.site.voltage_v
        readings, plans, mode_reasons = self._planner.apply(
            now_s, readings, self._plant.loads, voltage_v
        )
        inputs = self._inputs.read(now_s, readings, self._levels, warnings)
        inputs = replace(inputs, snapshot=self._capacity.limit(now_s, readings, inputs.snapshot))
        phase_events.extend(self._phases.observe(raw, inputs.frame.measured_a))
        stale = self._grid_stale(now_s, messages)
        overloads, began = self._watch.observe(
            now_s,
            node_limits_a(self._plant),
            inputs.frame.measured_a,
            self._plant.settings.grid_stale_timeout_s,
        )
        warnings.extend(overload_line(overload) for overload in began)
        targets, decision, snapshot = self._targets(now_s, dt_s, inputs, stale)
        acting = self._watch.acting(overloads, self._plant.settings.overload_grace_s)
        targets = self._guard(now_s, inputs, targets, acting)
        commands = write_commands(
            now_s,
            inputs.loads,
            self._memory,
            targets,
            inputs.not_obeying,
            self._plant.settings.deadband_a,
        )
        status = SiteStatus.OK
        if overloads:
            status = SiteStatus.OVERLOAD
        elif stale:
            status = SiteStatus.GRID_STALE
        self._stale = stale
        self._status = status
        self._planner.observe(snapshot)
        self._adopt_view()  # a remap or a doubt applies from the next cycle on
        return CycleResult(
            now_s=now_s,
            status=status,
            commands=commands,
            decision=decision,
            messages=tuple(messages),
            snapshot=snapshot,
            overloads=tuple(overloads),
            warnings=tuple(warnings),
            phase_events=tuple(phase_events),
            plans=plans,
            mode_reasons=mode_reasons,
            capacity=self._capacity.state,
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
        inputs = self._with_unit_holders(now_s, inputs)
        first = self._allocate(inputs.snapshot)
        self._levels = first.battery_levels
        if stale:
            targets, decision = self._stale_targets(inputs)
            return targets, decision, inputs.snapshot
        targets, decision, snapshot = self._normal_targets(now_s, dt_s, inputs, first)
        targets = self._inputs.hold_while_blind(inputs.loads, targets, inputs.frame.blind_nodes)
        # Published limits of resting loads give their rest, not the engine's "not connected".
        rest_reasons = {load_id: rest.reason for load_id, rest in inputs.rest.items()}
        return targets, _with_reasons(decision, rest_reasons), snapshot

    def _with_unit_holders(self, now_s: float, inputs: CycleInputs) -> CycleInputs:
        """The inputs with this cycle's holder of every sequential charger unit (`charge_units`)."""
        holders = self._units.choose(
            now_s,
            inputs.loads,
            {load_id: mem.on_since_s if mem.on else None for load_id, mem in self._memory.items()},
            self._plant.settings.min_on_s,
        )
        if not holders:
            return inputs
        return replace(inputs, snapshot=replace(inputs.snapshot, unit_holders=holders))

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
        locked = locked_in_min_off(now_s, loads, readings, self._memory, first, settings.min_off_s)
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
        # A plug whose unit another plug holds is off whatever its timers say: a hold at its
        # min would put two plugs of a sequential unit on.
        for load_id, holder_id in waiting_for_unit(snapshot).items():
            plans[load_id] = Plan(Action.OFF, LoadState.WAITING_FOR_UNIT, waiting_reason(holder_id))
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
        cars held at min and everything else off; in rank order, a car whose min no longer
        fits gets 0. Nothing starts while the grid is
        unknown, and timers are frozen apart from on/off times.
        """
        charging = charging_loads(inputs.loads, inputs.readings, self._memory)
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
        stopped = {load_id: REASON_STALE for load_id in decision.loads if load_id not in charging}
        decision = _with_reasons(decision, stopped)
        return stale_targets(inputs.loads, charging, decision), decision

    # ------------------------------------------------------------------- measured-overload guard

    def _guard(
        self, now_s: float, inputs: CycleInputs, targets: dict[str, Target], acting: list[Overload]
    ) -> dict[str, Target]:
        """Apply the guard's cuts (see `guard`) and the hold that follows an earlier cut."""
        return guard_targets(
            now_s,
            inputs.loads,
            inputs.readings,
            targets,
            acting,
            self._memory,
            self._inputs.tree,
            self._plant.site.voltage_v,
        )

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


def _forced_to_min(load: Load) -> Load:
    """The load as the engine must see it to prove its minimum fits: held, max = min.

    It keeps its mode, so its rank: its min comes after the minimums of more urgent loads.
    """
    if load.kind is LoadKind.EVSE:
        return replace(load, held=True, max_a=max(load.min_a, 0.1))
    return replace(load, held=True)
