"""Running scenario files in-process, and reading their steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import load_scenario

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
# The shared folder (DESIGN.md and its example scenarios) sits next to the checkout.
SHARED_SCENARIOS = REPO.parent / "shared" / "scenarios"


def simulate(name: str) -> RunResult:
    return run(load_scenario(DATA / f"{name}.yaml"))


def series(result: RunResult, load_id: str) -> dict[float, float]:
    return {step["t"]: step["loads"][load_id] for step in result.steps}


def on_off_changes(result: RunResult, load_id: str) -> list[tuple[float, bool]]:
    """(t, now_on) each time the load's commanded on/off state changes."""
    changes: list[tuple[float, bool]] = []
    was_on = False
    for step in result.steps:
        on = step["loads"][load_id] > 0
        if on != was_on:
            changes.append((step["t"], on))
        was_on = on
    return changes


def total_overload_s(metrics: dict[str, Any]) -> float:
    return sum(metrics["overload_s"].values())
