"""A switched load (smart plug, relay, boiler element) as a Load Juggler load.

On or off at its rated power. The switch is only operated when the decision changes (the
controller's min on/off times keep that rare); a manual toggle stays until the next decision
change. The actual on/off state and the optional power sensor are read back every cycle.

A switch that is on but draws under `SATISFIED_FRACTION` of its rating for `idle_timeout_s`
(a boiler whose thermostat is satisfied) is reported `satisfied`: the controller releases its
reservation and keeps it switched on. It draws again -> the rest ends the same cycle and it is
reserved again. Without a power sensor nothing of this applies: the draw is unknown.
"""

from __future__ import annotations

import threading
from typing import Any

from ..config import LoadSettings, SwitchSettings, parse_switch
from ..engine.control_types import Command, LoadReading, LoadState, Rest
from .base import LoadApp
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .device_host import DRY_RUN_DETAIL, UNAVAILABLE_STATES
from .entities import sensor_attrs

#: A switch drawing less than this share of its rated power counts as drawing nothing.
SATISFIED_FRACTION = 0.1


class SwitchDevice:
    """A switch entity (`switch.*`, `input_boolean.*`) and its optional power sensor."""

    def __init__(self, host: DeviceHost, settings: LoadSettings, cfg: SwitchSettings) -> None:
        self._host = host
        self._settings = settings
        self._cfg = cfg
        self._lock = threading.Lock()
        self._sent_on: bool | None = None  # last state we switched to successfully
        self._actual: str | None = None
        self._power_w: float | None = None
        self._low_since_s: float | None = None  # on and below SATISFIED_FRACTION since then

    # -- ChecksEntities

    def check_entities(self) -> None:
        if not self._host.exists(self._cfg.switch):
            self._host.log(
                f"switch {self._cfg.switch} not found; the load counts as unavailable until "
                "it appears",
                level="WARNING",
            )

    # -- ReadsState

    def read(self, ctx: CycleContext) -> LoadReading:
        s = self._settings
        state = self._host.state(self._cfg.switch)
        actual = None if state is None or str(state).lower() in UNAVAILABLE_STATES else str(state)
        power_w = self._host.power_w(self._cfg.power_sensor, "W")
        with self._lock:
            self._actual = actual
            self._power_w = power_w
        if actual is None:
            self._low_since_s = None
            return LoadReading(connected=False, drawing=False, draw_a=None, available=False)
        draw: tuple[float | None, ...] | None = None
        if power_w is not None:
            per_phase = max(0.0, power_w) / (ctx.voltage_v * s.phases)
            draw = tuple(round(per_phase, 3) for _ in range(s.phases))
        # Without a power sensor the draw is unknown (None), not guessed: a boiler at temperature
        # draws nothing while on, and a guessed draw would hide real house load.
        rest = self._satisfied(actual, power_w, ctx.now_s)
        return LoadReading(connected=True, drawing=True, draw_a=draw, available=True, rest=rest)

    def _satisfied(self, actual: str, power_w: float | None, now_s: float) -> Rest | None:
        """`satisfied` once on and below SATISFIED_FRACTION of the rating for idle_timeout_s.

        An unknown power says nothing, so it ends the low spell: releasing a reservation on a
        missing reading would let other loads take current this one may be drawing.
        """
        rated_w = float(self._settings.power_w or 0.0)
        threshold_w = SATISFIED_FRACTION * rated_w
        if (
            self._cfg.power_sensor is None
            or actual.lower() != "on"
            or power_w is None
            or rated_w <= 0.0
            or power_w >= threshold_w
        ):
            self._low_since_s = None
            return None
        if self._low_since_s is None:
            self._low_since_s = now_s
        low_for_s = now_s - self._low_since_s
        if low_for_s < self._cfg.idle_timeout_s:
            return None
        return Rest(
            LoadState.SATISFIED,
            f"on, draws {max(0.0, power_w):.0f} W (< {threshold_w:.0f} W, "
            f"{SATISFIED_FRACTION:.0%} of {rated_w:.0f} W) for {low_for_s:.0f} s: "
            "nothing reserved until it draws again",
        )

    # -- AppliesCommand

    def apply(self, command: Command, ctx: CycleContext) -> None:
        want_on = bool(command.on)
        with self._lock:
            sent = self._sent_on
            actual = self._actual
        if sent is None and actual in ("on", "off") and (actual == "on") == want_on:
            with self._lock:
                self._sent_on = want_on  # already as decided at start: nothing to switch
            return
        if sent == want_on:
            return
        entity = self._cfg.switch
        domain = entity.split(".", 1)[0]
        service = f"{domain}/turn_{'on' if want_on else 'off'}"
        ok, detail = self._host.call(service, entity_id=entity)
        if ok:
            with self._lock:
                self._sent_on = want_on
            self._host.call_ok(service)
            if detail != DRY_RUN_DETAIL:  # a dry run logs what it kept back itself
                self._host.log(f"{entity} turned {'on' if want_on else 'off'} ({command.reason})")
        else:
            self._host.call_failed(f"{service} {entity}", detail)

    # -- PublishesState

    def attributes(self) -> dict[str, Any]:
        with self._lock:
            return {
                "switch": self._cfg.switch,
                "actual": self._actual,
                "power_w": self._power_w,
                "switched_on": self._sent_on,
                "idle_timeout_s": self._cfg.idle_timeout_s,
            }

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        """`binary_sensor.load_juggler_<app>_allocated`: whether the hub wants it on."""
        return (
            ExtraEntity(
                "binary_sensor",
                "allocated",
                "on" if command.on else "off",
                sensor_attrs(
                    f"{self._host.name} allocated", device_class="power", state_class=None
                ),
            ),
        )


class SwitchLoad(LoadApp):
    """apps.yaml: `switch: switch.x` (or input_boolean.x), `power_w`, optional `power_sensor`."""

    KIND = "switch"

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, SwitchDevice]:
        common, self.switch_cfg = parse_switch(self.name, args)
        self.goals = self.goal_reader(self.switch_cfg.goal)
        return common, SwitchDevice(self.host, common, self.switch_cfg)
