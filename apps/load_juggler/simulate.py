"""Scenario simulator: `python -m load_juggler.simulate SCENARIO.yaml [--json] [--plot OUT.png]`.

Runs the hub's own controller against a simulated site (see `sim.plant`) and reports overloads,
energy and start/stop counts. The scenario format is DESIGN.md's contract; a bad file exits
with status 2 and one line on stderr naming the key. `--example APPS_YAML` instead simulates a
made-up sunny day for the site an apps.yaml describes (`sim.example`; used by `./run.sh demo`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .engine.control_types import ControlSettings
from .engine.errors import ConfigError
from .sim.report import summary
from .sim.runner import RunResult, run
from .sim.scenario import Scenario, ScenarioFileError, in_file_terms, load_scenario

EXIT_BAD_SCENARIO = 2


def _load(args: argparse.Namespace) -> tuple[Scenario, ControlSettings | None]:
    if args.example is not None:
        from .sim.example import example_scenario

        return example_scenario(args.example)
    return load_scenario(args.scenario), None


class PlotPathError(ValueError):
    """`--plot` names a file that cannot be written; found before the run, not after it."""


def check_plot_path(path: str) -> Path:
    """Refuse a `--plot` target that would fail only after a long run: a directory, a missing
    directory, a format matplotlib cannot write, a place the process may not write to."""
    out = Path(path)
    if out.is_dir():
        raise PlotPathError(f"--plot {path}: is a directory; give a file name such as run.png")
    if not out.parent.is_dir():
        raise PlotPathError(f"--plot {path}: directory {out.parent} does not exist")
    from .sim.plot import supported_formats

    formats = supported_formats()
    if out.suffix.lstrip(".").lower() not in formats:
        raise PlotPathError(
            f"--plot {path}: unknown image format {out.suffix or '(none)'!r}; "
            "use one of " + ", ".join(f".{f}" for f in sorted(formats))
        )
    existed = out.exists()
    try:
        with out.open("ab"):
            pass
    except OSError as err:
        raise PlotPathError(f"--plot {path}: cannot write: {err.strerror}") from None
    if not existed:
        out.unlink()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m load_juggler.simulate",
        description="Run a Load Juggler scenario against a simulated site.",
    )
    parser.add_argument("scenario", nargs="?", help="scenario YAML file")
    parser.add_argument(
        "--example", metavar="APPS_YAML", help="simulate a sunny day for this apps.yaml instead"
    )
    parser.add_argument("--json", action="store_true", help="print final, metrics and steps")
    parser.add_argument("--plot", metavar="OUT.png", help="write a plot of the run")
    args = parser.parse_args(argv)
    if (args.scenario is None) == (args.example is None):
        parser.error("give either a scenario file or --example APPS_YAML")
    source = args.scenario or args.example
    try:
        if args.plot:
            check_plot_path(args.plot)
        scenario, settings = _load(args)
        result = run(scenario, settings=settings, keep_steps=args.json, keep_series=bool(args.plot))
    except PlotPathError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_SCENARIO
    except (ConfigError, ScenarioFileError) as err:
        message = " ".join(str(err).split())
        if isinstance(err, ConfigError):
            message = f"{source}: {' '.join(str(in_file_terms(err)).split())}"
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_SCENARIO
    print_outcome(result, result.as_json() if args.json else None, summary(result), args.plot)
    return 0


def print_outcome(
    result: RunResult, as_json: dict[str, Any] | None, text: str, plot: str | None
) -> None:
    """What a run prints: its JSON (when asked) or its summary text, then the plot."""
    if as_json is not None:
        json.dump(as_json, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(text)
    if plot:
        from .sim.plot import write_plot

        out = write_plot(result, plot)
        if as_json is None:
            print(f"plot written to {out}")


if __name__ == "__main__":
    sys.exit(main())
