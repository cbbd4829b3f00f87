"""The site, its battery and inverter: options declared once, read by apps.yaml and scenarios.

The hub reads `site:`, `battery:` and `inverter:` through `read_site` / `read_battery` /
`read_inverter`; a scenario file reads its `site:` (with `battery:` and `inverter:` inside, and
plant-only keys such as `solar_w`) through the same functions, so both accept and refuse the
same values with the same words. Pure: no AppDaemon import.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ..engine.model import BatteryConfig, InverterLimits, Metering, Site, Strategy
from ..engine.plausible import volts_plausible
from .reader import ArgReader
from .schema import Option, OptionType, Schema

_N = OptionType.NUMBER
_B = BatteryConfig()

SITE_OPTIONS = Schema(
    "site",
    (
        Option("phases", OptionType.INTEGER, 3, choices=(1, 3), doc="1 or 3"),
        Option("voltage", _N, 230.0, above=0, doc="nominal phase-to-neutral volts"),
        Option("main_breaker_a", _N, required=True, above=0, maximum=1000, doc="per phase"),
        Option("max_import_w", _N, above=0, doc="import cap"),
        Option(
            "distribution",
            OptionType.CHOICE,
            Strategy.PRIORITY.value,
            choices=tuple(s.value for s in Strategy),
        ),
        Option("excess_threshold_w", _N, 0.0, minimum=0),
        Option("allow_grid_charging", OptionType.BOOLEAN, True),
        Option(
            "metering",
            OptionType.CHOICE,
            Metering.NET.value,
            choices=tuple(m.value for m in Metering),
        ),
    ),
)
BATTERY_OPTIONS = Schema(
    "battery",
    (
        Option("min_soc", _N, _B.min_soc_pct, minimum=0, maximum=100),
        Option("target_soc", _N, _B.target_soc_pct, minimum=0, maximum=100),
        Option("full_soc", _N, _B.full_soc_pct, minimum=0, maximum=100),
        Option("max_charge_w", _N, _B.max_charge_w, minimum=0),
        Option("max_discharge_w", _N, _B.max_discharge_w, minimum=0),
        Option("hysteresis_pct", _N, _B.hysteresis_pct, minimum=0, maximum=20),
    ),
)
INVERTER_OPTIONS = Schema(
    "inverter",
    (
        Option("max_w", _N, above=0),
        Option("max_w_per_phase", _N, above=0),
        Option("asymmetric", OptionType.BOOLEAN, True),
    ),
)

#: A circuit (breaker or sub-panel) of the tree under the main breaker; at least one limit.
CIRCUIT_OPTIONS = Schema(
    "circuit",
    (
        Option("limit_a", _N, above=0, maximum=1000, default_doc="—", doc="per phase"),
        Option("max_power_w", _N, above=0, default_doc="—"),
    ),
)


def _voltage_hint(volts: float) -> str:
    """'did you mean 230?' for a line-to-line value (400 -> 231 -> 230, 415 -> 240)."""
    phase_v = volts / math.sqrt(3)
    if any(abs(phase_v - nominal) <= 0.1 * nominal for nominal in (230.0, 120.0)):
        return f"; did you mean {round(phase_v / 10) * 10:g}? (phase to neutral, not line to line)"
    return ""


def site_voltage_problem(volts: float) -> str | None:
    """Why `volts` cannot be a site's nominal voltage (None when it can).

    apps.yaml and scenario files both take `site.voltage` through this, and it asks the same
    plausibility check the controller applies to a voltage sensor.
    """
    if volts_plausible(volts, volts):
        return None
    return (
        "must be the nominal phase-to-neutral voltage: 180..260 (230 V grids) or "
        f"90..140 (120 V grids){_voltage_hint(volts)}"
    )


def read_site(
    s: ArgReader,
    battery: BatteryConfig | None,
    inverter: InverterLimits | None,
    *,
    breaker_default: float | None = None,
) -> Site:
    """The site's options from `s` (a scenario passes its default breaker: not required there)."""
    o = SITE_OPTIONS
    phases = o["phases"].read(s)
    voltage = o["voltage"].read(s)
    problem = None if voltage is None else site_voltage_problem(voltage)
    if problem is not None:
        s.error("voltage", s.raw("voltage"), problem)
        voltage = o.default("voltage")
    breaker_option = o["main_breaker_a"]
    if breaker_default is not None:
        breaker_option = replace(breaker_option, required=False, default=breaker_default)
    breaker = breaker_option.read(s)
    max_import = o["max_import_w"].read(s)
    distribution = o["distribution"].read(s)
    threshold = o["excess_threshold_w"].read(s)
    grid_charging = o["allow_grid_charging"].read(s)
    metering = o["metering"].read(s)
    return Site(
        phases=phases or 3,
        voltage_v=voltage or 230.0,
        main_breaker_a=breaker or 25.0,
        max_import_w=max_import,
        distribution=Strategy(distribution),
        excess_threshold_w=threshold or 0.0,
        allow_grid_charging=grid_charging,
        battery=battery,
        inverter=inverter,
        metering=Metering(metering),
    )


def read_battery(
    b: ArgReader, *, hysteresis_key: str = "hysteresis_pct", as_written: bool = False
) -> BatteryConfig:
    """The battery's limits from `b`. apps.yaml (`as_written` False) reports unknown keys
    before the thresholds' order and shows the number read; a scenario, which checks its keys
    first and reads plant-only ones after, spells `hysteresis_key` its own way and shows an
    out-of-order threshold as written."""
    o = BATTERY_OPTIONS
    min_soc = o["min_soc"].read(b)
    target = o["target_soc"].read(b)
    full = o["full_soc"].read(b)
    charge = o["max_charge_w"].read(b)
    discharge = o["max_discharge_w"].read(b)
    hysteresis = replace(o["hysteresis_pct"], name=hysteresis_key).read(b)
    if not as_written:
        b.finish()
    assert min_soc is not None and target is not None and full is not None
    if min_soc > target:
        shown = b.raw("min_soc", min_soc) if as_written else min_soc
        b.error("min_soc", shown, f"must be <= target_soc ({target:g})")
    if target > full:
        shown = b.raw("target_soc", target) if as_written else target
        b.error("target_soc", shown, f"must be <= full_soc ({full:g})")
    return BatteryConfig(
        min_soc_pct=min_soc,
        target_soc_pct=target,
        full_soc_pct=full,
        max_charge_w=charge or 0.0,
        max_discharge_w=discharge or 0.0,
        hysteresis_pct=hysteresis if hysteresis is not None else _B.hysteresis_pct,
    )


def read_inverter(i: ArgReader) -> InverterLimits:
    o = INVERTER_OPTIONS
    return InverterLimits(
        max_w=o["max_w"].read(i),
        max_w_per_phase=o["max_w_per_phase"].read(i),
        asymmetric=o["asymmetric"].read(i),
    )
