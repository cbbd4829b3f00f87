"""A staged load (kind `staged`): switched elements forming power steps; options and parser.

A 3 x 2 kW heater with one element per phase, or 1 kW + 2 kW elements on one phase giving
1/2/3 kW: each element (`stages[]`) has a switch, a rated power and its load line (`phase`,
L1..L3, mapped to a site phase by `phase_map`). A step is a set of elements switched on
together; `steps` lists them by element number (1 = the first of `stages`), by default
cumulatively in list order ([1], [1, 2], [1, 2, 3]).

The engine takes a load as the same current on each of its lines, so a step counts as its
busiest line's current on every line (`StagedSettings.step_line_w`): a breaker is never
overrun, and an unbalanced step is reserved at more than it draws. A step that needs at least
as much current as a larger one is dropped (it could never be the best choice), so every
allowed current picks the step with the most power (`StagedSettings.allowed`).

Pure: no AppDaemon import (the simulator reads scenario stages through `read_stages`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ...engine.model import LOAD_PHASES, LoadKind, Mode
from ..load_config import LoadConfigError, LoadSettings
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .common import COMMON_OPTIONS, read_common

#: More elements than this make a staged load of a dozen relays: not what this kind is for.
MAX_STAGES = 8

STAGE_OPTIONS = Schema(
    "stage",
    (
        Option(
            "stages[].switch",
            OptionType.ENTITY,
            required=True,
            domains=("switch", "input_boolean"),
            doc="the element's `switch.*` or `input_boolean.*`",
        ),
        Option(
            "stages[].power_w",
            OptionType.NUMBER,
            required=True,
            above=0,
            maximum=50000,
            doc="the element's rated power (W)",
        ),
        Option(
            "stages[].phase",
            OptionType.CHOICE,
            "L1",
            choices=LOAD_PHASES,
            doc="the load line it is wired to (L1..L`phases`)",
        ),
    ),
)
STAGED_OPTIONS = Schema(
    "staged",
    (
        Option(
            "stages",
            OptionType.CUSTOM,
            required=True,
            doc=f"the elements, 1 to {MAX_STAGES}: `switch`, `power_w`, `phase`",
        ),
        Option(
            "steps",
            OptionType.CUSTOM,
            default_doc="`[[1], [1, 2], ...]`",
            doc="the element sets allowed together, by element number (1 = first)",
        ),
        Option(
            "min_on_s",
            OptionType.NUMBER,
            300.0,
            minimum=0,
            doc="an element switched on stays on this long (unless a limit needs the cut)",
        ),
        Option(
            "min_off_s",
            OptionType.NUMBER,
            180.0,
            minimum=0,
            doc="an element switched off stays off this long",
        ),
        Option(
            "power_sensor",
            OptionType.ENTITY,
            domains=("sensor",),
            doc="measured total draw; else the rated power of the elements that are on",
        ),
    ),
)
#: Every option a staged load app reads, common ones first.
STAGED_SCHEMA = COMMON_OPTIONS.with_defaults("staged", mode=Mode.EXCESS, phases=1) + STAGED_OPTIONS


@dataclass(frozen=True)
class Stage:
    """One element: its switch (None in a scenario file), rated power and load line (0 = L1)."""

    switch: str | None
    power_w: float
    line: int


@dataclass(frozen=True)
class StagedSettings:
    """The elements and the steps (element index sets) allowed, as configured."""

    stages: tuple[Stage, ...]
    steps: tuple[frozenset[int], ...]
    phases: int
    min_on_s: float = 300.0
    min_off_s: float = 180.0
    power_sensor: str | None = None

    def line_w(self, elements: frozenset[int]) -> tuple[float, ...]:
        """Watts on each load line with `elements` on."""
        lines = [0.0] * self.phases
        for index in elements:
            stage = self.stages[index]
            lines[stage.line] += stage.power_w
        return tuple(lines)

    def power_w(self, elements: frozenset[int]) -> float:
        return sum(self.stages[i].power_w for i in elements)

    @property
    def allowed(self) -> tuple[frozenset[int], ...]:
        """The steps worth taking, by ascending busiest-line watts, each with more power than
        the one before (for equal busiest-line watts, the one with the most power)."""
        ranked = sorted(self.steps, key=lambda s: (max(self.line_w(s)), -self.power_w(s)))
        kept: list[frozenset[int]] = []
        for step in ranked:
            if kept and max(self.line_w(step)) == max(self.line_w(kept[-1])):
                continue
            if kept and self.power_w(step) <= self.power_w(kept[-1]):
                continue
            kept.append(step)
        return tuple(kept)

    @property
    def step_line_w(self) -> tuple[float, ...]:
        """The busiest line's watts of each allowed step: what the engine counts per line."""
        return tuple(max(self.line_w(step)) for step in self.allowed)


