"""What a scenario run is judged by (the `metrics` object of `--json`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..engine.model import SITE_NODE

_OVER_TOLERANCE_A = 1e-6
#: Cycle times are counted in bins of this width, so memory does not grow with the run's length.
CYCLE_MS_RESOLUTION = 0.001


@dataclass
class TankMetrics:
    """What a run says about one tank (see `Metrics.add_tank`)."""

    min_c: float
    max_c: float
    solar_wh: float = 0.0
    grid_wh: float = 0.0
    deadline_missed: int = 0


@dataclass
class Metrics:
    """Accumulates over the cycles of one run; each cycle's state lasts `step_s`.

    Overload is measured on the currents the plant carries at each reading, i.e. after the
    devices applied the previous cycle's commands: the state the breakers actually see.
    `overload_episodes` splits `overload_s` into contiguous runs `[start_t, seconds]`.
    Nothing here grows with the run's length (cycle times are binned at 1 us), so a week at
    `step_s: 1` costs no more memory than an hour (what was learned of the wiring is told
    once per finding: `phase_remaps` per load `[t, from, to]`, `notifications` `[t, text]`).
    """

    limits_a: dict[str, float | None]
    phases: tuple[str, ...]
    overload_s: dict[str, float] = field(default_factory=dict)
    overload_episodes: dict[str, list[list[float]]] = field(default_factory=dict)
    peak_a: dict[str, float] = field(default_factory=dict)
    import_wh: float = 0.0
    export_wh: float = 0.0
    energy_wh: dict[str, float] = field(default_factory=dict)
    start_stops: dict[str, int] = field(default_factory=dict)
    cycle_bins: Counter[int] = field(default_factory=Counter)
    cycle_ms_max: float = 0.0
    #: Per water heater: lowest and highest tank temperature, element energy from green
    #: power and from the grid, `min_c_by` deadlines missed (`add_tank`).
    tanks: dict[str, TankMetrics] = field(default_factory=dict)
    phase_remaps: dict[str, list[list[object]]] = field(default_factory=dict)
    notifications: list[list[object]] = field(default_factory=list)
    _was_on: dict[str, bool] = field(default_factory=dict)
    _over: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for node in self.limits_a:
            for phase in self.phases:
                key = f"{node}.{phase}"
                self.overload_s.setdefault(key, 0.0)
                self.overload_episodes.setdefault(key, [])
                self.peak_a.setdefault(key, 0.0)

    def add_currents(
        self, nodes_a: dict[str, tuple[float, ...]], step_s: float, t_s: float = 0.0
    ) -> None:
        """One reading at `t_s`, lasting `step_s`; an overload continues the open episode."""
        for node, currents in nodes_a.items():
            limit = self.limits_a.get(node)
            for phase, amps in zip(self.phases, currents, strict=False):
                key = f"{node}.{phase}"
                magnitude = abs(amps)
                self.peak_a[key] = max(self.peak_a.get(key, 0.0), magnitude)
                if limit is not None and magnitude > limit + _OVER_TOLERANCE_A:
                    self.overload_s[key] = self.overload_s.get(key, 0.0) + step_s
                    episodes = self.overload_episodes.setdefault(key, [])
                    if key in self._over:
                        episodes[-1][1] += step_s
                    else:
                        episodes.append([t_s, step_s])
                        self._over.add(key)
                else:
                    self._over.discard(key)

    def add_cycle_ms(self, cycle_ms: float) -> None:
        self.cycle_bins[round(cycle_ms / CYCLE_MS_RESOLUTION)] += 1
        self.cycle_ms_max = max(self.cycle_ms_max, cycle_ms)

    def cycle_ms_p50(self) -> float:
        """The median cycle time (the lower median for an even count), to 1 us."""
        count = sum(self.cycle_bins.values())
        if count == 0:
            return 0.0
        middle = (count - 1) // 2
        seen = 0
        for bin_index in sorted(self.cycle_bins):
            seen += self.cycle_bins[bin_index]
            if seen > middle:
                return bin_index * CYCLE_MS_RESOLUTION
        raise AssertionError("unreachable: the bins hold `count` cycles")

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

    def add_tank(
        self,
        load_id: str,
        temp_c: float,
        power_w: float,
        grid_w: float,
        step_s: float,
        missed_deadline: bool,
    ) -> None:
        """One step of a tank: its temperature at the step's start, its element's power and
        the site's net grid power. The element counts as grid as far as the site imports
        (it is the last load that could be left out), the rest as green (solar, battery)."""
        tank = self.tanks.setdefault(load_id, TankMetrics(temp_c, temp_c))
        tank.min_c = min(tank.min_c, temp_c)
        tank.max_c = max(tank.max_c, temp_c)
        from_grid_w = min(max(0.0, power_w), max(0.0, grid_w))
        tank.grid_wh += from_grid_w * step_s / 3600.0
        tank.solar_wh += (max(0.0, power_w) - from_grid_w) * step_s / 3600.0
        tank.deadline_missed += 1 if missed_deadline else 0

    def add_command(self, load_id: str, on: bool) -> None:
        """Counts off-to-on transitions of what the controller commands."""
        self.start_stops.setdefault(load_id, 0)
        if on and not self._was_on.get(load_id, False):
            self.start_stops[load_id] += 1
        self._was_on[load_id] = on

    def as_dict(self) -> dict[str, object]:
        return {
            "overload_s": {k: round(v, 3) for k, v in self.overload_s.items()},
            "overload_episodes": {
                k: [[round(start, 3), round(seconds, 3)] for start, seconds in v]
                for k, v in self.overload_episodes.items()
            },
            "peak_a": {k: round(v, 3) for k, v in self.peak_a.items()},
            "import_wh": round(self.import_wh, 3),
            "export_wh": round(self.export_wh, 3),
            "energy_wh": {k: round(v, 3) for k, v in self.energy_wh.items()},
            "start_stops": dict(self.start_stops),
            "phase_remaps": {k: [list(r) for r in v] for k, v in self.phase_remaps.items()},
            "notifications": [list(n) for n in self.notifications],
            "cycle_ms_p50": round(self.cycle_ms_p50(), 4),
            "cycle_ms_max": round(self.cycle_ms_max, 4),
            **self._tank_metrics(),
        }

    def _tank_metrics(self) -> dict[str, dict[str, float | int]]:
        """`min_c`, `max_c`, `solar_wh`, `grid_wh`, `deadline_missed`, each per water
        heater; absent when the scenario has none (other scenarios' output is unchanged)."""
        if not self.tanks:
            return {}
        tanks = self.tanks.items()
        return {
            "min_c": {k: round(t.min_c, 3) for k, t in tanks},
            "max_c": {k: round(t.max_c, 3) for k, t in tanks},
            "solar_wh": {k: round(t.solar_wh, 3) for k, t in tanks},
            "grid_wh": {k: round(t.grid_wh, 3) for k, t in tanks},
            "deadline_missed": {k: t.deadline_missed for k, t in tanks},
        }


def node_limits(
    main_breaker_a: float, circuits: dict[str, float | None]
) -> dict[str, float | None]:
    return {SITE_NODE: main_breaker_a, **circuits}
