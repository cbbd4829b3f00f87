"""What a sensor can physically report: anything beyond is a glitch, not a measurement.

A meter that says -100000 A or a charger that reports 1e6 A per line is broken for that sample;
believing it would hand out current the breaker does not have (a huge export looks like room,
a huge load draw is subtracted from the grid as the load's own). The controller treats a value
outside these bounds like an unavailable one: it holds the last good value and logs the raw
value once per episode. The bounds are deliberately wide: a real overload must still be seen.

Margins come from physics:
- A thermal-magnetic breaker carries twice its rating only for seconds to a minute (IEC 60898:
  at 2.55 x In it trips within 1-120 s; its magnetic trip acts at 3-20 x In in milliseconds), so
  a steady reading above `BREAKER_GLITCH_FACTOR` x rating, cycle after cycle, cannot be real.
  The same bound applies to export through the main breaker and to a circuit's meter.
  On the import side the bound is on what the managed loads do not explain: the meter minus
  their trusted draw on that phase. Sun that carried several loads can vanish behind a cloud
  in one cycle, and the meter then shows the loads' whole draw on top of the house: far above
  twice the breaker, and real. Held as a glitch, that overload would last until the grid went
  stale; believed, it is cut at once. The loads' draws are themselves bounded (below), so a
  broken meter still cannot pass this way: +100000 A stays a glitch.
- An inverter cannot push more than its rated AC output; `INVERTER_MARGIN` covers a 10 % voltage
  sag (current rises as voltage falls) and meter error, plus `INVERTER_MARGIN_A` for the
  reading's own offset. Solar and battery power get the same factor on their ratings.
- A load cannot draw much more than it was built or told to: `LOAD_MARGIN` x the larger of its
  max and its command, plus `LOAD_MARGIN_A` (a plug's rated power is a label, not a measurement).
- Mains voltage is 230 V +-10 % (EN 50160) or 120 V +-5 % (ANSI C84.1); the bounds below leave
  room for a weak rural line but reject a sensor reporting 0, kV mistaken for V, or 400 V
  line-to-line.
"""

from __future__ import annotations

from .model import Load, LoadKind, Site

BREAKER_GLITCH_FACTOR = 2.0
INVERTER_MARGIN = 1.2
INVERTER_MARGIN_A = 1.0
LOAD_MARGIN = 1.25
LOAD_MARGIN_A = 2.0
#: A solar sensor reading a little below 0 at night is normal (the inverter's own standby use).
SOLAR_MIN_W = -500.0
VOLTAGE_RANGE_V = (180.0, 260.0)
VOLTAGE_RANGE_LOW_V = (90.0, 140.0)
#: Nominal voltages below this are 120 V-class sites.
LOW_VOLTAGE_SITE_V = 160.0


def _site_power_w(site: Site) -> float:
    """What the main breaker can carry in total at nominal voltage, with the glitch factor."""
    return BREAKER_GLITCH_FACTOR * site.main_breaker_a * site.voltage_v * site.phases


def inverter_phase_a(site: Site) -> float | None:
    """Most current the inverter can put on one phase, or None when no limit is configured."""
    inverter = site.inverter
    if inverter is None:
        return None
    caps = []
    if inverter.max_w_per_phase is not None:
        caps.append(inverter.max_w_per_phase / site.voltage_v)
    if inverter.max_w is not None:
        share = 1 if inverter.asymmetric else site.phases
        caps.append(inverter.max_w / (site.voltage_v * share))
    return min(caps) if caps else None


def grid_bounds_a(site: Site) -> tuple[float, float]:
    """(largest plausible import, largest plausible export) per phase in amps, both > 0."""
    breaker_a = BREAKER_GLITCH_FACTOR * site.main_breaker_a
    export_a = breaker_a
    inverter_a = inverter_phase_a(site)
    if inverter_a is not None:
        export_a = min(export_a, INVERTER_MARGIN * inverter_a + INVERTER_MARGIN_A)
    return breaker_a, export_a


