"""The controller's command writer: the write deadband and what a written command changes.

Chargers are not to be rewritten every cycle for a tenth of an ampere (DESIGN.md "Car
friendliness"), so a new value is written only when it differs enough from what the device
has, except where safety or accuracy asks for a write. What is written is what the device
does, so the on/off bookkeeping of the time rules (on since, off since, pauses) follows the
writes, not the targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .control_types import Command, LoadState
from .model import Load
from .smoothing import finite_or_none
from .targets import EPS_A, Target
from .time_rules import running_state
from .timers import LoadMemory


def write_commands(
    now_s: float,
    loads: tuple[Load, ...],
    memory: Mapping[str, LoadMemory],
    targets: Mapping[str, Target],
    not_obeying: Mapping[str, str],
    deadband_a: float,
) -> dict[str, Command]:
    """Each load's command; a load not obeying says so whatever it was told."""
    commands = {}
    for load in loads:
        command = write_command(now_s, load, memory[load.id], targets[load.id], deadband_a)
        reason = not_obeying.get(load.id)
        if reason is not None:
            command = replace(command, state=LoadState.NOT_OBEYING, reason=reason)
        commands[load.id] = command
    return commands


def write_command(
    now_s: float, load: Load, mem: LoadMemory, target: Target, deadband_a: float
) -> Command:
    """Apply the write deadband, update on/off bookkeeping, build the command.

    A write is forced on the first cycle, on any on/off change, when the device's current
    setting is above this cycle's ceiling (a cut the limits require, by any amount), and when
    the target reaches min, max or a staged load's step exactly (so a slow approach does not
    stop short of it).
    When nothing is written the command carries the value the device already has.
    """
    target_a, state = target.target_a, target.state
    target_on = target_a > EPS_A
    mem.target_a = target_a
    # A staged load's steps are bounds too: a ramp ending a little short of a step would
    # otherwise leave the device on the step below for good.
    bound_reached = target_on and any(
        abs(target_a - bound) < EPS_A for bound in (load.min_a, load.max_a, *load.steps_a)
    )
    write = (
        not mem.ever_written
        or target_on != mem.written_on
        or mem.written_a > target.ceiling_a + EPS_A
        or abs(target_a - mem.written_a) >= deadband_a - EPS_A
        or (bound_reached and abs(target_a - mem.written_a) > EPS_A)
    )
    if write:
        mem.written_a = target_a
        mem.written_on = target_on
        mem.ever_written = True
    current_a, on = mem.written_a, mem.written_on
    _note_on_off(now_s, mem, on, target.pause)
    if on and state in (LoadState.PAUSED, LoadState.WAITING, LoadState.OFF):
        state = running_state(load)
    if on and state is LoadState.SATISFIED:
        current_a = 0.0  # switched on, nothing reserved
    return Command(
        load_id=load.id,
        current_a=current_a,
        on=on,
        write=write,
        state=state,
        reason=target.reason,
    )


def _note_on_off(now_s: float, mem: LoadMemory, on: bool, pause: bool) -> None:
    """Start the on or off time when the device changes; a stop for lack of surplus is a pause."""
    if on and not mem.on:
        mem.on = True
        mem.on_since_s = now_s
        mem.stop.reset()
    elif not on and mem.on:
        mem.on = False
        mem.off_since_s = now_s
        mem.stop.reset()
        if pause:
            mem.pauses += 1


def safe_command(now_s: float, load: Load, mem: LoadMemory | None, err: Exception) -> Command:
    """The command of the safe state: 0, written, whatever the deadband or the timers say."""
    if mem is not None:
        if mem.on:
            mem.on = False
            mem.off_since_s = finite_or_none(now_s)
        mem.target_a = 0.0
        mem.written_a = 0.0
        mem.written_on = False
        mem.ever_written = True
    reason = f"engine error: {type(err).__name__}"
    return Command(
        load.id, current_a=0.0, on=False, write=True, state=LoadState.ERROR, reason=reason
    )
