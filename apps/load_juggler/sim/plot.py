"""`--plot OUT.png`: what a person checks first after a run.

Top: grid current per phase against the main breaker (and every limited circuit's worst
phase against its limit), shaded where the grid sensor was stale, the controller measured an
overload, or the engine failed.
Middle: each load's commanded current. Then solar production and the engine's surplus, with
the battery's flow and SoC (second axis) when there is a battery. With water heaters or
climate boosts, a last panel shows the temperatures: each tank's against its `max_c` and
`min_c`, and next to them the house's indoor temperature of each climate boost.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ..engine.control_types import SiteStatus
from .runner import RunResult

PHASE_COLOURS = {"A": "tab:brown", "B": "tab:gray", "C": "tab:purple"}


def _shade_faults(ax, result: RunResult) -> None:
    series = result.series
    step = result.scenario.step_s
    for status, colour, label in (
        (SiteStatus.GRID_STALE, "tab:orange", "grid sensor stale"),
        (SiteStatus.OVERLOAD, "tab:pink", "overload measured"),
        (SiteStatus.ERROR, "tab:red", "engine error"),
    ):
        labelled = False
        for t, s in zip(series.t_s, series.status, strict=True):
            if s is status:
                ax.axvspan(
                    t / 60.0,
                    (t + step) / 60.0,
                    color=colour,
                    alpha=0.15,
                    lw=0,
                    label=None if labelled else label,
                )
                labelled = True


def _plot_temperatures(
    ax,
    t_min: list[float],
    tanks: dict[str, list[float]],
    indoor: dict[str, list[float]],
    result: RunResult,
) -> None:
    """Each water heater's tank temperature, with its `max_c` (safety stop) and `min_c`, and
    each climate boost's indoor temperature (dash-dot: the house, not water)."""
    for load_id, temps in indoor.items():
        ax.plot(t_min[: len(temps)], temps, ls="-.", label=f"{load_id} indoor")
    specs = {spec.load.id: spec.tank for spec in result.scenario.loads if spec.tank}
    for load_id, temps in tanks.items():
        line = ax.plot(t_min[: len(temps)], temps, label=load_id)
        tank = specs.get(load_id)
        if tank is None:
            continue
        colour = line[0].get_color()
        ax.axhline(tank.settings.max_c, color=colour, ls="--", lw=1, label=f"{load_id} max_c")
        if tank.settings.min_c is not None:
            ax.axhline(tank.settings.min_c, color=colour, ls=":", lw=1, label=f"{load_id} min_c")
    ax.set_ylabel("temperature (C)")
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax.grid(alpha=0.3)


def supported_formats() -> set[str]:
    """File extensions the plot can be saved as (png, svg, pdf, ...)."""
    fig = plt.figure()
    try:
        return set(fig.canvas.get_supported_filetypes())
    finally:
        plt.close(fig)


def write_plot(result: RunResult, path: str | Path) -> Path:
    series = result.series
    scenario = result.scenario
    t_min = [t / 60.0 for t in series.t_s]
    phases = "ABC"[: scenario.site.site.phases]
    tanks = {k: v for k, v in series.tank_c.items() if v}
    indoor = {k: v for k, v in series.indoor_c.items() if v}
    temperatures = bool(tanks or indoor)
    rows, ratios = (4, [3, 2, 2, 2]) if temperatures else (3, [3, 2, 2])
    fig, axes = plt.subplots(
        rows,
        1,
        sharex=True,
        figsize=(11, 9 + 2 * (rows - 3)),
        gridspec_kw={"height_ratios": ratios},
    )
    ax_grid, ax_loads, ax_power = axes[:3]
    fig.suptitle(f"{scenario.name}: grid, loads and solar", fontsize=13)

    for i, phase in enumerate(phases):
        values = [g[i] for g in series.grid_a]
        ax_grid.step(t_min, values, where="post", color=PHASE_COLOURS[phase], label=f"grid {phase}")
    ax_grid.step(t_min, series.breaker_a, where="post", color="red", ls="--", label="main breaker")
    for circuit in scenario.circuits:
        if circuit.limit_a is None or circuit.id not in series.circuits_a:
            continue
        worst = [max(c) for c in series.circuits_a[circuit.id]]
        line = ax_grid.step(t_min, worst, where="post", ls=":", label=f"{circuit.id} (worst phase)")
        ax_grid.axhline(
            circuit.limit_a, color=line[0].get_color(), ls="-.", lw=1, label=f"{circuit.id} limit"
        )
    ax_grid.axhline(0, color="black", lw=0.6)
    lowest = min((min(g) for g in series.grid_a), default=0.0)
    ax_grid.set_ylim(min(0.0, lowest) * 1.15 - 1.0, max(series.breaker_a, default=25.0) * 1.3)
    ax_grid.set_ylabel("current per phase (A)\n(+ import, - export)")
    _shade_faults(ax_grid, result)
    ax_grid.legend(loc="upper left", fontsize=8, ncol=3)
    ax_grid.grid(alpha=0.3)

    count = max(1, len(series.loads_a))
    for i, (load_id, values) in enumerate(series.loads_a.items()):
        # Thicker lines first so that loads with equal currents stay visible on top of each other.
        width = 1.2 + 2.0 * (count - 1 - i) / count
        ax_loads.step(t_min, values, where="post", lw=width, label=load_id)
    ax_loads.set_ylabel("commanded current (A)")
    ax_loads.legend(loc="upper left", fontsize=8, ncol=4)
    ax_loads.grid(alpha=0.3)

    ax_power.step(
        t_min, [w / 1000 for w in series.solar_w], where="post", color="gold", label="solar"
    )
    surplus = [None if w is None else w / 1000 for w in series.surplus_w]
    ax_power.step(t_min, surplus, where="post", color="tab:green", label="surplus (engine)")
    if scenario.site.battery is not None:
        ax_power.step(
            t_min,
            [w / 1000 for w in series.battery_w],
            where="post",
            color="tab:blue",
            label="battery (+ charging)",
        )
    ax_power.axhline(0, color="black", lw=0.6)
    ax_power.set_ylabel("power (kW)")
    if temperatures:
        _plot_temperatures(axes[3], t_min, tanks, indoor, result)
        axes[3].set_xlabel("time (min)")
    else:
        ax_power.set_xlabel("time (min)")
    ax_power.grid(alpha=0.3)
    handles, labels = ax_power.get_legend_handles_labels()
    if any(soc is not None for soc in series.soc_pct):
        ax_soc = ax_power.twinx()
        ax_soc.plot(t_min, series.soc_pct, color="tab:cyan", ls="--", label="battery SoC")
        ax_soc.set_ylabel("SoC (%)")
        ax_soc.set_ylim(0, 100)
        more_handles, more_labels = ax_soc.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax_power.legend(handles, labels, loc="upper left", fontsize=8, ncol=3)

    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
