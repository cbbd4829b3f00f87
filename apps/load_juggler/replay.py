"""What would Load Juggler have done in my house? Replays a recorded Home Assistant history.

`python -m load_juggler.replay --apps APPS_YAML (--history SOURCE | --ha-url URL) [--from ISO]
[--to ISO] [--step-s S] [--json] [--plot OUT.png]`

SOURCE is the recorder's SQLite database (`home-assistant_v2.db`) or a CSV downloaded from the
History panel (`history.sources`); `--ha-url` asks a running Home Assistant's REST history API
with the token in `HA_TOKEN` (`history.rest`). The site and its loads come from apps.yaml,
parsed by the apps' own code; the house is the recorded grid minus the recorded draw of the
managed loads, and the hub's controller decides every cycle on it (`history.replay_run`). The
output is the simulator's summary (or `--json`, `--plot`) plus "recorded vs Load Juggler". A
bad apps.yaml, an unreadable history or a history without a needed entity exits with status 2
and one line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from .engine.errors import ConfigError
from .history.compare import comparison
from .history.replay_run import replay
from .history.rest import TOKEN_VARIABLE, read_rest
from .history.setup import ReplaySite, check_present, load_site, needed_entities, optional_entities
from .history.sources import HistoryError, Record, parse_time, read_history
from .sim.report import summary
from .sim.scenario import ScenarioFileError
from .simulate import PlotPathError, check_plot_path, print_outcome

EXIT_BAD_INPUT = 2


def _window(
    records: list[Record], needed: Sequence[str], start_s: float | None, end_s: float | None
) -> tuple[float, float]:
    """From `--from` or, left out, the moment every needed entity has a state; to `--to` or
    the last record."""
    if start_s is None:
        first: dict[str, float] = {}
        for record in records:
            first.setdefault(record.entity_id, record.t_s)
        start_s = max(first[entity] for entity in needed)
    if end_s is None:
        end_s = records[-1].t_s
    if end_s <= start_s:
        raise HistoryError(
            f"the period to replay is empty: it ends ({end_s:.0f}) before it starts "
            f"({start_s:.0f}); check --from and --to"
        )
    return start_s, end_s


def _check_grid_attributes(site: ReplaySite, records: list[Record], source: str) -> None:
    """A grid meter read by its attributes needs a history that has attributes (a CSV has none)."""
    grid = site.hub.sensors.grid
    if not grid.attributes:
        return
    entity = grid.entities[0]
    if not any(r.entity_id == entity and grid.attributes[0] in r.attributes for r in records):
        raise HistoryError(
            f"{source}: {entity} has no attribute {grid.attributes[0]} in this history "
            "(sensors.grid_phase_attributes); a History CSV carries no attributes, "
            "use the recorder database"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m load_juggler.replay",
        description="Replay a recorded Home Assistant history through Load Juggler.",
    )
    parser.add_argument("--apps", required=True, metavar="APPS_YAML", help="your apps.yaml")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--history", metavar="SOURCE", help="home-assistant_v2.db or History CSV")
    source.add_argument(
        "--ha-url",
        metavar="URL",
        help=f"a running Home Assistant (token in ${TOKEN_VARIABLE}); needs --from",
    )
    parser.add_argument("--from", dest="start", metavar="ISO", help="start (default: all known)")
    parser.add_argument("--to", dest="end", metavar="ISO", help="end (default: last record)")
    parser.add_argument(
        "--step-s", type=float, default=None, help="cycle length (default: the hub's period_s)"
    )
    parser.add_argument(
        "--price-entity",
        metavar="ENTITY",
        help="a recorded price per kWh of import (sensor.*): adds the import cost",
    )
    parser.add_argument("--json", action="store_true", help="print final, metrics, recorded")
    parser.add_argument("--plot", metavar="OUT.png", help="write a plot of the replay")
    args = parser.parse_args(argv)
    if args.step_s is not None and not args.step_s > 0:
        parser.error(f"--step-s {args.step_s:g}: must be > 0")
    if args.ha_url and not args.start:
        parser.error("--ha-url needs --from (Home Assistant would send only the last day)")
    try:
        if args.plot:
            check_plot_path(args.plot)
        site = load_site(args.apps)
        needed = needed_entities(site)
        if args.price_entity:
            needed[args.price_entity] = "--price-entity"
        wanted = {**needed, **optional_entities(site)}
        start_s = parse_time(args.start, "--from") if args.start else None
        end_s = parse_time(args.end, "--to") if args.end else None
        if args.ha_url:
            assert start_s is not None  # --from is required with --ha-url (checked above)
            end_s = end_s if end_s is not None else time.time()
            records = read_rest(args.ha_url, os.environ.get(TOKEN_VARIABLE), wanted, start_s, end_s)
        else:
            records = read_history(args.history, wanted, start_s, end_s)
        origin = args.history or args.ha_url
        check_present(needed, {r.entity_id for r in records}, origin)
        _check_grid_attributes(site, records, origin)
        start_s, end_s = _window(records, list(needed), start_s, end_s)
        result = replay(
            site,
            records,
            start_s,
            end_s,
            args.step_s or site.hub.period_s,
            keep_steps=args.json,
            keep_series=bool(args.plot),
            price_entity=args.price_entity,
        )
    except (PlotPathError, HistoryError, ScenarioFileError, ConfigError) as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    text = f"{summary(result.run)}\n{comparison(result)}"
    print_outcome(result.run, result.as_json() if args.json else None, text, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