def _read_stage(r: ArgReader, index: int, raw: Any, phases: int, switch: bool) -> Stage | None:
    if not isinstance(raw, Mapping):
        r.error(f"stages[{index}]", raw, "must be a mapping with switch, power_w and phase")
        return None
    sr = ArgReader(r.item, raw, path=f"{r.key('stages')}[{index}].", errors=r.errors)
    o = STAGE_OPTIONS
    entity = o["stages[].switch"].read(sr) if switch else None
    power_w = o["stages[].power_w"].read(sr)
    phase = o["stages[].phase"].read(sr)
    sr.finish()
    line = LOAD_PHASES.index(phase)
    if line >= phases:
        sr.error("phase", phase, f"must be one of {', '.join(LOAD_PHASES[:phases])} (phases)")
        return None
    if power_w is None:
        return None
    return Stage(switch=entity, power_w=float(power_w), line=line)


def _read_steps(r: ArgReader, count: int) -> tuple[frozenset[int], ...]:
    """`steps`: lists of element numbers (1-based); default cumulative in list order."""
    cumulative = tuple(frozenset(range(n + 1)) for n in range(count))
    if not r.has("steps"):
        return cumulative
    raw = r.raw("steps")
    allowed = f"must be a list of element lists, each of distinct numbers 1..{count}"
    if not isinstance(raw, list) or not raw:
        r.error("steps", raw, allowed)
        return cumulative
    steps: list[frozenset[int]] = []
    for item in raw:
        numbers = item if isinstance(item, list) else [item]
        if (
            not numbers
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
            or not all(1 <= n <= count for n in numbers)
            or len(set(numbers)) != len(numbers)
        ):
            r.error("steps", raw, allowed)
            return cumulative
        step = frozenset(n - 1 for n in numbers)
        if step in steps:
            r.error("steps", raw, f"lists the element set {sorted(numbers)} twice")
            return cumulative
        steps.append(step)
    return tuple(steps)


def read_stages(
    r: ArgReader, phases: int, *, switches: bool = True
) -> tuple[tuple[Stage, ...], tuple[frozenset[int], ...]]:
    """`stages` and `steps` (`switches` False: a scenario file's elements have none)."""
    raw = r.raw("stages")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STAGES:
        r.error("stages", raw, f"required: a list of 1 to {MAX_STAGES} elements")
        return (), ()
    read = [_read_stage(r, n, item, phases, switches) for n, item in enumerate(raw)]
    stages = tuple(s for s in read if s is not None)
    if len(stages) != len(read):
        return (), ()
    return stages, _read_steps(r, len(stages))


def parse_staged(name: str, args: Mapping[str, Any]) -> tuple[LoadSettings, StagedSettings]:
    """Parse a staged load app's `self.args`; raises LoadConfigError with every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    o = STAGED_SCHEMA
    common = read_common(r, name, LoadKind.EVSE, o)
    stages, steps = read_stages(r, common.phases)
    min_on_s = o["min_on_s"].read(r)
    min_off_s = o["min_off_s"].read(r)
    sensor = o["power_sensor"].read(r)
    r.finish()
    switches = [s.switch for s in stages]
    if len(set(switches)) != len(switches):
        r.error("stages", [s.switch for s in stages], "each element needs its own switch")
    if r.errors:
        raise LoadConfigError(r.errors)
    settings = StagedSettings(
        stages=stages,
        steps=steps,
        phases=common.phases,
        min_on_s=min_on_s,
        min_off_s=min_off_s,
        power_sensor=sensor,
    )
    return replace(common, step_line_w=settings.step_line_w), settings


def elements_text(settings: StagedSettings, elements: Sequence[int]) -> str:
    """`1+3` for elements 0 and 2 on; `none` when none is."""
    return "+".join(str(i + 1) for i in sorted(elements)) or "none"
