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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .control_types import Readings, SiteConfig
from .model import SITE_NODE, SITE_PHASES, Site
from .node_meters import NodeMeters, NodePhase
from .plausible import (
    battery_plausible,
    grid_bounds_a,
    grid_plausible,
    import_bound_text,
    soc_plausible,
    solar_plausible,
    voltage_plausible,
    voltage_range_v,
)
from .sample_memory import HeldValue, WarnOnce, checked
from .smoothing import CautiousEma, Ema, finite_or_none

#: How far back the most cautious import cap is remembered for a stale cap sensor.
IMPORT_CAP_MEMORY_S = 3600.0


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

    def __init__(self, plant: SiteConfig, started_s: float | None = None) -> None:
        self.plant = plant
        self.started_s = started_s
        self.grid_seen_s: float | None = None
        alpha = plant.settings.smoothing_alpha
        self._alpha = alpha
        self._solar = CautiousEma(alpha, permissive_higher=True)
        self._battery_w = CautiousEma(alpha, permissive_higher=False)
        self._battery_seen = HeldValue()
        self._voltage = Ema(alpha)
        self._soc = HeldValue()
        self._cap = HeldValue()
        self._cap_history: deque[tuple[float, float]] = deque()
        self.glitches = WarnOnce()
        self.stale = WarnOnce()
        self._meters = NodeMeters(alpha, self.glitches, self.stale)

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
        started_s = self.started_s
        site = self.plant.site
        measured: dict[NodePhase, float | None] = {}
        blind: set[str] = set()

        grid_a = self._grid(now_s, readings, draw_a.get(SITE_NODE, {}), measured, blind, warnings)
        circuits = self._meters.circuits(
            now_s, started_s, self.plant, readings, draw_a, draw_w, measured, warnings
        )
        blind |= circuits.blind

        live_site = self._live_site(now_s, readings, warnings)
        timeout_s = self.plant.settings.sensor_stale_timeout_s
        soc_stale, battery_w = self._battery(now_s, readings, warnings)
        solar = checked(
            self.glitches,
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
            circuit_background_a=circuits.amps,
            circuit_background_w=circuits.watts,
            blind_nodes=frozenset(blind),
        )

    def _live_site(self, now_s: float, readings: Readings, warnings: list[str]) -> Site:
        """The site with this cycle's measured voltage (filtered) and import cap."""
        site = self.plant.site
        low_v, high_v = voltage_range_v(site)
        volts = checked(
            self.glitches,
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
        return live_site

    def _grid(
        self,
        now_s: float,
        readings: Readings,
        site_draw: Mapping[str, float],
        measured: dict[NodePhase, float | None],
        blind: set[str],
        warnings: list[str],
    ) -> tuple[float, ...] | None:
        """The grid current per phase as believed: filtered background plus the managed draw."""
        site = self.plant.site
        phases = SITE_PHASES[: site.phases]
        max_import_a, max_export_a = grid_bounds_a(site)
        read = self._meters.read_phases(
            SITE_NODE,
            "grid",
            readings.grid_a,
            phases,
            lambda a, managed_a: grid_plausible(site, a, managed_a),
            lambda managed_a: import_bound_text(-max_export_a, max_import_a, managed_a),
            site_draw,
            measured,
            warnings,
        )
        if read.held:
            blind.add(SITE_NODE)
        if read.fresh:
            self.grid_seen_s = now_s
        backgrounds = self._meters.background(SITE_NODE, phases)
        if backgrounds is None:
            return None
        return tuple(b + site_draw.get(p, 0.0) for b, p in zip(backgrounds, phases, strict=True))

    def _battery(
        self, now_s: float, readings: Readings, warnings: list[str]
    ) -> tuple[bool, float | None]:
        """Whether the SoC is stale, and the battery power (None once stale)."""
        site = self.plant.site
        timeout_s = self.plant.settings.sensor_stale_timeout_s
        soc = checked(
            self.glitches,
            "battery SoC",
            readings.battery_soc_pct,
            soc_plausible,
            "%",
            "0..100 %",
            warnings,
        )
        self._soc.update(now_s, soc)
        soc_stale = self._soc.stale(now_s, timeout_s)
        self.stale.track(
            "battery SoC",
            soc_stale,
            f"battery SoC sensor has no valid value for {timeout_s:.0f} s: "
            "SoC treated as unknown (no threshold reached)",
            warnings,
        )

        battery = checked(
            self.glitches,
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
        self.stale.track(
            "battery power",
            battery_stale,
            f"battery power sensor has no valid value for {timeout_s:.0f} s: "
            "battery counted as idle (no discharge)",
            warnings,
        )
        if battery_stale:
            self._battery_w = CautiousEma(self._alpha, permissive_higher=False)
            battery_w = None

        return soc_stale, battery_w

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
        self.stale.track(
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
