"""Builds a Home Assistant recorder database (the subset the replay reads) from records.

The tables and columns are the recorder's own (schema 43 and later): `states_meta` maps entity
ids to `metadata_id`, `state_attributes` holds attributes as JSON, `states` one row per change
with `last_updated_ts` in epoch seconds. Columns the replay does not read are left out.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE states_meta (metadata_id INTEGER PRIMARY KEY, entity_id VARCHAR(255));
CREATE TABLE state_attributes (
    attributes_id INTEGER PRIMARY KEY, hash BIGINT, shared_attrs TEXT
);
CREATE TABLE states (
    state_id INTEGER PRIMARY KEY, state VARCHAR(255), attributes_id INTEGER,
    last_changed_ts FLOAT, last_updated_ts FLOAT, metadata_id INTEGER
);
"""

Row = tuple[str, str, float, Mapping[str, Any]]


def csv_rows(path: Path) -> list[Row]:
    """A History CSV's rows as (entity, state, epoch seconds, no attributes)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (
                row["entity_id"],
                row["state"],
                datetime.fromisoformat(row["last_changed"].replace("Z", "+00:00")).timestamp(),
                {},
            )
            for row in csv.DictReader(handle)
        ]


def write_db(path: Path, rows: Iterable[Row]) -> Path:
    """Write `rows` (entity, state, epoch seconds, attributes) as a recorder database."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    meta: dict[str, int] = {}
    attrs: dict[str, int] = {}
    for entity, state, t_s, attributes in sorted(rows, key=lambda r: r[2]):
        if entity not in meta:
            meta[entity] = len(meta) + 1
            db.execute("INSERT INTO states_meta VALUES (?, ?)", (meta[entity], entity))
        shared = json.dumps(dict(attributes), sort_keys=True)
        if shared not in attrs:
            attrs[shared] = len(attrs) + 1
            db.execute("INSERT INTO state_attributes VALUES (?, ?, ?)", (attrs[shared], 0, shared))
        db.execute(
            "INSERT INTO states (state, attributes_id, last_changed_ts, last_updated_ts, "
            "metadata_id) VALUES (?, ?, ?, ?, ?)",
            (state, attrs[shared], t_s, t_s, meta[entity]),
        )
    db.commit()
    db.close()
    return path
