"""Commands Home Assistant may send the hub (event `load_juggler_command`), checked like apps.yaml.

An automation sends, for example,
```yaml
- event: load_juggler_command
  event_data: {command: set_mode, load: evse1, mode: solar_only, for_s: 3600}
```
Each command's fields are read through an `ArgReader` (the apps.yaml reader), so a bad field gets
the same one-line message as a bad apps.yaml key, naming the field, its value and what is
allowed; an unknown field is refused with the nearest known one as a hint. The first problem is
the answer. Pure: no AppDaemon import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from .config import LoadSettings, parse_mode
from .config.reader import ArgReader
from .config.schedule import parse_time_of_day
from .engine.errors import ConfigError
from .engine.model import LoadKind, Mode, Strategy
from .loads.schedule import instant

#: The event the hub listens to, and the one it answers with.
COMMAND_EVENT = "load_juggler_command"
RESULT_EVENT = "load_juggler_command_result"

#: Each command and the fields it takes besides `command`, `hub` and `id`.
COMMAND_FIELDS: dict[str, tuple[str, ...]] = {
    "set_mode": ("load", "mode", "for_s", "until"),
    "set_current_limits": ("load", "min_a", "max_a"),
    "set_distribution": ("distribution",),
    "boost": ("load", "energy_kwh", "until", "for_s"),
    "reset_charger": ("load",),
    "pause": ("load",),
    "resume": ("load",),
}
#: Fields every command may carry: `hub` (which hub it is for), `id` (echoed in the answer).
COMMON_FIELDS = ("command", "hub", "id")
#: Keys Home Assistant / AppDaemon add to an event's data.
EVENT_META_KEYS = frozenset({"metadata", "context", "origin", "time_fired"})
#: The longest a timed override may run (`for_s`, `until`).
MAX_OVERRIDE_S = 31 * 24 * 3600.0
#: The largest boost.
MAX_BOOST_KWH = 500.0


@dataclass(frozen=True)
class CommandTarget:
    """What a command needs to know of a load: its kind and configured current range."""

    name: str
    kind: LoadKind
    min_a: float
    max_a: float


def target_of(settings: LoadSettings) -> CommandTarget:
    return CommandTarget(settings.name, settings.kind, settings.min_a, settings.max_a)


class CommandError(Exception):
    """A command that cannot be carried out; `str()` is the one-line reason."""


@dataclass(frozen=True)
class CommandRequest:
    """One checked command; fields that its command does not take stay None."""

    command: str
    hub: str | None = None
    request_id: str | None = None
    load: str | None = None
    mode: Mode | None = None
    until_s: float | None = None
    min_a: float | None = None
    max_a: float | None = None
    distribution: Strategy | None = None
    energy_wh: float | None = None


def command_of(data: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(command, hub, id) as sent, for the answer even when the rest is bad."""

    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    return text("command"), text("hub"), text("id")


def parse_command(
    data: Mapping[str, Any],
    now: datetime,
    zone: tzinfo,
    loads: Mapping[str, CommandTarget],
) -> CommandRequest:
    """Check a command's fields; `loads` are the load apps registered with this hub (by name).

    Raises CommandError with the first problem.
    """
    if not isinstance(data, Mapping):
        raise CommandError(f"event data must be a mapping of fields, not {data!r}")
    command, hub, request_id = command_of(data)
    if command not in COMMAND_FIELDS:
        raise CommandError(
            str(
                ConfigError(
                    "command",
                    "command",
                    data.get("command"),
                    "must be one of " + ", ".join(COMMAND_FIELDS),
                )
            )
        )
    r = ArgReader(f"command {command}", data, ignore=EVENT_META_KEYS)
    for key in COMMON_FIELDS:
        r.raw(key)
    request = _read_fields(r, command, now, zone, loads)
    r.finish()
    if r.errors:
        # A misspelt field explains the problems it causes (`kwh` -> energy_kwh missing).
        unknown = [e for e in r.errors if e.allowed.startswith("unknown key")]
        raise CommandError(str((unknown or r.errors)[0]))
    return CommandRequest(command=command, hub=hub, request_id=request_id, **request)


