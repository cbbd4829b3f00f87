"""The recorded states at one moment, as Home Assistant would have shown them to the apps.

`RecordedStates` walks the time-ordered records forward: `advance(t)` applies every change up
to `t`, and `full_state(entity)` answers like AppDaemon's `get_state(entity, attribute="all")`,
so the hub's own `SiteReader` reads the recording exactly as it reads the live house. Between
two records a state holds (HA records a sensor only when it changes). What is odd in the
history is counted per entity: unavailable/unknown time, silent periods and unit changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..units import unit_of
from .sources import Record

#: States in which HA has no value for an entity (as `loads.device_host.UNAVAILABLE_STATES`).
UNAVAILABLE_STATES = frozenset({"unavailable", "unknown", "none", ""})
#: An entity that records nothing for longer than this counts one silent period (its last
#: state held all along, as HA itself would have shown it).
SILENT_S = 3600.0


@dataclass
class EntityCounts:
    """What was odd about one entity's history over the replayed period."""

    unavailable_s: float = 0.0
    silent_periods: int = 0
    unit_changes: int = 0
    records: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "unavailable_s": round(self.unavailable_s, 3),
            "silent_periods": self.silent_periods,
            "unit_changes": self.unit_changes,
            "records": self.records,
        }


@dataclass
class RecordedStates:
    """The states of the recorded entities at the moment `advance` was last called with."""

    records: Sequence[Record]
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    _index: int = 0
    _now: dict[str, dict[str, Any]] = field(default_factory=dict)
    _last_t_s: dict[str, float] = field(default_factory=dict)
    _unit: dict[str, str | None] = field(default_factory=dict)

    def advance(self, t_s: float) -> int:
        """Apply every record up to and including epoch second `t_s`; how many there were."""
        records = self.records
        start = self._index
        while self._index < len(records) and records[self._index].t_s <= t_s:
            self._apply(records[self._index])
            self._index += 1
        return self._index - start

    def _apply(self, record: Record) -> None:
        entity = record.entity_id
        counts = self.counts.setdefault(entity, EntityCounts())
        counts.records += 1
        full = {"state": record.state, "attributes": dict(record.attributes)}
        last = self._last_t_s.get(entity)
        if last is not None and record.t_s - last > SILENT_S:
            counts.silent_periods += 1
        unit = unit_of(full)
        if entity in self._unit and unit != self._unit[entity] and unit is not None:
            counts.unit_changes += 1
        if unit is not None or entity not in self._unit:
            self._unit[entity] = unit
        self._last_t_s[entity] = record.t_s
        self._now[entity] = full

    def full_state(self, entity: str) -> Mapping[str, Any] | None:
        """Like AppDaemon's `get_state(entity, attribute="all")`; None before its first record."""
        return self._now.get(entity)

    def state(self, entity: str | None) -> str | None:
        """The plain state text, None when unknown or unavailable."""
        if entity is None:
            return None
        full = self._now.get(entity)
        if full is None:
            return None
        text = str(full["state"]).strip()
        return None if text.lower() in UNAVAILABLE_STATES else text

    def count_unavailable(self, entities: Sequence[str], step_s: float) -> None:
        """One cycle of `step_s`: add it to every listed entity that has no value now."""
        for entity in entities:
            if self.state(entity) is None:
                self.counts.setdefault(entity, EntityCounts()).unavailable_s += step_s
