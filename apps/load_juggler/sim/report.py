"""The readable summary printed when `--json` is not given."""

from __future__ import annotations

from .runner import RunResult


def summary(result: RunResult) -> str:
    scenario = result.scenario
    metrics = result.metrics
    overload = {k: v for k, v in metrics["overload_s"].items() if v > 0}
    lines = [
        f"scenario {scenario.name!r}: {scenario.duration_s:g} s in steps of {scenario.step_s:g} s",
        "overload: none"
        if not overload
        else "OVERLOAD (s): "
        + ", ".join(
            f"{k} {v:g} in {len(metrics['overload_episodes'][k])} episode(s), longest "
            f"{max(s for _, s in metrics['overload_episodes'][k]):g}"
            for k, v in sorted(overload.items())
        ),
        "peak current (A): " + ", ".join(f"{k} {v:.1f}" for k, v in metrics["peak_a"].items()),
        f"grid: import {metrics['import_wh'] / 1000:.2f} kWh, "
        f"export {metrics['export_wh'] / 1000:.2f} kWh",
        "loads:",
    ]
    for load_id, final in result.final.items():
        state = f"on at {final['allocated_a']:g} A" if final["on"] else "off"
        lines.append(
            f"  {load_id:<12} energy {metrics['energy_wh'][load_id] / 1000:6.2f} kWh, "
            f"starts {metrics['start_stops'][load_id]}, finally {state}"
        )
    if result.messages:
        lines.append("messages:")
        lines.extend(f"  t={t:g} s  {message}" for t, message in result.messages)
    lines.append(
        f"decision time per cycle: p50 {metrics['cycle_ms_p50']:.3f} ms, "
        f"max {metrics['cycle_ms_max']:.3f} ms"
    )
    return "\n".join(lines)
