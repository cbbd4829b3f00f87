"""Price series as Home Assistant price integrations publish them, read into `PriceSlot`s.

Integrations differ only in names: Nord Pool publishes `raw_today` + `raw_tomorrow` lists of
`{start, end, value}`, others a `prices` or `forecast` list of `{start, price}` (or
`starts_at`, `time`, `from` for the start, `total` for the price). One reader takes them all:
the attribute names are configurable (`price_attribute`), the keys inside an item are found by
their usual names, a missing `end` is the next item's start (the last item lasts as long as the
one before it, an hour when it is alone). Times without an offset are read in the zone given.
Items that cannot be read are skipped and named in the problems, so one bad entry does not
blind the planner to the rest of the day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from .clock_times import instant
from .engine.deadline import PriceSlot

#: Tried in this order when no attribute is configured; the first that holds a list wins
#: (`raw_today` is read together with `raw_tomorrow`).
DEFAULT_ATTRIBUTES: tuple[tuple[str, ...], ...] = (
    ("raw_today", "raw_tomorrow"),
    ("prices",),
    ("forecast",),
)
START_KEYS = ("start", "starts_at", "start_time", "time", "from")
END_KEYS = ("end", "ends_at", "end_time", "till", "to")
PRICE_KEYS = ("price", "value", "total")
#: A lone item with no end lasts this long.
DEFAULT_SLOT_S = 3600.0


@dataclass(frozen=True)
class PriceRead:
    """The slots read (sorted by start, epoch seconds) and one line per item skipped."""

    slots: tuple[PriceSlot, ...]
    problems: tuple[str, ...]


def read_prices(
    entity: str,
    attributes: Mapping[str, Any] | None,
    names: Sequence[str] | None = None,
    zone: tzinfo = UTC,
) -> PriceRead:
    """The price series of `entity`'s attributes; `names` the attributes to read (in order)."""
    attributes = attributes or {}
    if names:
        groups: tuple[tuple[str, ...], ...] = (tuple(names),)
    else:
        groups = DEFAULT_ATTRIBUTES
    for group in groups:
        items: list[tuple[str, Any]] = []
        for name in group:
            value = attributes.get(name)
            if isinstance(value, list):
                items.extend((name, item) for item in value)
        if items or (names and any(name in attributes for name in group)):
            return _slots(entity, items, zone)
    wanted = " or ".join("+".join(g) for g in groups)
    return PriceRead((), (f"price sensor '{entity}': no price list in attribute {wanted}",))


def _slots(entity: str, items: list[tuple[str, Any]], zone: tzinfo) -> PriceRead:
    problems: list[str] = []
    read: list[tuple[float, float | None, float]] = []
    for n, (name, item) in enumerate(items):
        where = f"price sensor '{entity}' attribute '{name}' item {n}"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: {item!r} is not a mapping with a start and a price")
            continue
        start = _first(item, START_KEYS)
        begins = instant(start, zone)
        if begins is None:
            problems.append(f"{where}: start {start!r} is not a date and time")
            continue
        price = _price(item)
        if price is None:
            problems.append(
                f"{where}: price {_first(item, PRICE_KEYS)!r} is not a number "
                f"(keys {', '.join(PRICE_KEYS)})"
            )
            continue
        end_value = _first(item, END_KEYS)
        ends = instant(end_value, zone) if end_value is not None else None
        end_s = ends.timestamp() if ends is not None else None
        read.append((begins.timestamp(), end_s, price))
    read.sort(key=lambda r: r[0])
    slots: list[PriceSlot] = []
    for i, (start_s, end_s, price) in enumerate(read):
        if end_s is None:
            if i + 1 < len(read):
                end_s = read[i + 1][0]
            elif slots:
                end_s = start_s + (slots[-1].end_s - slots[-1].start_s)
            else:
                end_s = start_s + DEFAULT_SLOT_S
        if end_s > start_s:
            slots.append(PriceSlot(start_s, end_s, price))
    return PriceRead(tuple(slots), tuple(problems))


def _first(item: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _price(item: Mapping[str, Any]) -> float | None:
    value = _first(item, PRICE_KEYS)
    if isinstance(value, bool) or value is None:
        return None
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    return price if math.isfinite(price) else None
