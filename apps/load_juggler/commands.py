"""The hub's live overrides: what commands from Home Assistant set, kept across restarts.

`CommandDesk` turns a checked command (`command_schema.CommandRequest`) into the overrides of a
load (`loads/overrides.LoadOverride`) or of the hub (its `distribution`), ends them when their
time is up, counts a boost's energy from the load's own meter, and keeps all of it in the hub's
state file (section "overrides"), so an AppDaemon restart resumes a boost or a timed mode where
it was. The hub hands each load its override (`LoadApp.set_override`) and answers the command.

Safety: no override carries amps. A mode or a boost only changes what the engine is asked for
and a current range can only narrow the configured one, so the breakers, circuits and import
cap bound every load exactly as before. Pure: no AppDaemon import.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .command_schema import CommandError, CommandRequest, CommandTarget
from .engine.model import Strategy
from .loads.overrides import LoadOverride
from .state_file import StateFile

#: The hub state file's section for overrides.
STATE_SECTION = "overrides"
#: A boost's delivered energy is saved when it grew by this much (not every cycle).
SAVE_STEP_WH = 100.0


@dataclass(frozen=True)
class Outcome:
    """What a command did: the answer line, and what the hub must pass on."""

    message: str
    loads_changed: tuple[str, ...] = ()
    limits_changed: bool = False
    distribution: Strategy | None = None
    reset: str | None = None


class CommandDesk:
    """The overrides of one hub's loads and of the hub, behind a lock (event vs cycle)."""

    def __init__(self, state: StateFile) -> None:
        self._state = state
        self._lock = threading.Lock()
        saved = state.get(STATE_SECTION)
        loads = saved.get("loads") if isinstance(saved.get("loads"), dict) else {}
        self._loads: dict[str, LoadOverride] = {}
        for name, data in (loads or {}).items():
            override = LoadOverride.from_json(data)
            if override is not None and not override.empty:
                self._loads[str(name)] = override
        hub = saved.get("hub") if isinstance(saved.get("hub"), dict) else {}
        self._distribution: Strategy | None = None
        try:
            raw = (hub or {}).get("distribution")
            self._distribution = Strategy(raw) if raw is not None else None
        except ValueError:
            self._distribution = None
        self._saved_wh: dict[str, float] = {n: o.boost_delivered_wh for n, o in self._loads.items()}

    # -- reading

    def override_of(self, name: str) -> LoadOverride | None:
        with self._lock:
            return self._loads.get(name)

    @property
    def distribution(self) -> Strategy | None:
        """The distribution a set_distribution command chose (None: the configured one)."""
        with self._lock:
            return self._distribution

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._loads)

    # -- commands

    def carry_out(
        self, request: CommandRequest, now_s: float, loads: Mapping[str, CommandTarget]
    ) -> Outcome:
        """Apply one checked command; raises CommandError when it cannot be carried out."""
        command, name = request.command, request.load
        if command == "set_distribution":
            assert request.distribution is not None
            with self._lock:
                self._distribution = request.distribution
            self._save()
            return Outcome(
                f"distribution -> {request.distribution.value}",
                distribution=request.distribution,
            )
        assert name is not None
        if command == "reset_charger":
            return Outcome(f"{name}: profiles cleared and sent again", reset=name)
        with self._lock:
            old = self._loads.get(name) or LoadOverride()
        new, message = _changed(old, request, now_s, loads[name])
        with self._lock:
            if new.empty:
                self._loads.pop(name, None)
            else:
                self._loads[name] = new
            self._saved_wh[name] = new.boost_delivered_wh
        self._save()
        limits = (old.min_a, old.max_a) != (new.min_a, new.max_a)
        return Outcome(f"{name}: {message}", loads_changed=(name,), limits_changed=limits)

    # -- every cycle

    def upkeep(
        self,
        now_s: float,
        delivered_wh: Mapping[str, float],
        hand_changed_s: Mapping[str, float | None],
    ) -> tuple[list[str], list[str]]:
        """Count boost energy, end what is due; (log lines, names whose override changed).

        `delivered_wh`: each load's energy since the last cycle; `hand_changed_s`: when each
        load's mode select was last changed by hand, which ends a set_mode override that came
        before it.
        """
        lines: list[str] = []
        changed: list[str] = []
        save = False
        with self._lock:
            for name, override in list(self._loads.items()):
                current = override
                if current.boosting and delivered_wh.get(name, 0.0) > 0:
                    current = replace(
                        current,
                        boost_delivered_wh=current.boost_delivered_wh + delivered_wh[name],
                    )
                hand_s = hand_changed_s.get(name)
                if (
                    current.mode is not None
                    and hand_s is not None
                    and hand_s > current.mode_since_s
                ):
                    lines.append(
                        f"{name}: set_mode {current.mode.value} ended: the mode select was "
                        "changed by hand"
                    )
                    current = current.without_mode()
                current, ended = current.expired(now_s)
                lines.extend(f"{name}: {line}" for line in ended)
                if current == override:
                    continue
                changed.append(name)
                if current.empty:
                    del self._loads[name]
                else:
                    self._loads[name] = current
                grown = current.boost_delivered_wh - self._saved_wh.get(name, 0.0)
                only_energy = replace(current, boost_delivered_wh=override.boost_delivered_wh)
                if only_energy != override or current.empty or grown >= SAVE_STEP_WH:
                    save = True
                    self._saved_wh[name] = current.boost_delivered_wh
        if save:
            self._save()
        return lines, changed

    def _save(self) -> None:
        with self._lock:
            loads = {name: o.to_json() for name, o in sorted(self._loads.items())}
            hub = {"distribution": self._distribution.value} if self._distribution else {}
        section: dict[str, Any] = {}
        if loads:
            section["loads"] = loads
        if hub:
            section["hub"] = hub
        self._state.put(STATE_SECTION, section)


