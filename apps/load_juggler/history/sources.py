"""Where a recorded history comes from: Home Assistant's recorder database or a History CSV.

Both give one time-ordered stream of `Record`s (epoch seconds, entity, state, attributes):
- the recorder's SQLite file (`home-assistant_v2.db`, HA 2023.4 or later), read with the
  standard library: table `states` (`state`, `last_updated_ts`, `metadata_id`,
  `attributes_id`), the entity ids in `states_meta`, the attributes as JSON in
  `state_attributes.shared_attrs`. Only the entities asked for are read, so a year-old
  database is not loaded whole;
- the CSV the History panel downloads (`entity_id,state,last_changed`, ISO times): it carries no
  attributes, so a unit is whatever the apps assume for an entity without one.
A MariaDB/PostgreSQL recorder has the same tables; reading it is not built (export a CSV).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: The first bytes of every SQLite 3 file.
SQLITE_MAGIC = b"SQLite format 3\x00"
CSV_COLUMNS = ("entity_id", "state", "last_changed")


class HistoryError(ValueError):
    """The history cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Record:
    """One state change as the recorder kept it; `t_s` is seconds since the epoch (UTC)."""

    t_s: float
    entity_id: str
    state: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


def parse_time(text: str, what: str) -> float:
    """An ISO 8601 time (`2026-06-21T18:10:00Z`, `...+02:00`, no zone = UTC) in epoch seconds."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(
            f"{what}: {text!r} is not an ISO time such as 2026-06-21T18:10:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_history(
    path: str | Path,
    entities: Iterable[str],
    start_s: float | None = None,
    end_s: float | None = None,
) -> list[Record]:
    """The records of `entities` in time order; the last one before `start_s` is kept too (it
    is the state at the start). The format is told by the file's first bytes, not its name."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise HistoryError(f"--history {file}: not found") from None
    except IsADirectoryError:
        raise HistoryError(f"--history {file}: is a directory, not a database or CSV") from None
    except OSError as err:
        raise HistoryError(f"--history {file}: cannot read: {err.strerror}") from None
    wanted = frozenset(entities)
    if head == SQLITE_MAGIC:
        records = _read_sqlite(file, wanted, end_s)
    else:
        records = _read_csv(file, wanted, end_s)
    records.sort(key=lambda r: r.t_s)
    return _from_start(records, start_s)


def _from_start(records: list[Record], start_s: float | None) -> list[Record]:
    """Drop what lies before `start_s`, except each entity's last state before it."""
    if start_s is None:
        return records
    before: dict[str, Record] = {}
    kept: list[Record] = []
    for record in records:
        if record.t_s < start_s:
            before[record.entity_id] = record
        else:
            kept.append(record)
    return sorted(before.values(), key=lambda r: r.t_s) + kept


def _read_csv(file: Path, wanted: frozenset[str], end_s: float | None) -> list[Record]:
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = tuple(reader.fieldnames or ())
            missing = [c for c in CSV_COLUMNS if c not in columns]
            if missing:
                raise HistoryError(
                    f"--history {file}: not a recorder database, and as a CSV it lacks column(s) "
                    f"{', '.join(missing)}; expected the History panel's "
                    f"{','.join(CSV_COLUMNS)}"
                )
            records = []
            for line, row in enumerate(reader, start=2):
                entity = (row.get("entity_id") or "").strip()
                if entity not in wanted:
                    continue
                t_s = parse_time(row.get("last_changed") or "", f"{file} line {line}")
                if end_s is not None and t_s > end_s:
                    continue
                records.append(Record(t_s, entity, (row.get("state") or "").strip()))
            return records
    except UnicodeDecodeError:
        raise HistoryError(f"--history {file}: neither a SQLite database nor UTF-8 CSV") from None


def _read_sqlite(file: Path, wanted: frozenset[str], end_s: float | None) -> list[Record]:
    uri = f"file:{file.resolve()}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as err:
        raise HistoryError(f"--history {file}: cannot open the database: {err}") from None
    try:
        return _query(db, wanted, end_s)
    except sqlite3.Error as err:
        raise HistoryError(
            f"--history {file}: not a Home Assistant recorder database of HA 2023.4 or later "
            f"(tables states, states_meta, state_attributes): {err}"
        ) from None
    finally:
        db.close()


def _query(db: sqlite3.Connection, wanted: frozenset[str], end_s: float | None) -> list[Record]:
    if not wanted:
        return []
    marks = ",".join("?" for _ in wanted)
    sql = (
        "SELECT s.last_updated_ts, m.entity_id, s.state, a.shared_attrs FROM states s "
        "JOIN states_meta m ON m.metadata_id = s.metadata_id "
        "LEFT JOIN state_attributes a ON a.attributes_id = s.attributes_id "
        f"WHERE m.entity_id IN ({marks})"
    )
    params: list[Any] = sorted(wanted)
    if end_s is not None:
        sql += " AND s.last_updated_ts <= ?"
        params.append(end_s)
    sql += " ORDER BY s.last_updated_ts, s.state_id"
    records = []
    for t_s, entity, state, attrs in db.execute(sql, params):
        records.append(
            Record(float(t_s), entity, "" if state is None else str(state), _attrs(attrs))
        )
    return records


def _attrs(text: str | None) -> Mapping[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
