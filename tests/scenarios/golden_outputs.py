"""The simulator's `--json` for every committed scenario, as recorded before a refactoring.

A change that only moves code must leave every decision, every step and every metric as it
was; the timing figures (`cycle_ms_*`) are the only fields that may differ. Record the outputs
with `python tests/scenarios/golden_outputs.py` *before* such a change and commit them; the
test in `test_outputs_unchanged.py` then compares every run against them. A change that is
meant to alter behaviour records them again in the same commit and says why.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[1]
GOLDEN = HERE / "golden"
EXAMPLE_APPS = REPO / "apps.yaml.example"
TIMING_KEYS = ("cycle_ms_p50", "cycle_ms_max")


def scenario_files() -> dict[str, Path]:
    """Every scenario committed in this repository, by output name.

    The shared example scenarios are maintained outside the repository and may change on
    their own, so they are not recorded here.
    """
    return {f"data-{p.stem}": p for p in sorted((HERE / "data").glob("*.yaml"))}


def run_json(path: Path | None) -> dict[str, Any]:
    """What `simulate --json` prints for a scenario file (None: the `--example` day)."""
    from load_juggler.sim.runner import run
    from load_juggler.sim.scenario import load_scenario

    if path is None:
        from load_juggler.sim.example import example_scenario

        scenario, settings = example_scenario(str(EXAMPLE_APPS))
    else:
        scenario, settings = load_scenario(path), None
    out = run(scenario, settings=settings, keep_steps=True).as_json()
    # A JSON round trip gives the very types `--json` prints (tuples become lists).
    out = json.loads(json.dumps(out))
    for key in TIMING_KEYS:
        out["metrics"].pop(key, None)
    return out


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.json.gz"


def read_golden(name: str) -> dict[str, Any]:
    with gzip.open(golden_path(name), "rt", encoding="utf-8") as fh:
        return json.load(fh)


def record() -> None:
    GOLDEN.mkdir(exist_ok=True)
    targets: dict[str, Path | None] = {"example": None, **scenario_files()}
    for name, path in targets.items():
        text = json.dumps(run_json(path), sort_keys=True, indent=0)
        # mtime=0 keeps the file identical when the output is.
        with (
            open(golden_path(name), "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh,
        ):
            fh.write(text.encode("utf-8"))
        print(f"recorded {golden_path(name).relative_to(REPO)}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "apps"))
    record()
