"""Time to replay one recorded week at 5 s cycles (issue 14: under a minute on a laptop).

Run: `python tests/bench/bench_replay.py` from the repository root (not collected by pytest).
The week is the committed made-up day (tests/replay/data/day.csv) recorded seven days in a
row, written as a recorder database; the replay runs through the command line's own `main()`
without `--json`/`--plot`. Prints the wall time of the replay, reading the database included.
About three quarters of it is the controller's own decision time (the simulator's figure).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "apps"))
sys.path.insert(0, str(ROOT))

from load_juggler.replay import main  # noqa: E402
from tests.replay.recorder_db import csv_rows, write_db  # noqa: E402
from tests.replay.replaying import APPS, DAY_CSV  # noqa: E402

DAY_S = 24 * 3600
DAYS = 7


def week_db(folder: Path) -> Path:
    day = csv_rows(DAY_CSV)
    rows = [(e, s, t + n * DAY_S, a) for n in range(DAYS) for e, s, t, a in day]
    return write_db(folder / "home-assistant_v2.db", rows)


def bench() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = week_db(Path(folder))
        args = ["--apps", str(APPS), "--history", str(db)]
        args += ["--from", "2026-06-21T00:00:00Z", "--to", "2026-06-28T00:00:00Z"]
        out = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out):
            status = main(args)
        elapsed_s = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"replay failed with status {status}")
    cycles = DAYS * DAY_S // 5
    print(f"replay of {DAYS} days at 5 s ({cycles} cycles): {elapsed_s:.1f} s wall")


if __name__ == "__main__":
    bench()
