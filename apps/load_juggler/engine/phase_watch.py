"""What the controller learns about the real wiring, and the loads as the engine must see them.

Three watches (see `phase_detect` and `phases_in_use`) run on every cycle's readings:

- each one-line load's site phase (`PhaseScores`): at `NOTIFY_SCORE` the user is told what to
  write in apps.yaml; at `REMAP_SCORE` a load with `auto_remap` (`phase_map: auto`) is allocated
  on the phase it really uses from the next cycle on;
- the grid meter's direction (`CtInversion`), told once;
- the lines a multi-line charger's car really uses (`LinesInUse`): the engine sees the charger
  with those lines only, so the freed phases go to other loads, until the session ends.

Safety while the detector is unsure: a one-line charger whose draw shows on another phase than
its configured one (the evidence past `SUSPECT_SCORE`, not remapped) is allocated on *both*
phases, so whatever it gets fits the configured phase and the phase the meters say it is on;
the measured grid on every phase stays the background the engine allocates against. A remap
only moves the load to the phase where the meters see it; the engine then allocates against the
measured background of that phase, so a remap never raises a load above what the grid allows.

What was learned is plain JSON (`state`, `restore`) so the hub can keep it across a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .control_types import LoadReading, LoadState, Readings, SiteConfig
from .model import LOAD_PHASES, SITE_NODE, SITE_PHASES, Load, LoadKind
from .phase_detect import NOTIFY_SCORE, REMAP_SCORE, SUSPECT_SCORE, CtInversion, PhaseScores
from .phases_in_use import LinesInUse
from .smoothing import finite_or_none

#: State file sections (`StateFile`) this module's state goes to.
SECTION_MAPS = "phase_maps"
SECTION_SCORES = "phase_scores"
SECTION_IN_USE = "phases_in_use"


class PhaseEventKind(StrEnum):
    """`detected`: a load's phase differs from its configuration (told once per phase);
    `remapped`: an `auto_remap` load now runs on the detected phase; `grid_inverted`: the grid
    meter reads backwards (told once); `lines_in_use`: a charger's car uses other lines now."""

    DETECTED = "detected"
    REMAPPED = "remapped"
    GRID_INVERTED = "grid_inverted"
    LINES_IN_USE = "lines_in_use"


@dataclass(frozen=True)
class PhaseEvent:
    """One thing learned this cycle. `notify` says the user should be told (not just logged)."""

    kind: PhaseEventKind
    message: str
    load_id: str | None = None
    configured: tuple[str, ...] = ()
    detected: tuple[str, ...] = ()

    @property
    def notify(self) -> bool:
        return self.kind is not PhaseEventKind.LINES_IN_USE


def _one_line(load: Load, site_phases: int) -> bool:
    return load.phases == 1 and site_phases == 3


def _multi_line_charger(load: Load) -> bool:
    return load.kind is LoadKind.EVSE and load.phases >= 2


