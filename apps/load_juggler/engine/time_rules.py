"""The controller's time rules: start and stop delays, min on and off times, the pause budget
and the ramp.

The engine answers from one snapshot; a car must not start on one sunny sample nor stop for
one cloud, nor be switched on and off every minute. These rules look at what a load's
`LoadMemory` remembers of the last minutes and decide, per load, whether to follow the
engine's value, hold the minimum, keep the device as it is, or stay off (`Plan`), then where
this cycle's ramp lets the command go (`Target`). They may delay a raise or a start, never a
cut: a target is never above the engine's allocation.
"""

from __future__ import annotations

from collections.abc import Mapping

from .control_types import ControlSettings, LoadReading, LoadState, Rest
from .model import Decision, Load, LoadAllocation, LoadKind, Mode
from .targets import EPS_A, Action, Plan, Target
from .timers import LoadMemory

#: Modes whose starts and stops follow the surplus and so get start and stop delays.
SURPLUS_MODES = frozenset({Mode.SOLAR_ONLY, Mode.EXCESS})
#: Modes whose cars keep their pause budget; after it a car holds at min instead of stopping.
BUDGET_MODES = frozenset({Mode.SOLAR_ONLY})


def running_state(load: Load) -> LoadState:
    """The state of a load that is on: a car that draws is charging, anything else is on."""
    if load.kind is LoadKind.EVSE and load.drawing:
        return LoadState.CHARGING
    return LoadState.ON


def plan_load(
    now_s: float,
    dt_s: float,
    load: Load,
    mem: LoadMemory,
    reading: LoadReading | None,
    alloc: LoadAllocation | None,
    rest: Rest | None,
    settings: ControlSettings,
) -> Plan:
    """What the time rules want for `load` this cycle; updates its session and timers."""
    if reading is None or not reading.available:
        return Plan(Action.OFF, LoadState.UNAVAILABLE, "load unavailable")
    connected = bool(reading.connected)
    if mem.connected is not None and connected != mem.connected:
        mem.new_session()
    mem.connected = connected
    if not connected:
        return Plan(Action.OFF, LoadState.DISCONNECTED, "not connected")
    if mem.mode is Mode.OFF:
        mem.start.reset()
        mem.stop.reset()
        return Plan(Action.OFF, LoadState.OFF, "mode off")
    if rest is not None:
        mem.start.reset()
        mem.stop.reset()
        # A satisfied switch stays on as it is, with nothing reserved; a resting car gets 0.
        action = Action.KEEP if rest.state is LoadState.SATISFIED else Action.OFF
        return Plan(action, rest.state, rest.reason)
    if not mem.on:
        return _plan_start(now_s, load, mem, alloc, settings)
    plan = _plan_running(now_s, dt_s, load, mem, alloc, settings)
    if plan.action is Action.OFF and reading.keeps_running is not None:
        # It would go on drawing after a cut: keep it reserved, or others get what it draws.
        return Plan(Action.HOLD, running_state(load), reading.keeps_running)
    return plan


def _engine_view(alloc: LoadAllocation | None) -> tuple[str, bool]:
    """(the engine's reason, True when it offers the load some current)."""
    reason = alloc.reason if alloc is not None else "not in engine decision"
    return reason, alloc is not None and alloc.on and alloc.current_a > EPS_A


def _plan_start(
    now_s: float,
    load: Load,
    mem: LoadMemory,
    alloc: LoadAllocation | None,
    settings: ControlSettings,
) -> Plan:
    """An off load starts once offered current, after its start delay and min off time."""
    engine_reason, ok = _engine_view(alloc)
    surplus_mode = mem.mode in SURPLUS_MODES
    mem.stop.reset()
    waited_s = mem.start.update(now_s, ok) if surplus_mode else 0.0
    if not ok:
        state = LoadState.WAITING if surplus_mode else LoadState.PAUSED
        return Plan(Action.OFF, state, engine_reason)
    if surplus_mode and waited_s < settings.start_delay_s:
        reason = f"start delay {waited_s:.0f}/{settings.start_delay_s:.0f} s"
        return Plan(Action.OFF, LoadState.WAITING, reason)
    if mem.off_since_s is not None:
        off_for_s = now_s - mem.off_since_s
        if off_for_s < settings.min_off_s:
            reason = f"min off time {off_for_s:.0f}/{settings.min_off_s:.0f} s"
            return Plan(Action.OFF, LoadState.PAUSED, reason)
    return Plan(Action.FOLLOW, running_state(load), engine_reason)


