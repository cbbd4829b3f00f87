"""The hub's side of commands from Home Assistant: event in, overrides handed on, answer out.

The hub listens to `load_juggler_command` (`command_schema.py` checks it) and passes it here:
the `CommandDesk` (`commands.py`) changes the overrides, this hands a changed one to its load
app (`LoadApp.set_override`), gives a load with a narrowed range its new engine view, changes
the hub's distribution or resets a charger, and answers with `load_juggler_command_result` and
a log line. Every cycle it counts boost energy from the loads' readings and ends what is due.
A command and a cycle never run at once (`Hub.cycle_lock`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .command_schema import (
    RESULT_EVENT,
    CommandError,
    CommandTarget,
    command_of,
    parse_command,
    target_of,
)
from .commands import CommandDesk, Outcome
from .engine.control_types import Readings
from .loads.base import LoadApp, utc_now
from .loads.schedule import zone_named
from .state_file import StateFile

if TYPE_CHECKING:
    from .hub import Hub


class HubCommands:
    """Commands for hub app `hub`, with their overrides kept in its state file."""

    def __init__(self, hub: Hub, state: StateFile) -> None:
        self._hub = hub
        self.desk = CommandDesk(state)
        self._last_tick_s: float | None = None

    # -- the event

    def on_command(self, event_name: str, data: Any, cb_args: dict[str, Any]) -> None:
        """listen_event callback: check and carry out one command, then answer it."""
        hub = self._hub
        fields = data if isinstance(data, Mapping) else {}
        command, hub_name, request_id = command_of(fields)
        if hub_name is not None and hub_name != hub.name:
            return  # for another hub of this house
        load = fields.get("load")
        try:
            with hub.cycle_lock:
                outcome = self._carry_out(data)
        except CommandError as err:
            self._answer(command, load, request_id, None, str(err))
        except Exception as err:  # a bug must not leave the automation without an answer
            self._answer(command, load, request_id, None, f"{type(err).__name__}: {err}")
        else:
            self._answer(command, load, request_id, outcome.message, None)

    def _carry_out(self, data: Any) -> Outcome:
        hub = self._hub
        if hub.config is None:
            raise CommandError(f"hub '{hub.name}' has configuration errors (see its log)")
        now = utc_now(hub)
        apps = hub.registered_apps()
        targets: dict[str, CommandTarget] = {
            n: target_of(a.settings) for n, a in apps.items() if a.settings is not None
        }
        request = parse_command(data, now, self._zone(), targets)
        outcome = self.desk.carry_out(request, now.timestamp(), targets)
        for name in outcome.loads_changed:
            apps[name].set_override(self.desk.override_of(name))
            if outcome.limits_changed:
                hub.respec(apps[name])
        if outcome.distribution is not None:
            hub.set_distribution(outcome.distribution)
        if outcome.reset is not None:
            _reset_charger(apps[outcome.reset], apps)
        return outcome

    def _zone(self) -> Any:
        try:
            return zone_named(self._hub.get_timezone())
        except Exception:
            return zone_named(None)

    def _answer(
        self,
        command: str | None,
        load: Any,
        request_id: str | None,
        message: str | None,
        error: str | None,
    ) -> None:
        """The command's answer: an HA event, and a log line (WARNING when refused)."""
        hub = self._hub
        if error is None:
            hub.log(f"command {command}: {message}")
        else:
            hub.log(f"command refused: {error}", level="WARNING")
        answer: dict[str, Any] = {
            "command": command,
            "hub": hub.name,
            "load": load,
            "result": "ok" if error is None else "error",
            "reason": message if error is None else error,
        }
        if request_id is not None:
            answer["id"] = request_id
        try:
            hub.fire_event(RESULT_EVENT, **answer)
        except Exception as err:
            hub.log(f"could not fire {RESULT_EVENT}: {err}", level="WARNING")

    # -- every cycle

    def upkeep(
        self, now_s: float, volts: float, readings: Readings, loads: Mapping[str, LoadApp]
    ) -> None:
        """Count boost energy from each load's meter, end overrides that are due, and hand
        the loads whose override changed their new one."""
        hub, desk = self._hub, self.desk
        assert hub.config is not None
        elapsed_s = 0.0 if self._last_tick_s is None else now_s - self._last_tick_s
        self._last_tick_s = now_s
        # A stalled cycle must not count a long gap as drawn at this cycle's current.
        elapsed_s = min(max(elapsed_s, 0.0), 2 * hub.config.period_s)
        delivered: dict[str, float] = {}
        hand: dict[str, float | None] = {}
        for name in desk.names():
            load = loads.get(name)
            if load is None:
                continue
            hand[name] = load.select_changed_s
            reading = readings.loads.get(name)
            draw = reading.draw_a if reading is not None and reading.draw_a else ()
            amps = sum(a for a in draw if a is not None and a > 0)
            delivered[name] = amps * volts * elapsed_s / 3600.0
        lines, changed = desk.upkeep(now_s, delivered, hand)
        for line in lines:
            hub.log(f"override: {line}")
        for name in changed:
            if name in loads:
                loads[name].set_override(desk.override_of(name))


def _reset_charger(target: LoadApp, apps: Mapping[str, LoadApp]) -> None:
    """Clear the charger's profiles, then every connector we drive on it sends ours again at
    once (clear_profile clears them all)."""
    devid = target.ocpp.devid  # type: ignore[attr-defined]
    ok, detail = target.clear_profiles()  # type: ignore[attr-defined]
    if not ok:
        raise CommandError(f"command reset_charger: {detail}")
    for app in apps.values():
        ocpp = getattr(app, "ocpp", None)
        if ocpp is not None and ocpp.devid == devid:
            app.resend()
