"""What every load app's settings hold, whatever its kind: `LoadSettings`, modes, entity names.

Pure: no AppDaemon import. Each kind's options and parser live in `config/kinds/` (`evse`: an
OCPP charger, `switch`: a switched load), reading the common options of `kinds/common.py`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.errors import ConfigError
from ..engine.model import Load, LoadKind, Mode

if TYPE_CHECKING:
    from .schedule import ScheduleWindow

#: The options a mode `input_select` must offer, in the order we set them.
MODE_WORDS: dict[Mode, str] = {
    Mode.CONTINUOUS: "Continuous",
    Mode.SOLAR_PRIORITY: "Solar Priority",
    Mode.SOLAR_ONLY: "Solar Only",
    Mode.EXCESS: "Excess",
    Mode.OFF: "Off",
}
MODE_OPTIONS: tuple[str, ...] = tuple(MODE_WORDS.values())


def parse_mode(value: Any) -> Mode | None:
    """'Solar Priority', 'solar_priority', 'solar-priority' -> Mode.SOLAR_PRIORITY; else None.

    YAML reads an unquoted `mode: off` as false: that is `off`.
    """
    if isinstance(value, Mode):
        return value
    if value is False:
        return Mode.OFF
    if not isinstance(value, str):
        return None
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    try:
        return Mode(key)
    except ValueError:
        return None


def slugify(text: str) -> str:
    """Entity-id part from a name, like HA's slugify: accents folded (`wärme` -> `warme`)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", folded.lower())).strip("_")


def step_current_a(line_w: float, voltage_v: float) -> float:
    """A staged step's per-phase current: its busiest line's watts / V, rounded UP to 1 mA so
    the engine never counts a step below what it draws."""
    return math.ceil(line_w / voltage_v * 1000.0 - 1e-6) / 1000.0


def watts_as_current(
    power_range_w: tuple[float, float] | None,
    step_line_w: tuple[float, ...],
    voltage_v: float,
    phases: int,
) -> tuple[float, float, tuple[float, ...]]:
    """(min_a, max_a, steps_a) per phase of a kind set in watts: a staged load's steps (its
    busiest line's watts), else a variable-power load's range over all its lines."""
    if step_line_w:
        steps_a = tuple(step_current_a(w, voltage_v) for w in step_line_w)
        return steps_a[0], steps_a[-1], steps_a
    assert power_range_w is not None
    low_w, high_w = power_range_w
    return low_w / (voltage_v * phases), high_w / (voltage_v * phases), ()


class LoadConfigError(Exception):
    """A load app's args have problems; `problems` holds one ConfigError per problem."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadSettings:
    """What every load app declares; `min_a`/`max_a` are per phase."""

    name: str
    hub: str
    kind: LoadKind
    priority: int
    mode: Mode
    mode_select: str | None
    fix_mode_options: bool
    phases: int
    phase_map: tuple[str, ...]
    circuit: str | None
    min_a: float
    max_a: float
    power_w: float | None = None
    #: Weekly mode windows (`schedule:`), first listed wins where they overlap.
    schedule: tuple[ScheduleWindow, ...] = ()
    #: A kind set in watts (a variable-power load): (min, max) W over all its lines; the
    #: engine's per-phase current range follows from the voltage in `engine_load`.
    power_range_w: tuple[float, float] | None = None
    #: A staged load: the power (W) on its busiest line at each step it allows, ascending;
    #: the engine offers only these currents (`Load.steps_a`).
    step_line_w: tuple[float, ...] = ()
    auto_remap: bool = False

    def engine_load(self, voltage_v: float, circuit: str | None, mode: Mode | None = None) -> Load:
        """The static engine view of this load; a plug's current is rated power / (V x phases),
        a kind set in watts gets its current range (and steps) from its watts at `voltage_v`.

        Shared by the load apps and the simulator's `--example`, so the demo balances exactly
        what the apps would.
        """
        steps_a: tuple[float, ...] = ()
        if self.kind is LoadKind.PLUG:
            amps = (self.power_w or 0.0) / (voltage_v * self.phases)
            min_a = max_a = round(amps, 3)
        elif self.step_line_w or self.power_range_w is not None:
            min_a, max_a, steps_a = watts_as_current(
                self.power_range_w, self.step_line_w, voltage_v, self.phases
            )
        else:
            min_a, max_a = self.min_a, self.max_a
        return Load(
            id=self.name,
            kind=self.kind,
            mode=mode or self.mode,
            priority=self.priority,
            phases=self.phases,
            phase_map=self.phase_map,
            min_a=min_a,
            max_a=max_a,
            power_w=self.power_w,
            circuit=circuit,
            steps_a=steps_a,
            auto_remap=self.auto_remap,
        )