def _changed(
    old: LoadOverride, request: CommandRequest, now_s: float, settings: CommandTarget
) -> tuple[LoadOverride, str]:
    """The override after `request`, and the answer's words."""
    command = request.command
    until = "" if request.until_s is None else " until " + _clock(request.until_s)
    if command == "set_mode":
        assert request.mode is not None
        new = replace(old, mode=request.mode, mode_since_s=now_s, mode_until_s=request.until_s)
        return new, f"mode {request.mode.value}{until or ' until changed'}"
    if command == "boost":
        new = replace(
            old.without_boost(),
            boost_since_s=now_s,
            boost_energy_wh=request.energy_wh,
            boost_until_s=request.until_s,
        )
        energy = "" if request.energy_wh is None else f" for {request.energy_wh / 1000:g} kWh"
        return new, f"boost: continuous{energy}{until}"
    if command == "pause":
        if old.paused:
            return old, "already paused"
        return replace(old, paused_since_s=now_s), "paused until resume"
    if command == "resume":
        if not old.paused:
            raise CommandError(f"command resume: load '{settings.name}' is not paused")
        return replace(old, paused_since_s=None), "resumed"
    if command == "set_current_limits":
        return _limits(old, request, settings)
    raise CommandError(f"command {command}: not a load override")


def _limits(
    old: LoadOverride, request: CommandRequest, settings: CommandTarget
) -> tuple[LoadOverride, str]:
    """A limit equal to the configured one is no override; the range must stay non-empty."""
    min_a = old.min_a if request.min_a is None else request.min_a
    max_a = old.max_a if request.max_a is None else request.max_a
    low = settings.min_a if min_a is None else min_a
    high = settings.max_a if max_a is None else max_a
    if low > high:
        key = "min_a" if request.min_a is not None else "max_a"
        value = request.min_a if request.min_a is not None else request.max_a
        raise CommandError(
            f"command set_current_limits: key '{key}' = {value!r} is invalid: the range would "
            f"be {low:g} .. {high:g} A (min above max)"
        )
    new = replace(
        old,
        min_a=None if min_a is None or min_a == settings.min_a else min_a,
        max_a=None if max_a is None or max_a == settings.max_a else max_a,
    )
    return new, f"current range {low:g} .. {high:g} A"


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0).isoformat()