def _plan_running(
    now_s: float,
    dt_s: float,
    load: Load,
    mem: LoadMemory,
    alloc: LoadAllocation | None,
    settings: ControlSettings,
) -> Plan:
    """A running load follows while offered current; otherwise it holds its minimum through
    the stop delay, its min on time and, once the pause budget is spent, for good."""
    engine_reason, ok = _engine_view(alloc)
    surplus_mode = mem.mode in SURPLUS_MODES
    mem.start.reset()
    if surplus_mode:
        mem.stop.update(now_s, dt_s, short=not ok)
    if ok:
        return Plan(Action.FOLLOW, running_state(load), engine_reason)
    on_for_s = now_s - (mem.on_since_s if mem.on_since_s is not None else now_s)
    if surplus_mode and not mem.stop.due(now_s, settings.stop_delay_s):
        open_s = mem.stop.open_s(now_s)
        reason = f"stop delay {open_s:.0f}/{settings.stop_delay_s:.0f} s"
        return Plan(Action.HOLD, LoadState.HOLDING_MIN, reason)
    if on_for_s < settings.min_on_s:
        reason = f"min on time {on_for_s:.0f}/{settings.min_on_s:.0f} s"
        return Plan(Action.HOLD, LoadState.HOLDING_MIN, reason)
    if (
        mem.mode in BUDGET_MODES
        and load.kind is LoadKind.EVSE
        and mem.pauses >= settings.pause_budget
    ):
        return Plan(Action.HOLD, LoadState.HOLDING_MIN, "pause budget used: holding min")
    return Plan(Action.OFF, LoadState.PAUSED, engine_reason, pause=surplus_mode)


def locked_in_min_off(
    now_s: float,
    loads: tuple[Load, ...],
    readings: Mapping[str, LoadReading | None],
    memory: Mapping[str, LoadMemory],
    first: Decision,
    min_off_s: float,
) -> set[str]:
    """Loads offered current by `first` that their min off time keeps off whatever they get."""
    return {
        ld.id
        for ld in loads
        if in_min_off(now_s, memory[ld.id], readings[ld.id], min_off_s)
        and (alloc := first.loads.get(ld.id)) is not None
        and alloc.current_a > EPS_A
    }


def in_min_off(
    now_s: float, mem: LoadMemory, reading: LoadReading | None, min_off_s: float
) -> bool:
    """True when `plan_load` will keep this load off for its min off time whatever it is offered."""
    if reading is None or not reading.available or not reading.connected:
        return False
    if mem.mode is Mode.OFF or mem.on or mem.off_since_s is None:
        return False
    if mem.connected is not None and bool(reading.connected) != mem.connected:
        return False  # a new session forgets the off time
    return now_s - mem.off_since_s < min_off_s


def ramp_target(
    dt_s: float,
    load: Load,
    mem: LoadMemory,
    plan: Plan,
    alloc: LoadAllocation | None,
    ramp_up_a_per_s: float,
) -> Target:
    """Where the command may go this cycle: never above the allocation, raised at most by the
    ramp, a start at the minimum, a hold at the minimum only where the allocation fits it."""
    ceiling_a = alloc.current_a if alloc is not None and alloc.on else 0.0
    state, reason = plan.state, plan.reason
    target_a = 0.0
    if plan.action is Action.FOLLOW:
        if ceiling_a <= EPS_A:
            state = LoadState.PAUSED
            reason = alloc.reason if alloc is not None else reason
        elif load.kind is LoadKind.PLUG:
            target_a = ceiling_a
        elif not mem.on:
            # A start goes to the minimum; the ramp takes it further from the next cycle.
            target_a = load.min_a if ceiling_a >= load.min_a - EPS_A else 0.0
            if target_a < ceiling_a - EPS_A:
                reason = f"start at min, ramping to {ceiling_a:.1f} A"
        else:
            base_a = max(mem.target_a, load.min_a)
            target_a = ceiling_a
            limit_a = base_a + ramp_up_a_per_s * dt_s
            if target_a > limit_a:
                target_a = limit_a
                reason = f"ramp {target_a:.1f}/{ceiling_a:.1f} A"
    elif plan.action is Action.KEEP:
        # Nothing reserved (the engine gave 0), but the device stays as it is. The target
        # is what is in force, so the guard can still cut it and its draw is trusted only
        # up to that.
        target_a = mem.written_a if mem.written_on else 0.0
        ceiling_a = target_a
    elif plan.action is Action.HOLD:
        floor_a = load.min_a if load.kind is LoadKind.EVSE else ceiling_a
        if ceiling_a > EPS_A and ceiling_a >= floor_a - EPS_A:
            target_a = min(floor_a, ceiling_a)
        else:
            state = LoadState.PAUSED
            reason = alloc.reason if alloc is not None else "no headroom for min"
    return Target(target_a, ceiling_a, state, reason, plan.pause)
