"""Wall-clock times as users write them: "07:00" (the next such time) or an ISO date and time.

Shared by the charger app (`ready_by`, price series) and the simulator (`start`, `ready_by`,
`prices`), so both read the same text the same way. Pure: the caller passes the time "now".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def time_of_day(value: str) -> time | None:
    """ "07:00" / "7:00:30" as a time, None when the text is not a time of day."""
    match = _TIME_OF_DAY.match(value)
    if match is None:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def next_time_of_day(now: datetime, at: time) -> datetime:
    """The first `at` (local to `now`'s time zone) strictly after `now`.

    The date is built in local time and then given the zone, so "07:00" stays 07:00 across a
    daylight saving change.
    """
    zone = now.tzinfo or UTC
    candidate = datetime.combine(now.date(), at).replace(tzinfo=zone)
    if candidate <= now:
        candidate = datetime.combine(now.date() + timedelta(days=1), at).replace(tzinfo=zone)
    return candidate


def instant(value: object, zone: tzinfo = UTC) -> datetime | None:
    """An ISO date-time (a `datetime` as YAML loads it, or text) as an aware datetime.

    A value without an offset is read in `zone`. None when it is not a date-time.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed
