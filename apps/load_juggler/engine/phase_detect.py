"""Which site phase a one-line load really hangs on, and whether the grid meter reads backwards.

Installers swap phases and clamps get mounted backwards. A configuration that believes the wrong
phase allocates against the wrong breaker phase: the load is paused by the measured-overload
guard, resumed, paused again. Both mistakes show in how the grid answers the load's own changes:

- `PhaseScores`: each cycle where the load's draw changed by at least `MIN_STEP_A` and exactly
  one site phase changed by about as much while the others stayed quiet is a *conclusive*
  sample; it adds `weight = min(|delta|, 15) / 5` to that phase. A phase is the *candidate* once
  it holds at least 70 % of the total score. An inconclusive sample (the house moved too, or the
  meters did not agree in time) halves every score, but only once the total is above 10, so a
  noisy house slowly forgets old evidence and never wipes it at once. Scores are never reset.
- `CtInversion`: over the last 15 significant changes of the managed loads' total draw
  (|delta| >= 1 A), if in at least 10 of them the grid's total moved the other way, the grid
  meter reads backwards.

Both take the plausibility-filtered samples of the meters, not the exponential averages the
engine allocates from: an average spreads one step over several cycles, and the comparison of
one cycle's changes is what tells which phase moved with the load.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: A load change smaller than this says nothing about its phase.
MIN_STEP_A = 0.5
#: A sample's weight is min(|delta|, WEIGHT_CAP_A) / WEIGHT_DIVISOR_A.
WEIGHT_CAP_A = 15.0
WEIGHT_DIVISOR_A = 5.0
#: Share of the total score a phase needs to be the candidate.
CANDIDATE_SHARE = 0.7
#: Inconclusive samples decay the scores only while the total is above this.
DECAY_ABOVE = 10.0
DECAY_FACTOR = 0.5
#: Score of a candidate other than the configured phase from which a charger is allocated on
#: both phases (one 5 A step that showed on another phase is enough to be careful).
SUSPECT_SCORE = 1.0
#: Score of the candidate at which the user is told / the map is changed (`auto_remap`).
NOTIFY_SCORE = 6.0
REMAP_SCORE = 15.0
#: A phase "matches" the load's change when it moved by the change within this much
#: (the larger of the absolute and the relative part); the other phases must stay within it.
MATCH_TOLERANCE_A = 0.3
MATCH_TOLERANCE_SHARE = 0.2

#: CT inversion: significant change of the managed total, window and votes needed.
CT_MIN_STEP_A = 1.0
CT_WINDOW = 15
CT_VOTES = 10


def sample_weight(step_a: float) -> float:
    """What one conclusive sample adds: a 20 A swing adds 3, so five of them reach 15."""
    return min(abs(step_a), WEIGHT_CAP_A) / WEIGHT_DIVISOR_A


def matching_phase(step_a: float, grid_steps_a: Mapping[str, float]) -> str | None:
    """The one site phase that moved with the load while the others stayed quiet, or None."""
    tolerance_a = max(MATCH_TOLERANCE_A, MATCH_TOLERANCE_SHARE * abs(step_a))
    matches = [p for p, g in grid_steps_a.items() if abs(g - step_a) <= tolerance_a]
    if len(matches) != 1:
        return None
    quiet = all(abs(g) <= tolerance_a for p, g in grid_steps_a.items() if p != matches[0])
    return matches[0] if quiet else None


@dataclass(frozen=True)
class Verdict:
    """What the scores say now: the candidate phase (None: not sure) and its score."""

    phase: str | None
    score_a: float
    total: float


class PhaseScores:
    """Evidence of one one-line load's site phase, built from successive samples."""

    def __init__(self, phases: Sequence[str], scores: Mapping[str, float] | None = None) -> None:
        self.scores: dict[str, float] = dict.fromkeys(phases, 0.0)
        for phase, value in (scores or {}).items():
            if phase in self.scores and isinstance(value, int | float) and value >= 0:
                self.scores[phase] = float(value)
        self._last_draw_a: float | None = None
        self._last_grid_a: dict[str, float] | None = None

    def observe(self, draw_a: float | None, grid_a: Mapping[str, float] | None) -> str | None:
        """One cycle's load draw and per-phase grid current; the phase credited, if any.

        A missing value breaks the chain: the next sample compares with nothing.
        """
        last_draw, last_grid = self._last_draw_a, self._last_grid_a
        complete = draw_a is not None and grid_a is not None and set(grid_a) == set(self.scores)
        self._last_draw_a = draw_a if complete else None
        self._last_grid_a = dict(grid_a) if complete and grid_a is not None else None
        if not complete or last_draw is None or last_grid is None:
            return None
        assert draw_a is not None and grid_a is not None
        step_a = draw_a - last_draw
        if abs(step_a) < MIN_STEP_A:
            return None
        phase = matching_phase(step_a, {p: grid_a[p] - last_grid[p] for p in self.scores})
        if phase is None:
            if self.total > DECAY_ABOVE:
                for p in self.scores:
                    self.scores[p] *= DECAY_FACTOR
            return None
        self.scores[phase] += sample_weight(step_a)
        return phase

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    def verdict(self) -> Verdict:
        total = self.total
        if total <= 0:
            return Verdict(None, 0.0, 0.0)
        phase = max(self.scores, key=lambda p: (self.scores[p], p))
        if self.scores[phase] < CANDIDATE_SHARE * total:
            return Verdict(None, self.scores[phase], total)
        return Verdict(phase, self.scores[phase], total)


class CtInversion:
    """Votes of the last `CT_WINDOW` significant changes of the managed loads' total draw."""

    def __init__(self) -> None:
        self._votes: deque[bool] = deque(maxlen=CT_WINDOW)
        self._last: tuple[float, float] | None = None

    def observe(self, loads_total_a: float | None, grid_total_a: float | None) -> None:
        """One cycle's total managed draw and total grid current (None: no sample)."""
        last = self._last
        if loads_total_a is None or grid_total_a is None:
            self._last = None
            return
        self._last = (loads_total_a, grid_total_a)
        if last is None:
            return
        load_step = loads_total_a - last[0]
        if abs(load_step) < CT_MIN_STEP_A:
            return
        grid_step = grid_total_a - last[1]
        # Backwards: the grid moved the other way by a good part of the load's change.
        self._votes.append(grid_step * load_step < 0 and abs(grid_step) >= 0.5 * abs(load_step))

    @property
    def inverted(self) -> bool:
        return sum(self._votes) >= CT_VOTES

    @property
    def votes(self) -> tuple[int, int]:
        """(backwards, significant changes seen) in the window."""
        return sum(self._votes), len(self._votes)