def _read_fields(
    r: ArgReader,
    command: str,
    now: datetime,
    zone: tzinfo,
    loads: Mapping[str, CommandTarget],
) -> dict[str, Any]:
    fields = COMMAND_FIELDS[command]
    out: dict[str, Any] = {}
    settings: CommandTarget | None = None
    if "load" in fields:
        name = r.string("load", required=True)
        if name is not None and name not in loads:
            known = ", ".join(sorted(loads)) or "none registered"
            r.error("load", name, f"must name a load app registered with this hub ({known})")
        elif name is not None:
            settings = loads[name]
        out["load"] = name
    if "mode" in fields:
        out["mode"] = _mode(r)
    if "until" in fields:
        out["until_s"] = _until(r, now, zone)
    if command == "set_distribution":
        raw = r.choice("distribution", "", [s.value for s in Strategy])
        if not r.has("distribution"):
            r.error("distribution", None, "required: " + ", ".join(s.value for s in Strategy))
        out["distribution"] = Strategy(raw) if raw else None
    if command == "set_current_limits":
        out.update(_limits(r, settings))
    if command == "boost":
        kwh = r.number("energy_kwh", None, above=0, maximum=MAX_BOOST_KWH)
        out["energy_wh"] = None if kwh is None else kwh * 1000.0
    if command == "reset_charger" and settings is not None and settings.kind is not LoadKind.EVSE:
        r.error("load", settings.name, "must name an OCPP charger: only chargers have profiles")
    _timing(r, command, now, out)
    return out


def _mode(r: ArgReader) -> Mode | None:
    allowed = ", ".join(m.value for m in Mode)
    if not r.has("mode"):
        r.error("mode", None, f"required: one of {allowed}")
        return None
    mode = parse_mode(r.raw("mode"))
    if mode is None:
        r.error("mode", r.raw("mode"), f"must be one of {allowed}")
    return mode


def _until(r: ArgReader, now: datetime, zone: tzinfo) -> float | None:
    """`until`: "07:00" (its next time in HA's time zone; a whole number is minutes after
    midnight) or an ISO date and time (without an offset: HA's time zone); it must lie ahead,
    within MAX_OVERRIDE_S."""
    if not r.has("until"):
        return None
    raw = r.raw("until")
    now_s = now.timestamp()
    until_s: float | None = None
    # An unquoted 7:00 reaches us as 420 (YAML 1.1 reads it in base 60), as in `schedule:`.
    clock = parse_time_of_day(raw) if isinstance(raw, str | int) else None
    if clock is not None:
        today = now.astimezone(zone).date()
        until_s = instant(today, clock, zone)
        if until_s <= now_s:
            until_s = instant(today + timedelta(days=1), clock, zone)
    elif isinstance(raw, str | datetime):
        try:
            moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw.strip())
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            until_s = moment.timestamp()
    if until_s is None:
        r.error("until", raw, 'must be a time "HH:MM" or an ISO date and time')
        return None
    if until_s <= now_s or until_s - now_s > MAX_OVERRIDE_S:
        r.error("until", raw, f"must lie ahead, at most {MAX_OVERRIDE_S / 86400:g} days")
        return None
    return until_s


def _timing(r: ArgReader, command: str, now: datetime, out: dict[str, Any]) -> None:
    """`for_s` (seconds from now) as `until_s`; not both; a boost needs an end."""
    if "for_s" not in COMMAND_FIELDS[command]:
        return
    for_s = r.number("for_s", None, above=0, maximum=MAX_OVERRIDE_S)
    if r.has("for_s") and r.has("until"):
        r.error("for_s", r.raw("for_s"), "give either for_s or until, not both")
        return
    if for_s is not None:
        out["until_s"] = now.timestamp() + for_s
    if command == "boost" and not any(r.has(k) for k in ("energy_kwh", "until", "for_s")):
        r.error("energy_kwh", None, "required: energy_kwh, until or for_s (when the boost ends)")


def _limits(r: ArgReader, settings: CommandTarget | None) -> dict[str, float | None]:
    """`min_a`/`max_a` inside the configured range of a charger; at least one of them."""
    if settings is not None and settings.kind is not LoadKind.EVSE:
        r.error("load", settings.name, "must name a charger: a switched load has no current range")
        settings = None
    low, high = (settings.min_a, settings.max_a) if settings is not None else (0.0, 80.0)
    span = f"the configured range {low:g} .. {high:g} A"
    min_a = _amps(r, "min_a", low, high, span)
    max_a = _amps(r, "max_a", low, high, span)
    if not r.has("min_a") and not r.has("max_a"):
        r.error("max_a", None, "required: min_a and/or max_a (A per phase)")
    if min_a is not None and max_a is not None and min_a > max_a:
        r.error("min_a", min_a, f"must be <= max_a ({max_a:g})")
    return {"min_a": min_a, "max_a": max_a}


def _amps(r: ArgReader, key: str, low: float, high: float, span: str) -> float | None:
    if not r.has(key):
        return None
    value = r.number(key, None)
    if value is not None and not low <= value <= high:
        r.error(key, r.raw(key), f"must lie in {span}")
        return None
    return value
