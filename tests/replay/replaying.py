"""Replays a history the way `python -m load_juggler.replay` does, for the tests."""

from __future__ import annotations

from pathlib import Path

from load_juggler.history.replay_run import ReplayResult, replay
from load_juggler.history.setup import load_site, needed_entities, optional_entities
from load_juggler.history.sources import parse_time, read_history

DATA = Path(__file__).parent / "data"
APPS = DATA / "apps.yaml"
DAY_CSV = DATA / "day.csv"
DAY = "2026-06-21"


def at(clock: str) -> float:
    """Epoch seconds of `HH:MM` on the made-up day (UTC)."""
    return parse_time(f"{DAY}T{clock}:00Z", "test")


def replay_file(
    history: Path, start: str, end: str, apps: Path = APPS, step_s: float = 5.0
) -> ReplayResult:
    """Replay `history` from `start` to `end` (`HH:MM` of the day, `24:00` the day's end)."""
    site = load_site(apps)
    wanted = {**needed_entities(site), **optional_entities(site)}
    start_s = at(start)
    end_s = at("23:59") + 60 if end == "24:00" else at(end)
    records = read_history(history, wanted, start_s, end_s)
    return replay(site, records, start_s, end_s, step_s, keep_steps=True)
