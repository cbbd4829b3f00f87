"""Per-phase bookkeeping: which site phases exist, and what the site draws besides managed loads.

The engine reasons about "background" current per site phase: everything on the main breaker
that is not a managed load, netted with solar and battery (negative = export on that phase).
Two ways to obtain it are supported because the hub has a grid meter while the simulator's plant
only knows the house consumption; both go through the functions below so they agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .model import SITE_PHASES, Load, Site


def site_phase_names(site: Site) -> tuple[str, ...]:
    """A one-phase site has only phase A; a three-phase site has A, B and C."""
    return SITE_PHASES[: site.phases]


def _finite(value: float | None) -> float:
    """A missing or NaN reading counts as 0 (used for load draw, where 0 is the cautious choice)."""
    if value is None:
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def reading_is_usable(values: Sequence[float | None] | None, phases: int) -> bool:
    """A per-phase reading is usable only if every site phase has a finite number."""
    if values is None or len(values) < phases:
        return False
    for value in values[:phases]:
        if value is None:
            return False
        try:
            if not math.isfinite(float(value)):
                return False
        except (TypeError, ValueError):
            return False
    return True


def solar_per_phase(solar_w: float, battery_power_w: float, site: Site) -> tuple[float, ...]:
    """AC current the solar/battery inverter puts on each site phase.

    The inverter's AC output is solar production minus what the battery charges (plus what it
    discharges, `battery_power_w` being negative then). It is split evenly over the site's
    phases, also for inverters declared asymmetric: the engine cannot know how such an inverter
    steers its output at any instant, the total stays exact, and an even split never credits
    a heavily loaded phase with more than an even share. The simulator's plant uses this same
    split, so engine and plant agree.
    """
    phases = site.phases
    output_w = _finite(solar_w) - _finite(battery_power_w)
    per_phase_a = output_w / (site.voltage_v * phases)
    return tuple(per_phase_a for _ in range(phases))


def background_from_house(
    house_a: Sequence[float], solar_w: float, battery_power_w: float, site: Site
) -> tuple[float, ...]:
    """Background per phase when the caller knows house consumption instead of the grid.

    `house_a` already excludes managed loads, so no feedback subtraction is needed.
    """
    inverter_a = solar_per_phase(solar_w, battery_power_w, site)
    return tuple(float(house_a[i]) - inverter_a[i] for i in range(site.phases))


def background_from_grid(
    grid_a: Sequence[float], loads: Iterable[Load], site: Site
) -> tuple[float, ...]:
    """Grid current per phase minus the managed loads' own measured draw (feedback).

    Without the subtraction a charging car would see its own current as "house" load and the
    engine would throttle it further every cycle. A missing draw counts as 0, which leaves the
    background high: the cautious side.
    """
    names = site_phase_names(site)
    index = {name: i for i, name in enumerate(names)}
    background = [float(grid_a[i]) for i in range(site.phases)]
    for load in loads:
        if not load.draw_a:
            continue
        for load_phase, site_phase in enumerate(load.site_phases):
            if load_phase >= len(load.draw_a):
                break
            slot = index.get(site_phase)
            if slot is not None:
                background[slot] -= _finite(load.draw_a[load_phase])
    return tuple(background)


def worst_case_background(site: Site) -> tuple[float, ...]:
    """With no reading at all, assume each phase is already at the main breaker."""
    return tuple(float(site.main_breaker_a) for _ in range(site.phases))
