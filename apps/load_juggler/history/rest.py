"""A running Home Assistant's history over its REST API (`--ha-url`), for users without file
access to the recorder (an add-on installation, say).

One request: `GET /api/history/period/<start>?filter_entity_id=a,b&end_time=<end>` with a
long-lived access token (`Authorization: Bearer`, from the environment variable
`HA_TOKEN`). Home Assistant answers one list per entity, beginning with the entity's state at
`start`; `significant_changes_only=0` asks for every change, attributes included, so units
are read as from the database. Standard library only (urllib).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .sources import HistoryError, Record, parse_time

TOKEN_VARIABLE = "HA_TOKEN"
TIMEOUT_S = 120.0


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat()


def history_url(base_url: str, entities: Iterable[str], start_s: float, end_s: float) -> str:
    """The request for `entities` from `start_s` to `end_s` (epoch seconds)."""
    query = urllib.parse.urlencode(
        {
            "filter_entity_id": ",".join(sorted(entities)),
            "end_time": _iso(end_s),
            "significant_changes_only": "0",
        }
    )
    start = urllib.parse.quote(_iso(start_s), safe="")
    return f"{base_url.rstrip('/')}/api/history/period/{start}?{query}"


def read_rest(
    base_url: str, token: str | None, entities: Iterable[str], start_s: float, end_s: float
) -> list[Record]:
    """The records of `entities` between the two times, in time order; one line on failure."""
    if not token:
        raise HistoryError(
            f"--ha-url {base_url}: set {TOKEN_VARIABLE} to a long-lived access token "
            "(HA profile > Security > Long-lived access tokens)"
        )
    url = history_url(base_url, entities, start_s, end_s)
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        hint = f" (check {TOKEN_VARIABLE})" if err.code in (401, 403) else ""
        raise HistoryError(f"--ha-url {base_url}: HTTP {err.code} {err.reason}{hint}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise HistoryError(f"--ha-url {base_url}: cannot connect: {reason}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise HistoryError(f"--ha-url {base_url}: the answer is not JSON") from None
    return _records(data, base_url)


def _records(data: Any, base_url: str) -> list[Record]:
    if not isinstance(data, list):
        raise HistoryError(f"--ha-url {base_url}: expected a list of entity histories")
    records = []
    for history in data:
        for state in history if isinstance(history, list) else ():
            if not isinstance(state, dict) or "entity_id" not in state:
                continue
            when = state.get("last_updated") or state.get("last_changed") or ""
            attributes = state.get("attributes")
            records.append(
                Record(
                    parse_time(str(when), f"--ha-url {state['entity_id']}"),
                    str(state["entity_id"]),
                    "" if state.get("state") is None else str(state["state"]),
                    attributes if isinstance(attributes, dict) else {},
                )
            )
    records.sort(key=lambda r: r.t_s)
    return records
