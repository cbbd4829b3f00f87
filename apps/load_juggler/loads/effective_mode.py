"""The mode a load runs in now, and why: one ordered list of rules, the first that applies wins.

From most to least urgent:
1. pause (a `pause` command): off until `resume`;
2. boost: continuous until its energy is delivered or its time is up;
3. set_mode from a command, until its end (ignored once the mode select is changed by hand
   after the command came);
4. the mode select, when it was changed by hand after the schedule window in force began;
5. the schedule window in force;
6. the mode select's option;
7. the configured `mode`.
Another rule (a deadline that must start charging) is one more function in `MODE_RULES`, put
where it ranks. Pure: no AppDaemon import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..engine.model import Mode
from .overrides import LoadOverride
from .schedule import ActiveWindow


@dataclass(frozen=True)
class ModeInputs:
    """Everything the rules look at, for one load at one moment."""

    now_s: float
    configured: Mode
    select_entity: str | None = None
    select_mode: Mode | None = None
    #: When the select was last changed by hand (None: not since the app started).
    select_changed_s: float | None = None
    window: ActiveWindow | None = None
    override: LoadOverride | None = None


@dataclass(frozen=True)
class ModeChoice:
    """The mode in force, which rule chose it (`source`) and a line saying why."""

    mode: Mode
    source: str
    reason: str


ModeRule = Callable[[ModeInputs], ModeChoice | None]


def _paused(i: ModeInputs) -> ModeChoice | None:
    if i.override is None or not i.override.paused:
        return None
    return ModeChoice(Mode.OFF, "pause", "paused by command until resume")


def _boosted(i: ModeInputs) -> ModeChoice | None:
    o = i.override
    if o is None or not o.boosting:
        return None
    parts = []
    if o.boost_energy_wh is not None:
        parts.append(f"{o.boost_energy_wh / 1000:g} kWh delivered")
    if o.boost_until_s is not None:
        parts.append(_clock(o.boost_until_s))
    return ModeChoice(Mode.CONTINUOUS, "boost", f"boost: continuous until {' or '.join(parts)}")


def superseded_by_select(i: ModeInputs) -> bool:
    """True when the select was changed by hand after the set_mode command came."""
    o = i.override
    return (
        o is not None
        and o.mode is not None
        and i.select_changed_s is not None
        and i.select_changed_s > o.mode_since_s
    )


def _commanded(i: ModeInputs) -> ModeChoice | None:
    o = i.override
    if o is None or o.mode is None or superseded_by_select(i):
        return None
    if o.mode_until_s is not None and i.now_s >= o.mode_until_s:
        return None
    until = f" until {_clock(o.mode_until_s)}" if o.mode_until_s is not None else ""
    return ModeChoice(o.mode, "command", f"mode {o.mode.value} by command{until}")


def _select_after_window(i: ModeInputs) -> ModeChoice | None:
    w = i.window
    if w is None or i.select_mode is None or i.select_changed_s is None:
        return None
    if i.select_changed_s < w.start_s:
        return None
    return ModeChoice(
        i.select_mode,
        "select",
        f"mode {i.select_mode.value} from {i.select_entity}, changed by hand at "
        f"{_clock(i.select_changed_s)} after schedule window {w.window.describe()} began",
    )


def _scheduled(i: ModeInputs) -> ModeChoice | None:
    w = i.window
    if w is None:
        return None
    return ModeChoice(
        w.window.mode,
        "schedule",
        f"mode {w.window.mode.value} by schedule window {w.window.describe()} "
        f"until {_clock(w.end_s)}",
    )


def _selected(i: ModeInputs) -> ModeChoice | None:
    if i.select_mode is None:
        return None
    return ModeChoice(i.select_mode, "select", f"mode {i.select_mode.value} from {i.select_entity}")


def _configured(i: ModeInputs) -> ModeChoice:
    return ModeChoice(i.configured, "config", f"mode {i.configured.value} as configured")


#: The rules, most urgent first; the configured mode is the last word.
MODE_RULES: tuple[ModeRule, ...] = (
    _paused,
    _boosted,
    _commanded,
    _select_after_window,
    _scheduled,
    _selected,
)


def effective_mode(inputs: ModeInputs) -> ModeChoice:
    """The mode in force: the first of `MODE_RULES` that applies, else the configured mode."""
    for rule in MODE_RULES:
        choice = rule(inputs)
        if choice is not None:
            return choice
    return _configured(inputs)


def _clock(seconds: float) -> str:
    """UTC ISO time without fractions, as the entities publish times."""
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0).isoformat()
