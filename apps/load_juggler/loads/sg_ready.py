"""An SG Ready heat pump as a Load Juggler load: two relays, four states (`engine/sg_ready.py`).

The engine sees a switched load of `expected_power_w` in the app's mode; this device turns the
controller's on/off into an SG Ready state each cycle (Recommend on or Force on while on,
Normal or Block while off), holds every state `min_state_s`, and sets the relays to it. The
relays are ours: one that differs from the state in force (switched by hand, a failed call) is
set again in the next cycle. Both relays are read back every cycle; while either is unknown
the load counts as unavailable (nothing is reserved for it and nothing is switched).

The draw is read from `power_sensor` when there is one, else unknown: a heat pump runs in
Normal on its own too, so its draw is never guessed (the grid meter carries it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..config.kinds.sg_ready import SgReadySettings, parse_sg_ready
from ..config.load_config import LoadSettings
from ..engine.control_types import Command, LoadReading
from ..engine.model import Mode
from ..engine.sg_ready import (
    RELAYS,
    SgReadyStates,
    SgState,
    state_of_relays,
    switch_order,
    wanted_state,
)
from .base import LoadApp
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .device_host import DRY_RUN_DETAIL, UNAVAILABLE_STATES
from .entities import sensor_attrs


class SgReadyDevice:
    """Two relay entities (`switch.*` / `input_boolean.*`) and an optional power sensor."""

    def __init__(
        self,
        host: DeviceHost,
        settings: LoadSettings,
        cfg: SgReadySettings,
        mode_of: Callable[[], Mode],
    ) -> None:
        self._host = host
        self._settings = settings
        self._cfg = cfg
        self._mode_of = mode_of
        self._lock = threading.Lock()
        self._states: SgReadyStates | None = None  # from the relays' first reading
        self._relays: tuple[bool, bool] | None = None  # as last read
        self._power_w: float | None = None
        self._reason = ""

    # -- ChecksEntities

    def check_entities(self) -> None:
        for entity in (self._cfg.relay_1, self._cfg.relay_2):
            if not self._host.exists(entity):
                self._host.log(
                    f"relay {entity} not found; the heat pump counts as unavailable until it "
                    "appears",
                    level="WARNING",
                )

    # -- ReadsState

    def _relay(self, entity: str) -> bool | None:
        state = self._host.state(entity)
        text = str(state).lower() if state is not None else ""
        if text in UNAVAILABLE_STATES or text not in ("on", "off"):
            return None
        return text == "on"

    def read(self, ctx: CycleContext) -> LoadReading:
        s = self._settings
        relay_1, relay_2 = self._relay(self._cfg.relay_1), self._relay(self._cfg.relay_2)
        power_w = self._host.power_w(self._cfg.power_sensor, "W")
        with self._lock:
            self._power_w = power_w
            if relay_1 is None or relay_2 is None:
                self._relays = None
                return LoadReading(connected=False, drawing=False, draw_a=None, available=False)
            self._relays = (relay_1, relay_2)
            if self._states is None:  # start from what the relays say, without a hold
                self._states = SgReadyStates(self._cfg.rules, state_of_relays(relay_1, relay_2))
        draw: tuple[float | None, ...] | None = None
        if power_w is not None:
            per_phase = max(0.0, power_w) / (ctx.voltage_v * s.phases)
            draw = tuple(round(per_phase, 3) for _ in range(s.phases))
        with self._lock:
            states = self._states
        running = states.keeps_running(ctx.now_s) if states is not None else None
        return LoadReading(
            connected=True, drawing=True, draw_a=draw, available=True, keeps_running=running
        )

    # -- AppliesCommand

    def apply(self, command: Command, ctx: CycleContext) -> None:
        # Read again: without a hub (the watchdog's safe state) no reading came before this.
        relay_1, relay_2 = self._relay(self._cfg.relay_1), self._relay(self._cfg.relay_2)
        with self._lock:
            states = self._states
            self._relays = None if relay_1 is None or relay_2 is None else (relay_1, relay_2)
            relays = self._relays
        if states is None or relays is None:
            return  # relays unknown: nothing to switch safely
        managed = ctx.site is not None and self._mode_of() is not Mode.OFF
        wanted = wanted_state(self._cfg.rules, bool(command.on), managed, ctx.site)
        state, reason = states.step(ctx.now_s, wanted)
        with self._lock:
            self._reason = reason
        target = RELAYS[state]
        for relay in switch_order(relays, target):
            entity = self._cfg.relay_1 if relay == 1 else self._cfg.relay_2
            want_on = target[relay - 1]
            domain = entity.split(".", 1)[0]
            service = f"{domain}/turn_{'on' if want_on else 'off'}"
            ok, detail = self._host.call(service, entity_id=entity)
            if not ok:
                # The second relay waits: switching it alone could pass through Block.
                self._host.call_failed(f"{service} {entity}", detail)
                return
            self._host.call_ok(service)
            if detail != DRY_RUN_DETAIL:
                self._host.log(f"{entity} turned {'on' if want_on else 'off'}: {reason}")

    # -- PublishesState

    @property
    def sg_state(self) -> SgState | None:
        with self._lock:
            return self._states.state if self._states is not None else None

    def attributes(self) -> dict[str, Any]:
        with self._lock:
            relays = self._relays
            return {
                "sg_state": self._states.state.value if self._states else None,
                "sg_reason": self._reason,
                "relay_1": None if relays is None else ("on" if relays[0] else "off"),
                "relay_2": None if relays is None else ("on" if relays[1] else "off"),
                "power_w": self._power_w,
                "min_state_s": self._cfg.rules.min_state_s,
            }

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        """`sensor.load_juggler_<app>_sg_state`: block, normal, recommend_on or force_on."""
        state = self.sg_state
        return (
            ExtraEntity(
                "sensor",
                "sg_state",
                state.value if state is not None else "unavailable",
                sensor_attrs(f"{self._host.name} SG Ready state", state_class=None),
            ),
        )


class SgReadyLoad(LoadApp):
    """apps.yaml: `relay_1`, `relay_2`, `expected_power_w`; see README "SG Ready heat pump"."""

    KIND = "sg_ready"

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, SgReadyDevice]:
        common, self.sg_cfg = parse_sg_ready(self.name, args)
        return common, SgReadyDevice(self.host, common, self.sg_cfg, lambda: self.mode)
