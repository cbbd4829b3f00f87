"""When a load's mode schedule window is in force, in Home Assistant's time zone.

A window's `from` and `to` are wall-clock times; they become instants on the day the window
begins (and the next, over midnight), and a window is in force from the first instant to the
second. Working in instants rather than in wall-clock times keeps DST changes right:
- spring: a time the clock skips (02:30 when 02:00 jumps to 03:00) counts from the jump
  (03:00), so a window neither starts an hour late nor vanishes;
- autumn: a time the clock passes twice (02:30 when 03:00 falls back to 02:00) is its first
  pass, so a window that ends at 02:30 ends once and does not start again an hour later.
Pure: no AppDaemon import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..config.schedule import ScheduleWindow

#: A skipped wall-clock time is looked for at most this far past (DST gaps are <= 2 h).
_MAX_GAP_MIN = 180


@dataclass(frozen=True)
class ActiveWindow:
    """A window in force now, with the instants (UTC seconds) it began and ends."""

    window: ScheduleWindow
    start_s: float
    end_s: float


def zone_named(name: object) -> tzinfo:
    """The time zone AppDaemon reports (`get_timezone()`), UTC when it names none we know."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    return UTC


def instant(day: date, at: time, zone: tzinfo) -> float:
    """The UTC seconds when the clocks of `zone` first show `at` on `day` (or, when the clock
    skips it, the moment it jumps over it)."""
    moment = datetime.combine(day, at, tzinfo=zone)
    if _exists(moment, zone):
        return moment.timestamp()
    for minutes in range(1, _MAX_GAP_MIN + 1):
        later = moment + timedelta(minutes=minutes)  # wall-clock arithmetic in `zone`
        if _exists(later, zone):
            return later.timestamp()
    return moment.timestamp()


def _exists(moment: datetime, zone: tzinfo) -> bool:
    """True when the wall-clock `moment` is shown by the clocks of `zone` (not in a gap)."""
    back = datetime.fromtimestamp(moment.timestamp(), UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def active_window(
    windows: Sequence[ScheduleWindow], now: datetime, zone: tzinfo
) -> ActiveWindow | None:
    """The first listed window in force at `now` (aware), None outside every window."""
    now_s = now.timestamp()
    today = now.astimezone(zone).date()
    for window in windows:
        for back in (0, 1):
            day = today - timedelta(days=back)
            if day.weekday() not in window.days:
                continue
            end_day = day + timedelta(days=1) if window.over_midnight else day
            start_s = instant(day, window.start, zone)
            end_s = instant(end_day, window.end, zone)
            if start_s <= now_s < end_s:
                return ActiveWindow(window=window, start_s=start_s, end_s=end_s)
    return None
