"""The current an OCPP charger measures on each of its lines (L1, L2, L3).

The integration's `current_import` state is the average of the lines in use, with the per-line
currents as attributes `L1`/`L2`/`L3` when the charger reports them; a charger may also have
one entity per line. A line that reads unknown holds its last value for a while: MeterValues
come only every minute or so, and one lost reading must not make the car's draw unknown.
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

    def read(self, ctx: CycleContext, cap_a: float | None) -> tuple[float | None, ...] | None:
        """Per load phase (L1..), each line holding its last valid value for the stale timeout,
        capped at `cap_a` (the limit last sent); None when every line is unknown."""
        return self._hold(self._fresh(ctx.voltage_v), ctx, cap_a)

    def _fresh(self, voltage_v: float) -> list[float | None]:
        """This cycle's per-line currents: one entity's L1/L2/L3 attributes, or one entity each."""
        host = self._host
        phases = self._phases
        entities = self._ocpp.entities.current_import
        if len(entities) > 1:
            return [host.current_a(eid, voltage_v) for eid in entities[:phases]]
        eid = entities[0]
        full = host.full(eid)
        if full is None:
            return [None] * phases
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
        value = host.current_from(eid, full, full.get("state"), voltage_v)
        if value is None:
            return [None] * phases
        lines = self._lines_in_use(value, voltage_v, phases)
        return [value if line < lines else 0.0 for line in range(phases)]

    def _lines_in_use(self, amps: float, voltage_v: float, phases: int) -> int:
        """How many lines carry `amps` when the charger reports no per-line currents.

        The integration's state is then the average of the lines in use, and the active power
        their sum: power / (voltage x average) is the number of lines. Without a usable power
        reading one line (L1, where a one-phase car draws) is assumed: subtracting a 1-phase
        car's 16 A from lines it does not use would hide 16 A of house load on each of them,
        and a watt profile would give it three times its current.
        """
        if phases <= 1 or amps < 0.5:
            return 1
        power_w = self._host.power_w(self._ocpp.entities.power_active_import, "kW")
        if power_w is None or power_w <= 0:
            return 1
        return max(1, min(phases, round(power_w / (voltage_v * amps))))

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