def grid_plausible(site: Site, amps: float, managed_a: float = 0.0) -> bool:
    """A grid phase reading; `managed_a` is the managed loads' trusted draw on that phase."""
    max_import_a, max_export_a = grid_bounds_a(site)
    return -max_export_a <= amps <= max_import_a + max(0.0, managed_a)


def import_bound_text(low_a: float, high_a: float, managed_a: float) -> str:
    """The allowed range of a meter phase as a warning states it."""
    if managed_a <= 0:
        return f"{low_a:.1f}..{high_a:.1f} A"
    return f"{low_a:.1f}..{high_a + managed_a:.1f} A with the managed loads' {managed_a:.1f} A"


def circuit_bound_a(site: Site, limit_a: float | None) -> float:
    """Twice a circuit's breaker (or the site's, without one)."""
    return BREAKER_GLITCH_FACTOR * (limit_a if limit_a is not None else site.main_breaker_a)


def circuit_plausible(
    site: Site, limit_a: float | None, amps: float, managed_a: float = 0.0
) -> bool:
    """A circuit meter beyond twice its breaker (or the site's, without one), once the
    managed loads behind it are taken off an import, is a glitch."""
    bound_a = circuit_bound_a(site, limit_a)
    return -bound_a <= amps <= bound_a + max(0.0, managed_a)


def circuit_power_plausible(
    site: Site, max_power_w: float | None, watts: float, managed_w: float = 0.0
) -> bool:
    bound_w = (
        BREAKER_GLITCH_FACTOR * max_power_w if max_power_w is not None else _site_power_w(site)
    )
    return -bound_w <= watts <= bound_w + max(0.0, managed_w)


def solar_plausible(site: Site, watts: float) -> bool:
    """Solar above the inverter's rating (or what the main breaker could ever pass) is a glitch."""
    bound_w = _site_power_w(site)
    inverter = site.inverter
    if inverter is not None and inverter.max_w is not None:
        bound_w = min(bound_w, INVERTER_MARGIN * inverter.max_w)
    return SOLAR_MIN_W <= watts <= bound_w


def battery_plausible(site: Site, watts: float) -> bool:
    """Battery power beyond its rated charge/discharge power (with margin) is a glitch."""
    bound_w = _site_power_w(site)
    battery = site.battery
    if battery is not None:
        rated_w = max(battery.max_charge_w, battery.max_discharge_w)
        if rated_w > 0:
            bound_w = min(bound_w, INVERTER_MARGIN * rated_w + 500.0)
    return -bound_w <= watts <= bound_w


def soc_plausible(pct: float) -> bool:
    return 0.0 <= pct <= 100.0


def voltage_range_v(site: Site) -> tuple[float, float]:
    return nominal_voltage_range_v(site.voltage_v)


def nominal_voltage_range_v(nominal_v: float) -> tuple[float, float]:
    """The readings a grid of nominal `nominal_v` can show (its class: 230 V or 120 V)."""
    return VOLTAGE_RANGE_LOW_V if nominal_v < LOW_VOLTAGE_SITE_V else VOLTAGE_RANGE_V


def volts_plausible(nominal_v: float, volts: float) -> bool:
    """`volts` fits a grid of nominal `nominal_v`. The one voltage check: a sensor reading
    (against the site's voltage) and apps.yaml's `site.voltage` (against itself) use it."""
    low_v, high_v = nominal_voltage_range_v(nominal_v)
    return low_v <= volts <= high_v


def voltage_plausible(site: Site, volts: float) -> bool:
    return volts_plausible(site.voltage_v, volts)


def rated_a(load: Load, voltage_v: float) -> float:
    """Per-phase current of a plug when on; an EVSE's configured max."""
    if load.kind is LoadKind.PLUG and load.power_w is not None:
        return float(load.power_w) / (voltage_v * load.phases)
    return float(load.max_a)


def load_draw_max_a(load: Load, voltage_v: float, commanded_a: float) -> float:
    """Largest per-phase draw a load can really report; above it the sample is a glitch."""
    return LOAD_MARGIN * max(rated_a(load, voltage_v), commanded_a) + LOAD_MARGIN_A