class PhaseWatch:
    """The watches of every configured load, and the view of the loads they lead to."""

    def __init__(self, plant: SiteConfig) -> None:
        self._plant = plant
        self._scores: dict[str, PhaseScores] = {}
        self._lines: dict[str, LinesInUse] = {}
        #: Site phase of each remapped one-line load (kept for loads not registered yet).
        self.remapped: dict[str, str] = {}
        self._saved_scores: dict[str, dict[str, float]] = {}
        self._saved_in_use: dict[str, list[str]] = {}
        self._told: dict[str, str] = {}
        self._ct = CtInversion()
        self._ct_told = False
        #: Counts every change that may change the engine's view (`effective`), so the
        #: controller rebuilds its view only then.
        self.version = 0
        #: Per load whose view reorders its lines, the reading line of each view line (set by
        #: `effective`, used by `view_readings`).
        self._reading_lines: dict[str, tuple[int, ...]] = {}
        self.adopt(plant)

    # ---------------------------------------------------------------------------- configuration

    def adopt(self, plant: SiteConfig) -> None:
        """Track the loads of a new configuration; what a kept load learned stays."""
        self._plant = plant
        self.version += 1
        phases = SITE_PHASES[: plant.site.phases]
        scores, lines = {}, {}
        for load in plant.loads:
            if _one_line(load, plant.site.phases):
                kept = self._scores.get(load.id)
                scores[load.id] = kept or PhaseScores(phases, self._saved_scores.pop(load.id, {}))
            elif _multi_line_charger(load):
                held = self._lines.get(load.id)
                if held is None or held.lines != load.phases:
                    saved = self._saved_in_use.pop(load.id, LOAD_PHASES)
                    unused = [i for i in range(load.phases) if LOAD_PHASES[i] not in saved]
                    held = LinesInUse(load.phases, unused)
                lines[load.id] = held
        self._scores, self._lines = scores, lines

    def phase_of(self, load: Load) -> str:
        """The site phase a one-line load is allocated on (a remap wins for `auto_remap`)."""
        remapped = self.remapped.get(load.id)
        return remapped if load.auto_remap and remapped else load.phase_map[0]

    def suspected(self, load: Load) -> str | None:
        """The phase the evidence points to when it is not the one allocated on (else None)."""
        tracker = self._scores.get(load.id)
        if tracker is None:
            return None
        verdict = tracker.verdict()
        if verdict.phase is None or verdict.score_a < SUSPECT_SCORE:
            return None
        return verdict.phase if verdict.phase != self.phase_of(load) else None

    def detected_map(self, load_id: str) -> tuple[str, ...] | None:
        """The phase map the evidence says, when it differs from the configured one."""
        load = next((ld for ld in self._plant.loads if ld.id == load_id), None)
        tracker = self._scores.get(load_id)
        if load is None or tracker is None:
            return None
        verdict = tracker.verdict()
        if verdict.phase is None or verdict.score_a < NOTIFY_SCORE:
            return None
        return (verdict.phase,) if verdict.phase != load.phase_map[0] else None

    def lines_label(self, load_id: str) -> str | None:
        """`L1`, `L1 L2`, ... of a multi-line charger (None: not one)."""
        tracker = self._lines.get(load_id)
        return None if tracker is None else tracker.label()

    @property
    def grid_inverted(self) -> bool:
        return self._ct.inverted

    # --------------------------------------------------------------------------- the engine view

    def effective(self, plant: SiteConfig) -> SiteConfig:
        """The configuration the engine allocates with: remapped, narrowed or doubled loads."""
        views = {load.id: self._view(load) for load in plant.loads}
        self._reading_lines = {k: lines for k, (_, lines) in views.items() if lines is not None}
        loads = tuple(views[load.id][0] for load in plant.loads)
        return plant if loads == plant.loads else replace(plant, loads=loads)

    def _view(self, load: Load) -> tuple[Load, tuple[int, ...] | None]:
        """The load as the engine sees it and which reading line feeds each of its lines."""
        lines = self._lines.get(load.id)
        if lines is not None and lines.unused:
            used = lines.in_use
            phase_map = tuple(load.phase_map[i] for i in used)
            return replace(load, phases=len(used), phase_map=phase_map), used
        if load.id not in self._scores:
            return load, None
        phase = self.phase_of(load)
        suspect = self.suspected(load)
        if suspect is not None and load.kind is LoadKind.EVSE:
            return replace(load, phases=2, phase_map=(phase, suspect)), (0, 0)
        if phase != load.phase_map[0]:
            return replace(load, phase_map=(phase,)), None
        return load, None

    def view_readings(self, readings: Readings) -> Readings:
        """Each load's per-line draw in the line order of its engine view (the view `effective`
        made last)."""
        if not isinstance(readings.loads, dict) or not self._reading_lines:
            return readings
        changed: dict[str, LoadReading] = {}
        for load_id, lines in self._reading_lines.items():
            reading = readings.loads.get(load_id)
            if reading is None or not isinstance(reading.draw_a, list | tuple):
                continue
            draw = tuple(reading.draw_a)
            if len(draw) <= max(lines):
                continue
            changed[load_id] = replace(reading, draw_a=tuple(draw[i] for i in lines))
        if not changed:
            return readings
        return replace(readings, loads={**readings.loads, **changed})

    # ------------------------------------------------------------------------------- the watches

    def observe_lines(self, readings: Readings) -> list[PhaseEvent]:
        """The lines each multi-line charger's car uses, from this cycle's raw readings."""
        events: list[PhaseEvent] = []
        raw = readings.loads if isinstance(readings.loads, dict) else {}
        for load in self._plant.loads:
            tracker = self._lines.get(load.id)
            if tracker is None:
                continue
            reading = raw.get(load.id)
            if _session_over(reading):
                changed = tracker.end_session()
            else:
                assert reading is not None
                changed = tracker.observe(reading.draw_a)
            if changed:
                self.version += 1
                events.append(
                    PhaseEvent(
                        PhaseEventKind.LINES_IN_USE,
                        f"load '{load.id}': the car draws on {tracker.label()}",
                        load.id,
                        configured=LOAD_PHASES[: load.phases],
                        detected=tuple(tracker.label().split()),
                    )
                )
        return events

    def observe(
        self, readings: Readings, measured_a: Mapping[tuple[str, str], float | None]
    ) -> list[PhaseEvent]:
        """Score each one-line load's phase and the grid meter's direction on this cycle."""
        phases = SITE_PHASES[: self._plant.site.phases]
        grid = {p: measured_a.get((SITE_NODE, p)) for p in phases}
        grid_a = None if any(v is None for v in grid.values()) else grid
        raw = readings.loads if isinstance(readings.loads, dict) else {}
        events: list[PhaseEvent] = []
        loads_total: float | None = 0.0
        for load in self._plant.loads:
            draw = _total_draw(raw.get(load.id))
            if loads_total is not None:
                loads_total = None if draw is None else loads_total + draw
            tracker = self._scores.get(load.id)
            if tracker is None:
                continue
            before = tracker.total
            tracker.observe(draw, grid_a)  # type: ignore[arg-type]
            if tracker.total != before:
                self.version += 1
            event = self._judge(load, tracker)
            if event is not None:
                events.append(event)
        grid_total = None if grid_a is None else sum(grid_a.values())  # type: ignore[arg-type]
        self._ct.observe(loads_total if self._plant.loads else None, grid_total)
        if self._ct.inverted and not self._ct_told:
            self._ct_told = True
            backwards, seen = self._ct.votes
            events.append(
                PhaseEvent(
                    PhaseEventKind.GRID_INVERTED,
                    f"the grid current meter reads backwards: in {backwards} of the last {seen} "
                    "changes of the managed loads the grid moved the other way; flip "
                    "'sensors.grid_invert' in the hub's apps.yaml",
                )
            )
        return events

    def _judge(self, load: Load, tracker: PhaseScores) -> PhaseEvent | None:
        verdict = tracker.verdict()
        phase = verdict.phase
        current = self.phase_of(load)
        if phase is None or phase == current or verdict.score_a < NOTIFY_SCORE:
            return None
        shown = f"{verdict.score_a:.1f} of {verdict.total:.1f}"
        if load.auto_remap and verdict.score_a >= REMAP_SCORE:
            self.remapped[load.id] = phase
            self.version += 1
            self._told[load.id] = phase
            return PhaseEvent(
                PhaseEventKind.REMAPPED,
                f"load '{load.id}' draws on site phase {phase}, not {current} (score {shown}): "
                f"now allocated on {phase}; write phase_map: [{phase}] in its apps.yaml entry "
                "to keep it so",
                load.id,
                configured=(current,),
                detected=(phase,),
            )
        if self._told.get(load.id) == phase:
            return None
        self._told[load.id] = phase
        then = (
            f"it moves to {phase} by itself at score {REMAP_SCORE:g}"
            if load.auto_remap
            else f"set phase_map: [{phase}] (or phase_map: auto) in its apps.yaml entry"
        )
        both = "; until then it is allocated on both phases" if load.kind is LoadKind.EVSE else ""
        return PhaseEvent(
            PhaseEventKind.DETECTED,
            f"load '{load.id}' seems to draw on site phase {phase}, not {current} as configured "
            f"(score {shown}): {then}{both}",
            load.id,
            configured=(current,),
            detected=(phase,),
        )

    # ------------------------------------------------------------------------------ persistence

    def state(self) -> dict[str, dict[str, Any]]:
        """What was learned, by state file section (JSON-ready)."""
        scores = {**self._saved_scores}
        scores.update(
            {
                load_id: {p: round(v, 2) for p, v in tracker.scores.items()}
                for load_id, tracker in self._scores.items()
                if tracker.total > 0
            }
        )
        in_use = {**self._saved_in_use}
        in_use.update(
            {
                load_id: tracker.label().split()
                for load_id, tracker in self._lines.items()
                if tracker.unused
            }
        )
        return {
            SECTION_MAPS: {load_id: [phase] for load_id, phase in sorted(self.remapped.items())},
            SECTION_SCORES: scores,
            SECTION_IN_USE: in_use,
        }

    def restore(self, sections: Mapping[str, Any]) -> list[str]:
        """Take what a state file kept; anything malformed is skipped with a line saying so."""
        problems: list[str] = []
        maps = sections.get(SECTION_MAPS) or {}
        for load_id, value in maps.items() if isinstance(maps, dict) else ():
            if isinstance(value, list) and len(value) == 1 and value[0] in SITE_PHASES:
                self.remapped[str(load_id)] = value[0]
            else:
                problems.append(f"{SECTION_MAPS}.{load_id}: {value!r} is not one site phase")
        scores = sections.get(SECTION_SCORES) or {}
        for load_id, value in scores.items() if isinstance(scores, dict) else ():
            if isinstance(value, dict):
                self._saved_scores[str(load_id)] = value
            else:
                problems.append(f"{SECTION_SCORES}.{load_id}: {value!r} is not an object")
        in_use = sections.get(SECTION_IN_USE) or {}
        for load_id, value in in_use.items() if isinstance(in_use, dict) else ():
            if isinstance(value, list) and value and all(v in LOAD_PHASES for v in value):
                self._saved_in_use[str(load_id)] = list(value)
            else:
                problems.append(f"{SECTION_IN_USE}.{load_id}: {value!r} is not a list of lines")
        # Known loads take what was kept at once (their trackers are rebuilt from it).
        self._scores = {k: v for k, v in self._scores.items() if k not in self._saved_scores}
        self._lines = {k: v for k, v in self._lines.items() if k not in self._saved_in_use}
        self.adopt(self._plant)
        return problems


def _session_over(reading: LoadReading | None) -> bool:
    """No reading, unplugged, or a charger resting after (or without) a session."""
    if reading is None or not reading.connected or not reading.available:
        return True
    rest = reading.rest
    return rest is not None and rest.state in (LoadState.FINISHED, LoadState.IDLE)


def _total_draw(reading: LoadReading | None) -> float | None:
    """A load's raw draw summed over its lines; None when any line is unknown."""
    if reading is None or not isinstance(reading.draw_a, list | tuple):
        return None if reading is not None and reading.available else 0.0
    values = [finite_or_none(v) for v in reading.draw_a]
    if not values or any(v is None for v in values):
        return None
    return float(sum(max(0.0, v) for v in values if v is not None))
