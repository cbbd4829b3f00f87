"""A load app's tie to its hub: registration, and whether the hub still sends commands.

The hub cannot find its loads at start (they start after it), so each load registers itself,
and checks every REGISTER_CHECK_S that the hub still knows it (hub started late, reloaded or
restarted). The hub's commands also say it is alive: a load left without one for the hub's
stale timeout puts its device in the safe state on its own (`LoadApp._watchdog`).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .capabilities import DEFAULT_STALE_TIMEOUT_S, CycleContext

if TYPE_CHECKING:
    from .base import LoadApp

#: How often a load checks that its hub knows it (hub started late, reloaded or restarted).
REGISTER_CHECK_S = 10


class HubLink:
    """Registration with hub app `load.settings.hub`, and when its last command came."""

    def __init__(self, load: LoadApp, hub_name: str, now_s: float) -> None:
        self._load = load
        self.hub_name = hub_name
        self._lock = threading.Lock()
        self._hub: Any = None
        #: What registration found out (not running, refused...); None while registered.
        self.note: str | None = None
        self._last_ctx: CycleContext | None = None
        self._last_command_s = now_s
        self._on_own = False

    # -- registration

    def ensure_registered(self) -> None:
        """Register with the hub app, or re-register after the hub was (re)started."""
        load = self._load
        hub: Any = None
        try:
            hub = load.get_app(self.hub_name)
        except Exception:
            hub = None
        if hub is None or not hasattr(hub, "register_load"):
            note = (
                f"hub app '{self.hub_name}' is not running (yet); waiting for it. "
                f"Add 'dependencies: [{self.hub_name}]' to this app to start it after the hub"
                if hub is None
                else f"app '{self.hub_name}' is not a Load Juggler hub (key 'hub')"
            )
            if note != self.note:
                self.note = note
                load.log(note, level="WARNING")
                load.publish_state("waiting_for_hub", note)
            with self._lock:
                self._hub = None
            return
        with self._lock:
            known = self._hub
        if known is hub and hub.is_registered(load):
            return
        accepted, reason = hub.register_load(load)
        if accepted:
            with self._lock:
                self._hub = hub
            self.note = None
            load.log(f"registered with hub '{self.hub_name}' ({self._describe()})")
        elif reason != self.note:
            self.note = reason
            load.log(f"hub '{self.hub_name}' refused this load: {reason}", level="ERROR")
            load.publish_state("error", reason)

    def _describe(self) -> str:
        load = self._load
        s = load.settings
        assert s is not None
        circuit = f", circuit {s.circuit}" if s.circuit else ""
        return (
            f"{load.KIND}, mode {load.mode.value}, priority {s.priority}, "
            f"{s.phases} phase(s) on {'/'.join(s.phase_map)}{circuit}"
        )

    def hub_state(self) -> Any:
        """The registered hub's state file (`StateFile`: learned state that must survive a
        restart); None while no hub has accepted this load."""
        with self._lock:
            hub = self._hub
        return getattr(hub, "state", None) if hub is not None else None

    def unregister(self) -> None:
        """Leave the hub (this app stops); a hub that is gone already is fine."""
        with self._lock:
            hub = self._hub
        if hub is None:
            return
        try:
            hub.unregister_load(self._load)
        except Exception as err:  # the hub may be gone already
            self._load.log(f"could not unregister from hub: {err}", level="DEBUG")

    # -- commands, or their absence

    def command_came(self, ctx: CycleContext) -> bool:
        """Note a command from the hub; True when it ends a spell on our own."""
        with self._lock:
            self._last_ctx = ctx
            self._last_command_s = ctx.now_s
            resumed, self._on_own = self._on_own, False
        return resumed

    def silence(self, now: datetime) -> tuple[CycleContext, float, bool]:
        """(context for acting alone now, when the last command came, on our own already).

        The context carries the last cycle's voltage, republish interval and stale timeout
        (defaults before the first command).
        """
        with self._lock:
            last_ctx, last_s, on_own = self._last_ctx, self._last_command_s, self._on_own
        ctx = CycleContext(
            now_s=now.timestamp(),
            now_utc=now,
            voltage_v=last_ctx.voltage_v if last_ctx else 230.0,
            republish_s=last_ctx.republish_s if last_ctx else 60.0,
            stale_timeout_s=last_ctx.stale_timeout_s if last_ctx else DEFAULT_STALE_TIMEOUT_S,
        )
        return ctx, last_s, on_own

    def spoke_since(self, last_s: float) -> bool:
        """True when a command came after the one at `last_s`."""
        with self._lock:
            return self._last_command_s != last_s

    def silence_reason(self, silent_s: float, timeout_s: float) -> str:
        reason = (
            f"no command from hub '{self.hub_name}' for {silent_s:.0f} s "
            f"(limit {timeout_s:g} s): hub stopped, reloading or misconfigured"
        )
        if self.note:  # what registration found out: not running, refused...
            reason = f"{reason}; {self.note}"
        return reason

    def go_alone(self) -> None:
        with self._lock:
            self._on_own = True

    @property
    def on_own(self) -> bool:
        with self._lock:
            return self._on_own
