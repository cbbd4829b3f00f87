"""A load's mode schedule (`schedule:`): weekly windows, each with the mode it runs in.

```yaml
schedule:
  - {days: [mon, tue, wed, thu, fri], from: "22:00", to: "06:00", mode: continuous}
  - {days: [sat, sun], from: "10:00", to: "16:00", mode: solar_only}
```
A window whose `to` is not after its `from` runs over midnight into the next day; `days` name
the day it begins on (all days when left out). Only the data and its reader live here (pure);
when a window is in force is `loads/schedule.py`'s business.

Unquoted `22:00` is a number in YAML 1.1 (base 60: 1320, what AppDaemon's PyYAML reads), so a
whole number is taken as minutes after midnight; quoting the time is the clear way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from ..engine.model import Mode
from .load_config import parse_mode
from .reader import ArgReader

#: Day names in weekday order (Monday is 0, as `datetime.weekday()`).
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WINDOW_KEYS = ("days", "from", "to", "mode")
_MODES_ALLOWED = "must be one of " + ", ".join(m.value for m in Mode)


@dataclass(frozen=True)
class ScheduleWindow:
    """`mode` from `start` to `end` (local wall-clock times) on the days it begins on."""

    days: frozenset[int]
    start: time
    end: time
    mode: Mode

    @property
    def over_midnight(self) -> bool:
        return self.end <= self.start

    def describe(self) -> str:
        """`mon-fri 22:00-06:00 continuous`-like words for logs and entities."""
        if len(self.days) == 7:
            days = "every day"
        else:
            days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.mode.value}"


def parse_time_of_day(value: Any) -> time | None:
    """ "22:00", "6:30", "06:00:00", or minutes after midnight (YAML's base-60 `22:00`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return time(value // 60, value % 60) if 0 <= value < 24 * 60 else None
    if not isinstance(value, str):
        return None
    parts = value.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _days(r: ArgReader) -> frozenset[int]:
    if not r.has("days"):
        return frozenset(range(7))
    raw = r.raw("days")
    names = [raw] if isinstance(raw, str) else raw
    days: set[int] = set()
    if isinstance(names, Sequence) and names:
        for name in names:
            word = str(name).strip().lower()
            if word in DAY_NAMES:
                days.add(DAY_NAMES.index(word))
            elif word in _FULL_DAY_NAMES:
                days.add(_FULL_DAY_NAMES.index(word))
            else:
                days = set()
                break
    if not days:
        r.error("days", raw, "must be a list of days: " + ", ".join(DAY_NAMES))
        return frozenset(range(7))
    return frozenset(days)


def _time(r: ArgReader, key: str) -> time | None:
    if not r.has(key):
        r.error(key, None, 'required: a time of day such as "22:00"')
        return None
    parsed = parse_time_of_day(r.raw(key))
    if parsed is None:
        r.error(key, r.raw(key), 'must be a time of day "HH:MM" (00:00 .. 23:59), quoted')
    return parsed


def read_window(r: ArgReader) -> ScheduleWindow | None:
    """One window from reader `r` (its keys relative to the window); None after a problem."""
    days = _days(r)
    start = _time(r, "from")
    end = _time(r, "to")
    mode: Mode | None = None
    if not r.has("mode"):
        r.error("mode", None, "required: " + _MODES_ALLOWED.removeprefix("must be "))
    else:
        mode = parse_mode(r.raw("mode"))
        if mode is None:
            r.error("mode", r.raw("mode"), _MODES_ALLOWED)
    if start is not None and end is not None and start == end:
        r.error("to", r.raw("to"), f"must differ from 'from' ({start:%H:%M})")
        return None
    r.finish()
    if start is None or end is None or mode is None:
        return None
    return ScheduleWindow(days=days, start=start, end=end, mode=mode)


def read_schedule(r: ArgReader, key: str) -> tuple[ScheduleWindow, ...]:
    """`key` of reader `r`: a list of windows; every problem is recorded on `r`."""
    if not r.has(key):
        return ()
    raw = r.raw(key)
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        r.error(key, raw, "must be a list of {days, from, to, mode} windows")
        return ()
    windows: list[ScheduleWindow] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            r.error(f"{key}[{index}]", entry, "must be a mapping {days, from, to, mode}")
            continue
        window_reader = ArgReader(r.item, entry, path=f"{r.key(key)}[{index}].", errors=r.errors)
        window = read_window(window_reader)
        if window is not None:
            windows.append(window)
    return tuple(windows)
