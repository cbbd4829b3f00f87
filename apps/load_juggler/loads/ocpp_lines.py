"""The current an OCPP charger measures on each of its lines (L1, L2, L3).

As the integration publishes it: `current_import` carries the per-line currents as attributes
`L1`/`L2`/`L3` when the charger reports them (or a charger has one entity per line), and its
state is read as the sum of the lines (what 0.5.x publishes; 0.8+ publishes their average,
which read as a sum only ever counts less draw, the cautious side). After StopTransaction and in
SuspendedEV/SuspendedEVSE the integration zeroes the state but keeps the last attributes, so
the lines count only while the connector status says current may flow and the state is above
zero; else they read 0 A. A line that reads unknown holds its last value for a while:
MeterValues come only every minute or so, and one lost reading must not make the car's draw
unknown.
"""

from __future__ import annotations

from ..config import OcppSettings
from ..engine.model import LOAD_PHASES
from .capabilities import CycleContext, DeviceHost
from .entities import to_float
from .ocpp_part import ConnectorPart

#: A line carrying more than this many amps counts as in use (how many phases the car takes).
ACTIVE_LINE_A = 1.0


class LineCurrents(ConnectorPart):
    """Per-line currents of one charger connector (`phases` lines), and how many the car uses."""

    def __init__(self, host: DeviceHost, ocpp: OcppSettings, phases: int) -> None:
        super().__init__(host, ocpp)
        self._phases = phases
        self._last_line: dict[int, tuple[float, float]] = {}  # line -> (amps, when read)
        # Watts per amp assume one phase until a draw on more phases is measured: a 1-phase car
        # on a 3-phase charger must never be offered three times its current.
        self._active_phases = 1

    @property
    def active_phases(self) -> int:
        """The lines the car was last seen drawing on (1 until more are measured)."""
        with self._lock:
            return self._active_phases

    def new_car(self) -> None:
        """No session runs: the next car may be a one-phase one."""
        with self._lock:
            self._active_phases = 1

    def note_draw(self, draw: tuple[float | None, ...]) -> None:
        """A session's draw: the lines above ACTIVE_LINE_A are the phases the car uses."""
        active = sum(1 for a in draw if a is not None and a > ACTIVE_LINE_A)
        with self._lock:
            self._active_phases = active or self._active_phases

    def read(
        self, ctx: CycleContext, cap_a: float | None, flowing: bool, line_max_a: float
    ) -> tuple[float | None, ...] | None:
        """Per load phase (L1..), each line holding its last valid value for the stale timeout,
        capped at `cap_a` (the limit last sent); None when every line is unknown.

        `flowing`: the connector status says current may flow (else every line reads 0 A).
        `line_max_a`: the most one line can carry, to split a state without per-line values.
        """
        return self._hold(self._fresh(ctx.voltage_v, flowing, line_max_a), ctx, cap_a)

    def _fresh(self, voltage_v: float, flowing: bool, line_max_a: float) -> list[float | None]:
        """This cycle's per-line currents: one entity's L1/L2/L3 attributes, or one entity each."""
        host = self._host
        phases = self._phases
        entities = self._ocpp.entities.current_import
        if not flowing:
            # Stale values after StopTransaction, in SuspendedEV(SE), Preparing, offline.
            return [0.0] * phases
        if len(entities) > 1:
            return [host.current_a(eid, voltage_v) for eid in entities[:phases]]
        eid = entities[0]
        full = host.full(eid)
        if full is None:
            return [None] * phases
        total = host.current_from(eid, full, full.get("state"), voltage_v)
        if total is None:
            return [None] * phases
        if total <= 0:
            # The integration zeroes the state but keeps the last attributes: nothing flows.
            return [0.0] * phases
        attrs = full.get("attributes") or {}
        listed = [attrs.get(p) for p in LOAD_PHASES[:phases]]
        if any(to_float(v) is not None for v in listed):
            # The charger reports some lines: a line it leaves out carries nothing.
            per_line = [
                host.current_from(eid, full, v, voltage_v) if to_float(v) is not None else 0.0
                for v in listed
            ]
            if all(v is not None for v in per_line):
                return per_line
            return [None] * phases  # unit refused
        return self._split_total(total, phases, line_max_a)

    @staticmethod
    def _split_total(total_a: float, phases: int, line_max_a: float) -> list[float | None]:
        """Each line's share of a sum without per-line values: the least it can carry.

        Any line carries at least what the others cannot: total - (phases - 1) x line maximum
        (48 A on 3 lines of at most 16 A: 16 A each; 16 A: 0 A each, it may be a one-phase car).
        Counting more on a line than it carries would hide house load there; counting less
        leaves more of the grid reading to the house, the cautious side.
        """
        if phases <= 1:
            return [total_a]
        least = max(0.0, round(total_a - (phases - 1) * line_max_a, 1))
        return [least] * phases

    def _hold(
        self, fresh: list[float | None], ctx: CycleContext, cap_a: float | None
    ) -> tuple[float | None, ...] | None:
        """A line that reads unknown keeps its last valid value for `ctx.stale_timeout_s`.

        Without it one missed MeterValues made the car's draw unknown, the grid's share of it
        looked like house load, and the car was cut (and kept off by the min-off timer). The held
        value is capped at the limit last sent: a car that was cut since cannot draw more, and a
        lower draw is the cautious side (it leaves more of the grid reading to the house).
        """
        with self._lock:
            out: list[float | None] = []
            for line, amps in enumerate(fresh):
                if amps is not None:
                    self._last_line[line] = (amps, ctx.now_s)
                    out.append(amps)
                    continue
                last = self._last_line.get(line)
                if last is None or ctx.now_s - last[1] >= ctx.stale_timeout_s:
                    out.append(None)
                else:
                    out.append(last[0] if cap_a is None else min(last[0], cap_a))
        return None if all(v is None for v in out) else tuple(out)
