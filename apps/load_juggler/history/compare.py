""" "Recorded vs Load Juggler": the recorded day and its replay, measured alike, side by side."""

from __future__ import annotations

from typing import Any

from .replay_run import ReplayResult


def _row(label: str, recorded: float, replayed: float, digits: int) -> str:
    return f"  {label:<28} {recorded:>12.{digits}f} {replayed:>14.{digits}f}"


def comparison(result: ReplayResult) -> str:
    """The side-by-side table, then what was odd in the history (only what happened)."""
    rec: dict[str, Any] = result.recorded
    lj: dict[str, Any] = result.run.metrics
    lines = [f"  {'recorded vs Load Juggler':<28} {'recorded':>12} {'Load Juggler':>14}"]
    lines.append(_row("grid import (kWh)", rec["import_wh"] / 1000, lj["import_wh"] / 1000, 2))
    lines.append(_row("grid export (kWh)", rec["export_wh"] / 1000, lj["export_wh"] / 1000, 2))
    recorded_share = result.self_consumption(rec["export_wh"])
    replayed_share = result.self_consumption(lj["export_wh"])
    if recorded_share is not None and replayed_share is not None:
        lines.append(_row("solar (kWh)", result.solar_wh / 1000, result.solar_wh / 1000, 2))
        lines.append(
            _row("solar self-consumption (%)", recorded_share * 100, replayed_share * 100, 0)
        )
    if result.cost is not None:
        lines.append(_row("import cost", result.cost[0], result.cost[1], 2))
    for load_id in lj["energy_wh"]:
        lines.append(
            _row(
                f"{load_id} energy (kWh)",
                rec["energy_wh"].get(load_id, 0.0) / 1000,
                lj["energy_wh"][load_id] / 1000,
                2,
            )
        )
        lines.append(
            _row(
                f"{load_id} starts",
                rec["start_stops"].get(load_id, 0),
                lj["start_stops"].get(load_id, 0),
                0,
            )
        )
    for key in lj["overload_s"]:
        lines.append(_row(f"overload {key} (s)", rec["overload_s"][key], lj["overload_s"][key], 0))
        lines.append(_row(f"peak {key} (A)", rec["peak_a"][key], lj["peak_a"][key], 1))
    odd = [
        f"  {entity}: unavailable {c['unavailable_s']:g} s, unit changes {c['unit_changes']}"
        for entity, c in result.history.items()
        if c["unavailable_s"] or c["unit_changes"]
    ]
    silent = sum(int(c["silent_periods"]) for c in result.history.values())
    lines.append(
        f"history: {len(result.history)} entities; {len(odd)} with unavailable time or a unit "
        f"change (held, as the hub holds them); {silent} silence(s) over 1 h (last state held)"
    )
    lines.extend(odd)
    return "\n".join(lines)
