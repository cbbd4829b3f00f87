"""Which lines of a multi-line charger the connected car really draws on.

A 1-phase car on a 3-phase charger draws on L1 only (a 2-phase one on L1 and L2); reserving the
charger's current on all three phases keeps capacity from other loads that the car never uses.
The charger reports its current per line, so the car's lines show: a line is *unused* once it
stayed below `UNUSED_BELOW_A` for `UNUSED_READINGS` readings in a row while another line carried
at least `CARRYING_A` (a car that draws nothing says nothing). On the simulated and recorded
sessions, 0.5 A sits well above the meters' idle noise (0-0.2 A) and well below any car's
minimum of 6 A; 4 A excludes the ramp of a car waking up, when every line may still read low.

Safety: the moment an unused line reads `UNUSED_BELOW_A` or more again it is in use again, from
that very reading; until then its current (if any) counts as house load, which the engine takes
from the measured grid. What was learned holds for the car's session and is forgotten when it
ends (disconnected, finished or idle).
"""

from __future__ import annotations

from collections.abc import Sequence

UNUSED_BELOW_A = 0.5
UNUSED_READINGS = 3
CARRYING_A = 4.0


class LinesInUse:
    """One charger's lines in use in the running session (all, until learned otherwise)."""

    def __init__(self, lines: int, unused: Sequence[int] = ()) -> None:
        self.lines = lines
        self.unused: set[int] = {i for i in unused if 0 <= i < lines}
        if len(self.unused) >= lines:
            self.unused = set()
        self._low_for: list[int] = [0] * lines

    def observe(self, draw_a: Sequence[float | None] | None) -> bool:
        """One reading of the per-line current; True when the lines in use changed."""
        before = frozenset(self.unused)
        values = list(draw_a or ())[: self.lines]
        if len(values) < self.lines or any(v is None for v in values):
            # No full reading: nothing learned; a line already unused stays so.
            self._low_for = [0] * self.lines
            return False
        amps = [float(v) for v in values if v is not None]
        for i, a in enumerate(amps):
            carried = any(other >= CARRYING_A for j, other in enumerate(amps) if j != i)
            if a >= UNUSED_BELOW_A:
                self._low_for[i] = 0
                self.unused.discard(i)
            elif carried:
                self._low_for[i] += 1
                if self._low_for[i] >= UNUSED_READINGS:
                    self.unused.add(i)
            else:
                self._low_for[i] = 0
        return frozenset(self.unused) != before

    def end_session(self) -> bool:
        """Forget what was learned; True if anything was."""
        changed = bool(self.unused)
        self.unused = set()
        self._low_for = [0] * self.lines
        return changed

    @property
    def in_use(self) -> tuple[int, ...]:
        """Indices (0 = L1) of the lines in use, in order."""
        return tuple(i for i in range(self.lines) if i not in self.unused)

    def label(self) -> str:
        """`L1`, `L1 L2`, `L1 L2 L3`: as `sensor.load_juggler_<app>_phases_in_use` shows it."""
        return " ".join(f"L{i + 1}" for i in self.in_use)
