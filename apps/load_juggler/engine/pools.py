"""The energy frame: how much power loads may take from solar and battery this cycle.

Breakers limit current; these pools limit *where the energy comes from* (DESIGN.md "Where the
energy may come from"):

- the solar pool is the surplus (what would be exported or charge the battery) minus the
  charge the battery is owed while it is below `target_soc`;
- green power is the solar pool plus, while SoC is at or above `target_soc`, the battery's
  discharge potential (`max_discharge_w`, capped by the inverter's `max_w` minus solar);
- with `metering: per_phase` both are also counted per phase: the inverter's output split
  evenly, minus that phase's own background.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .model import BatteryLevels, Metering, Site


@dataclass(frozen=True)
class EnergyFrame:
    """Power budgets in watts for one cycle.

    `surplus_w` is what loads could take with zero grid exchange and the battery idle (negative
    when the house already imports). `battery_due_w` is the part of a positive surplus that the
    battery is owed while it is below target; `solar_pool_w` is the rest (never negative).
    `discharge_w` is what the battery may give loads at all (SoC at or above min, for the
    no-grid budget); `green_discharge_w` the part green-only loads may count on (SoC at or
    above target). `green_phase_cap_w` holds inverter limits on the green power one phase can
    carry (empty: none). `solar_phase_w` / `green_phase_w` are the per-phase pools under
    `metering: per_phase` (empty under `net`); unlike the totals they may be negative.
    """

    surplus_w: float
    battery_due_w: float
    solar_pool_w: float
    discharge_w: float
    green_phase_cap_w: tuple[float, ...] = ()
    green_discharge_w: float = 0.0
    solar_phase_w: tuple[float, ...] = ()
    green_phase_w: tuple[float, ...] = ()

    @property
    def no_grid_budget_w(self) -> float:
        """What all loads together may use when grid import is not allowed."""
        return self.surplus_w + self.discharge_w

    @property
    def solar_left_w(self) -> float:
        """The solar pool as a budget: surplus after the battery's due (negative: importing)."""
        return self.surplus_w - self.battery_due_w

    @property
    def green_w(self) -> float:
        """Green power as a budget: the solar budget plus the battery's green discharge."""
        return self.solar_left_w + self.green_discharge_w


def energy_frame(
    background_a: Sequence[float],
    site: Site,
    solar_w: float,
    battery_power_w: float,
    levels: BatteryLevels | None,
) -> EnergyFrame:
    """Build the frame from background current, battery flow and the inverter's limits.

    Inverter handling is kept deliberately simple: `max_w` caps battery discharge to what the
    inverter has left after solar; a symmetric inverter (asymmetric False) gives each phase
    1/phases of the green power, so a one-phase load can use only its phase's share; and
    `max_w_per_phase` caps the green power per phase. The per-phase limits apply only to loads
    restricted to green power, and only under `per_phase` metering: with `net` metering the
    meter sums the phases, so what a one-phase load imports on its phase is paid for by what
    the inverter exports on the others, and capping it would only leave sun unused.
    """
    voltage_v = site.voltage_v
    phases = site.phases
    battery_w = battery_power_w if math.isfinite(battery_power_w) else 0.0
    surplus_w = -sum(background_a) * voltage_v + battery_w

    battery = site.battery
    if battery is not None and levels is not None and not levels.above_target:
        due_w = min(max(surplus_w, 0.0), max(battery.max_charge_w, 0.0))
    else:
        due_w = 0.0
    pool_w = max(0.0, surplus_w - due_w)

    discharge_w = 0.0
    if battery is not None and levels is not None and levels.above_min:
        discharge_w = max(battery.max_discharge_w, 0.0)
    inverter = site.inverter
    if inverter is not None and inverter.max_w is not None:
        solar = solar_w if math.isfinite(solar_w) else 0.0
        discharge_w = max(0.0, min(discharge_w, inverter.max_w - max(solar, 0.0)))
    green_discharge_w = discharge_w if levels is not None and levels.above_target else 0.0

    phase_caps: tuple[float, ...] = ()
    per_phase_metering = Metering(site.metering) is Metering.PER_PHASE
    if inverter is not None and per_phase_metering:
        per_phase = math.inf
        if not inverter.asymmetric:
            per_phase = max(0.0, pool_w + green_discharge_w) / phases
        if inverter.max_w_per_phase is not None:
            per_phase = min(per_phase, inverter.max_w_per_phase)
        if math.isfinite(per_phase):
            phase_caps = tuple(per_phase for _ in range(phases))

    solar_phase: tuple[float, ...] = ()
    green_phase: tuple[float, ...] = ()
    if per_phase_metering:
        # The battery's flow goes through the inverter, split evenly like solar; what each
        # phase exports is its own business under per-phase settlement.
        solar_phase = tuple(
            -background_a[i] * voltage_v + (battery_w - due_w) / phases for i in range(phases)
        )
        green_phase = tuple(value + green_discharge_w / phases for value in solar_phase)

    return EnergyFrame(
        surplus_w=surplus_w,
        battery_due_w=due_w,
        solar_pool_w=pool_w,
        discharge_w=discharge_w,
        green_phase_cap_w=phase_caps,
        green_discharge_w=green_discharge_w,
        solar_phase_w=solar_phase,
        green_phase_w=green_phase,
    )
