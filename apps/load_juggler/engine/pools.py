"""The energy frame: how much power loads may take from solar and battery this cycle.

Breakers limit current; these pools limit *where the energy comes from*. They are totals over
the site (what a net meter sees), plus per-phase shares when the inverter can only feed every
phase equally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .model import BatteryLevels, Site


@dataclass(frozen=True)
class EnergyFrame:
    """Power budgets in watts for one cycle.

    `surplus_w` is what loads could take with zero grid exchange and the battery idle (negative
    when the house already imports). `battery_due_w` is the part of a positive surplus that the
    battery is owed while it is below target; `solar_pool_w` is the rest, which surplus-fed
    loads share. `discharge_w` is what the battery may add for loads. `green_phase_cap_w` holds
    per-phase limits on the green power a load can use on one phase (empty: no per-phase limit).
    """

    surplus_w: float
    battery_due_w: float
    solar_pool_w: float
    discharge_w: float
    green_phase_cap_w: tuple[float, ...] = ()

    @property
    def no_grid_budget_w(self) -> float:
        """What all loads together may use when grid import is not allowed."""
        return self.surplus_w + self.discharge_w


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
    1/phases of the solar pool, so a one-phase load can use only its phase's share; and
    `max_w_per_phase` caps the green power per phase. Both per-phase limits apply only to loads
    that are restricted to green power.
    """
    voltage_v = site.voltage_v
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

    phase_caps: tuple[float, ...] = ()
    if inverter is not None:
        per_phase = math.inf
        if not inverter.asymmetric:
            per_phase = pool_w / site.phases
        if inverter.max_w_per_phase is not None:
            per_phase = min(per_phase, inverter.max_w_per_phase)
        if math.isfinite(per_phase):
            phase_caps = tuple(per_phase for _ in range(site.phases))

    return EnergyFrame(
        surplus_w=surplus_w,
        battery_due_w=due_w,
        solar_pool_w=pool_w,
        discharge_w=discharge_w,
        green_phase_cap_w=phase_caps,
    )
