"""What a scenario run is judged by (the `metrics` object of `--json`)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..engine.model import SITE_NODE

_OVER_TOLERANCE_A = 1e-6


@dataclass
class Metrics:
    """Accumulates over the cycles of one run; each cycle's state lasts `step_s`.

    Overload is measured on the currents the plant carries at each reading, i.e. after the
    devices applied the previous cycle's commands: the state the breakers actually see.
    """

    limits_a: dict[str, float | None]
    phases: tuple[str, ...]
    overload_s: dict[str, float] = field(default_factory=dict)
    peak_a: dict[str, float] = field(default_factory=dict)
    import_wh: float = 0.0
    export_wh: float = 0.0
    energy_wh: dict[str, float] = field(default_factory=dict)
    start_stops: dict[str, int] = field(default_factory=dict)
    cycle_ms: list[float] = field(default_factory=list)
    _was_on: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in self.limits_a:
            for phase in self.phases:
                key = f"{node}.{phase}"
                self.overload_s.setdefault(key, 0.0)
                self.peak_a.setdefault(key, 0.0)

    def add_currents(self, nodes_a: dict[str, tuple[float, ...]], step_s: float) -> None:
        for node, currents in nodes_a.items():
            limit = self.limits_a.get(node)
            for phase, amps in zip(self.phases, currents, strict=False):
                key = f"{node}.{phase}"
                magnitude = abs(amps)
                self.peak_a[key] = max(self.peak_a.get(key, 0.0), magnitude)
                if limit is not None and magnitude > limit + _OVER_TOLERANCE_A:
                    self.overload_s[key] = self.overload_s.get(key, 0.0) + step_s

    def add_grid_power(self, grid_a: tuple[float, ...], voltage_v: float, step_s: float) -> None:
        """Import/export on a net meter: phases are summed before the sign is taken."""
        power_w = sum(grid_a) * voltage_v
        energy_wh = abs(power_w) * step_s / 3600.0
        if power_w > 0:
            self.import_wh += energy_wh
        else:
            self.export_wh += energy_wh

    def add_load_energy(self, load_id: str, power_w: float, step_s: float) -> None:
        self.energy_wh[load_id] = self.energy_wh.get(load_id, 0.0) + power_w * step_s / 3600.0

    def add_command(self, load_id: str, on: bool) -> None:
        """Counts off-to-on transitions of what the controller commands."""
        self.start_stops.setdefault(load_id, 0)
        if on and not self._was_on.get(load_id, False):
            self.start_stops[load_id] += 1
        self._was_on[load_id] = on

    def as_dict(self) -> dict[str, object]:
        cycle = self.cycle_ms or [0.0]
        return {
            "overload_s": {k: round(v, 3) for k, v in self.overload_s.items()},
            "peak_a": {k: round(v, 3) for k, v in self.peak_a.items()},
            "import_wh": round(self.import_wh, 3),
            "export_wh": round(self.export_wh, 3),
            "energy_wh": {k: round(v, 3) for k, v in self.energy_wh.items()},
            "start_stops": dict(self.start_stops),
            "cycle_ms_p50": round(statistics.median(cycle), 4),
            "cycle_ms_max": round(max(cycle), 4),
        }


def node_limits(
    main_breaker_a: float, circuits: dict[str, float | None]
) -> dict[str, float | None]:
    return {SITE_NODE: main_breaker_a, **circuits}
