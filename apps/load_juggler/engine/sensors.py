"""Site sensors as the engine may believe them: filtered, checked for plausibility, aged.

Sensors in Home Assistant flicker, drop out, lag and occasionally report nonsense. This module
turns one cycle's raw site readings (grid, circuit meters, voltage, solar, battery, import cap)
into the values a snapshot is built from:

- implausible samples (`plausible`) are glitches: treated as unavailable, the last good value
  held, one warning line with the raw value per episode;
- a grid or circuit meter that had a valid sample and has none this cycle (not yet stale) is
  *blind*: its node is listed in `SiteFrame.blind_nodes`, and the controller raises no load
  behind it (see `Controller._hold_while_blind`);
- solar and battery power move toward their last valid sample when one is missing, if that
  is the cautious side (`CautiousEma`);
- the grid and circuit meters are filtered as background (meter minus the trusted draw of the
  managed loads behind it), following a rise at once (`RiseFirstEma`);
- a circuit meter without a valid value for `grid_stale_timeout_s` is ignored (the circuit
  falls back to the configured accounting) with one warning line;
- battery power, SoC and the import cap go stale after `sensor_stale_timeout_s`: battery power
  then counts as 0 (no discharge to hand out), SoC as unknown (every threshold not reached),
  and the import cap is the configured one, or the most cautious value seen in the last hour
  if lower;
- an import cap at or below 0 (a grid operator's "no import") means green power only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .control_types import Plant, Readings
from .model import SITE_NODE, SITE_PHASES, Site
from .plausible import (
    BREAKER_GLITCH_FACTOR,
    battery_plausible,
    circuit_plausible,
    circuit_power_plausible,
    grid_bounds_a,
    soc_plausible,
    solar_plausible,
    voltage_plausible,
    voltage_range_v,
)
from .smoothing import CautiousEma, Ema, RiseFirstEma, finite_or_none

#: How far back the most cautious import cap is remembered for a stale cap sensor.
IMPORT_CAP_MEMORY_S = 3600.0

NodePhase = tuple[str, str]


class WarnOnce:
    """Keys of the episodes that already produced their warning line."""

    def __init__(self) -> None:
        self._active: set[str] = set()

    def begin(self, key: str, line: str, warnings: list[str]) -> None:
        if key not in self._active:
            self._active.add(key)
            warnings.append(line)

    def end(self, key: str) -> None:
        self._active.discard(key)


@dataclass
class HeldValue:
    """Last valid value and when it was seen; `get` is None once it is older than the timeout."""

    value: float | None = None
    seen_s: float | None = None

    def update(self, now_s: float, sample: float | None) -> None:
        if sample is not None:
            self.value = sample
            self.seen_s = now_s

    def stale(self, now_s: float, timeout_s: float) -> bool:
        return self.seen_s is not None and now_s - self.seen_s >= timeout_s

    def get(self, now_s: float, timeout_s: float) -> float | None:
        if self.seen_s is None or self.stale(now_s, timeout_s):
            return None
        return self.value


@dataclass(frozen=True)
class SiteFrame:
    """One cycle's believed site values. `measured_a` is this cycle's plausible raw current per
    node phase (site and metered circuits), None where unavailable or a glitch. `blind_nodes`
    are the nodes (site, circuits) whose meter had a valid sample before, has none this cycle
    and is not stale yet: their background is a held value, not a measurement."""

    site: Site
    grid_a: tuple[float, ...] | None
    measured_a: dict[NodePhase, float | None]
    solar_w: float
    battery_soc_pct: float | None
    soc_stale: bool
    battery_power_w: float
    circuit_background_a: dict[str, tuple[float, ...]] = field(default_factory=dict)
    circuit_background_w: dict[str, float] = field(default_factory=dict)
    blind_nodes: frozenset[str] = frozenset()


class SiteSensors:
    """Filters and memories of the site's sensors; one instance per controller."""

    def __init__(self, plant: Plant, started_s: float | None = None) -> None:
        self.plant = plant
        self.started_s = started_s
        self.grid_seen_s: float | None = None
        alpha = plant.settings.smoothing_alpha
        self._alpha = alpha
        self._background = {p: RiseFirstEma(alpha) for p in SITE_PHASES[: plant.site.phases]}
        self._circuit_a: dict[NodePhase, RiseFirstEma] = {}
        self._last_raw_a: dict[NodePhase, float] = {}
        self._circuit_w: dict[str, RiseFirstEma] = {}
        self._circuit_seen_s: dict[str, float] = {}
        self._metered_a: set[str] = set()
        self._metered_w: set[str] = set()
        self._solar = CautiousEma(alpha, permissive_higher=True)
        self._battery_w = CautiousEma(alpha, permissive_higher=False)
        self._battery_seen = HeldValue()
        self._voltage = Ema(alpha)
        self._soc = HeldValue()
        self._cap = HeldValue()
        self._cap_history: deque[tuple[float, float]] = deque()
        self.glitches = WarnOnce()
        self.stale = WarnOnce()

    # ------------------------------------------------------------------------------ helpers

    def _checked(
        self,
        key: str,
        raw: Any,
        plausible: Callable[[float], bool],
        unit: str,
        allowed: str,
        warnings: list[str],
    ) -> float | None:
        """A finite, plausible sample or None; a glitch gets one warning line per episode."""
        sample = finite_or_none(raw)
        if sample is None:
            return None
        if not plausible(sample):
            self.glitches.begin(
                key,
                f"{key} reading {raw!r} {unit} is implausible (allowed {allowed}): "
                "treated as unavailable, last good value held",
                warnings,
            )
            return None
        self.glitches.end(key)
        return sample

    # --------------------------------------------------------------------------- the cycle

    def read(
        self,
        now_s: float,
        readings: Readings,
        draw_a: Mapping[str, Mapping[str, float]],
        draw_w: Mapping[str, float],
        warnings: list[str],
    ) -> SiteFrame:
        """Believed site values. `draw_a` / `draw_w` are the trusted managed draw behind each
        node (site and circuits) per site phase, and in watts."""
        if self.started_s is None:
            self.started_s = now_s
        site = self.plant.site
        settings = self.plant.settings
        phases = SITE_PHASES[: site.phases]
        measured: dict[NodePhase, float | None] = {}
        blind: set[str] = set()

        max_import_a, max_export_a = grid_bounds_a(site)
        site_draw = draw_a.get(SITE_NODE, {})
        raw = readings.grid_a
        values = list(raw) if isinstance(raw, list | tuple) else []
        fresh = len(values) >= len(phases)
        for i, phase in enumerate(phases):
            sample = self._checked(
                f"grid phase {phase}",
                values[i] if i < len(values) else None,
                lambda a: -max_export_a <= a <= max_import_a,
                "A",
                f"{-max_export_a:.1f}..{max_import_a:.1f} A",
                warnings,
            )
            measured[(SITE_NODE, phase)] = sample
            if sample is None:
                fresh = False
                if (SITE_NODE, phase) in self._last_raw_a:
                    blind.add(SITE_NODE)
            self._update_background(
                self._background[phase], (SITE_NODE, phase), sample, site_draw.get(phase, 0.0)
            )
        if fresh:
            self.grid_seen_s = now_s
        backgrounds = [self._background[p].value for p in phases]
        grid_a: tuple[float, ...] | None = None
        if all(b is not None for b in backgrounds):
            grid_a = tuple(
                b + site_draw.get(p, 0.0)  # type: ignore[operator]
                for b, p in zip(backgrounds, phases, strict=True)
            )

        circuit_bg_a, circuit_bg_w = self._circuits(
            now_s, readings, draw_a, draw_w, measured, blind, warnings
        )

        low_v, high_v = voltage_range_v(site)
        volts = self._checked(
            "voltage",
            readings.voltage_v,
            lambda v: voltage_plausible(site, v),
            "V",
            f"{low_v:.0f}..{high_v:.0f} V",
            warnings,
        )
        voltage_v = self._voltage.update(volts)
        live_site = site
        if voltage_v is not None and voltage_v > 0:
            live_site = replace(live_site, voltage_v=voltage_v)
        live_site = self._import_cap(now_s, readings, live_site, warnings)

        timeout_s = settings.sensor_stale_timeout_s
        soc = self._checked(
            "battery SoC", readings.battery_soc_pct, soc_plausible, "%", "0..100 %", warnings
        )
        self._soc.update(now_s, soc)
        soc_stale = self._soc.stale(now_s, timeout_s)
        self._stale_line(
            "battery SoC",
            soc_stale,
            f"battery SoC sensor has no valid value for {timeout_s:.0f} s: "
            "SoC treated as unknown (no threshold reached)",
            warnings,
        )

        battery = self._checked(
            "battery power",
            readings.battery_power_w,
            lambda w: battery_plausible(site, w),
            "W",
            "its rated charge/discharge power",
            warnings,
        )
        self._battery_seen.update(now_s, battery)
        battery_w = self._battery_w.update(battery)
        battery_stale = self._battery_seen.stale(now_s, timeout_s)
        self._stale_line(
            "battery power",
            battery_stale,
            f"battery power sensor has no valid value for {timeout_s:.0f} s: "
            "battery counted as idle (no discharge)",
            warnings,
        )
        if battery_stale:
            self._battery_w = CautiousEma(self._alpha, permissive_higher=False)
            battery_w = None

        solar = self._checked(
            "solar power",
            readings.solar_w,
            lambda w: solar_plausible(site, w),
            "W",
            "the inverter's rating",
            warnings,
        )
        solar_w = self._solar.update(None if solar is None else max(0.0, solar))
        return SiteFrame(
            site=live_site,
            grid_a=grid_a,
            measured_a=measured,
            solar_w=solar_w if solar_w is not None else 0.0,
            battery_soc_pct=self._soc.get(now_s, timeout_s),
            soc_stale=soc_stale,
            battery_power_w=battery_w if battery_w is not None else 0.0,
            circuit_background_a=circuit_bg_a,
            circuit_background_w=circuit_bg_w,
            blind_nodes=frozenset(blind),
        )

    def _update_background(
        self, ema: RiseFirstEma, key: NodePhase, sample: float | None, draw_a: float
    ) -> None:
        """Feed a meter sample minus the managed draw behind it into its background filter.

        A missing sample holds the background, unless the last valid sample minus this cycle's
        trusted draw is higher: a load whose draw no longer counts as its own (cut, or found
        not obeying) must not leave its current hidden while the meter is blind. So a missing
        or glitching sample never leaves more room than the last valid one repeated would.
        """
        if sample is not None:
            self._last_raw_a[key] = sample
            ema.update(sample - draw_a)
            return
        last_a = self._last_raw_a.get(key)
        if last_a is not None and ema.value is not None and last_a - draw_a > ema.value:
            ema.value = last_a - draw_a

    def _stale_line(self, key: str, stale: bool, line: str, warnings: list[str]) -> None:
        if stale:
            self.stale.begin(key, line, warnings)
        else:
            self.stale.end(key)

    def _import_cap(
        self, now_s: float, readings: Readings, site: Site, warnings: list[str]
    ) -> Site:
        """The site with this cycle's import cap; a cap <= 0 means no grid import at all."""
        timeout_s = self.plant.settings.sensor_stale_timeout_s
        cap = finite_or_none(readings.max_import_w)
        if cap is not None:
            self._cap.update(now_s, cap)
            self._cap_history.append((now_s, cap))
        while self._cap_history and now_s - self._cap_history[0][0] > IMPORT_CAP_MEMORY_S:
            self._cap_history.popleft()
        cap_w = self._cap.get(now_s, timeout_s)
        stale = self._cap.stale(now_s, timeout_s)
        if stale:
            candidates = [value for _, value in self._cap_history]
            if self.plant.site.max_import_w is not None:
                candidates.append(self.plant.site.max_import_w)
            cap_w = min(candidates) if candidates else None
        self._stale_line(
            "import cap",
            stale,
            f"import cap sensor has no valid value for {timeout_s:.0f} s: using "
            + ("no cap" if cap_w is None else f"{cap_w:.0f} W")
            + " (configured, or the most cautious value of the last hour if lower)",
            warnings,
        )
        if cap_w is None:
            return site
        if cap_w <= 0:
            return replace(site, max_import_w=None, allow_grid_charging=False)
        return replace(site, max_import_w=cap_w)

    def _circuits(
        self,
        now_s: float,
        readings: Readings,
        draw_a: Mapping[str, Mapping[str, float]],
        draw_w: Mapping[str, float],
        measured: dict[NodePhase, float | None],
        blind: set[str],
        warnings: list[str],
    ) -> tuple[dict[str, tuple[float, ...]], dict[str, float]]:
        """Background (meter minus trusted managed draw) of every metered circuit not stale;
        a circuit whose meter is blind this cycle (see `SiteFrame`) is added to `blind`."""
        site = self.plant.site
        timeout_s = self.plant.settings.grid_stale_timeout_s
        phases = SITE_PHASES[: site.phases]
        started_s = self.started_s if self.started_s is not None else now_s
        bg_a: dict[str, tuple[float, ...]] = {}
        bg_w: dict[str, float] = {}
        circuit_a = readings.circuit_a if isinstance(readings.circuit_a, dict) else {}
        circuit_w = readings.circuit_power_w if isinstance(readings.circuit_power_w, dict) else {}
        for circuit in self.plant.circuits:
            cid = circuit.id
            if cid in circuit_a:
                self._metered_a.add(cid)
            if cid in circuit_w:
                self._metered_w.add(cid)
            if cid in self._metered_a:
                raw = circuit_a.get(cid)
                values = list(raw) if isinstance(raw, list | tuple) else []
                fresh = len(values) >= len(phases)
                held_only = False
                node_draw = draw_a.get(cid, {})
                bound = BREAKER_GLITCH_FACTOR * (circuit.limit_a or site.main_breaker_a)
                for i, phase in enumerate(phases):
                    sample = self._checked(
                        f"circuit {cid} phase {phase}",
                        values[i] if i < len(values) else None,
                        lambda a, c=circuit: circuit_plausible(site, c.limit_a, a),
                        "A",
                        f"{-bound:.1f}..{bound:.1f} A",
                        warnings,
                    )
                    measured[(cid, phase)] = sample
                    if sample is None:
                        fresh = False
                        held_only = held_only or (cid, phase) in self._last_raw_a
                    ema = self._circuit_a.setdefault((cid, phase), RiseFirstEma(self._alpha))
                    self._update_background(ema, (cid, phase), sample, node_draw.get(phase, 0.0))
                key = f"circuit {cid} current"
                if fresh:
                    self._circuit_seen_s[key] = now_s
                stale = now_s - self._circuit_seen_s.get(key, started_s) >= timeout_s
                self._stale_line(
                    key,
                    stale,
                    f"circuit '{cid}' current meter has no valid value for {timeout_s:.0f} s: "
                    "its limit is checked from the configured loads only",
                    warnings,
                )
                if held_only and not stale:
                    blind.add(cid)
                held = [self._circuit_a.get((cid, p)) for p in phases]
                if not stale and all(e is not None and e.value is not None for e in held):
                    bg_a[cid] = tuple(e.value for e in held)  # type: ignore[union-attr,misc]
            if cid in self._metered_w:
                sample = self._checked(
                    f"circuit {cid} power",
                    circuit_w.get(cid),
                    lambda w, c=circuit: circuit_power_plausible(site, c.max_power_w, w),
                    "W",
                    "twice its max_power_w",
                    warnings,
                )
                key = f"circuit {cid} power"
                if sample is not None:
                    self._circuit_seen_s[key] = now_s
                    ema_w = self._circuit_w.setdefault(cid, RiseFirstEma(self._alpha))
                    ema_w.update(sample - draw_w.get(cid, 0.0))
                stale = now_s - self._circuit_seen_s.get(key, started_s) >= timeout_s
                self._stale_line(
                    key,
                    stale,
                    f"circuit '{cid}' power meter has no valid value for {timeout_s:.0f} s: "
                    "its power limit is checked from the configured loads only",
                    warnings,
                )
                held_w = self._circuit_w.get(cid)
                if sample is None and held_w is not None and not stale:
                    blind.add(cid)
                if not stale and held_w is not None and held_w.value is not None:
                    bg_w[cid] = held_w.value
        return bg_a, bg_w
