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

from typing import Any

from ..config import LoadSettings, parse_switch
from ..engine.control_types import Command, LoadReading, LoadState, Rest
from .base import UNAVAILABLE_STATES, CycleContext, LoadApp
from .entities import sensor_attrs

#: A switch drawing less than this share of its rated power counts as drawing nothing.
SATISFIED_FRACTION = 0.1


class SwitchLoad(LoadApp):
    """apps.yaml: `switch: switch.x` (or input_boolean.x), `power_w`, optional `power_sensor`."""

    KIND = "switch"

    def parse_args(self, args: dict[str, Any]) -> LoadSettings:
        common, self.switch_cfg = parse_switch(self.name, args)
        self._sent_on: bool | None = None  # last state we switched to successfully
        self._actual: str | None = None
        self._power_w: float | None = None
        self._low_since_s: float | None = None  # on and below SATISFIED_FRACTION since then
        return common

    def setup_device(self) -> None:
        try:
            exists = bool(self.entity_exists(self.switch_cfg.switch))
        except Exception:
            exists = False
        if not exists:
            self.log(
                f"switch {self.switch_cfg.switch} not found; the load counts as unavailable until "
                "it appears",
                level="WARNING",
            )

    def read_device(self, ctx: CycleContext) -> LoadReading:
        s = self.settings
        assert s is not None
        state = self._state(self.switch_cfg.switch)
        actual = None if state is None or str(state).lower() in UNAVAILABLE_STATES else str(state)
        power_w = self._read_power_w()
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
        rated_w = float(self.settings.power_w or 0.0) if self.settings else 0.0
        threshold_w = SATISFIED_FRACTION * rated_w
        if (
            self.switch_cfg.power_sensor is None
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
        if low_for_s < self.switch_cfg.idle_timeout_s:
            return None
        return Rest(
            LoadState.SATISFIED,
            f"on, draws {max(0.0, power_w):.0f} W (< {threshold_w:.0f} W, "
            f"{SATISFIED_FRACTION:.0%} of {rated_w:.0f} W) for {low_for_s:.0f} s: "
            "nothing reserved until it draws again",
        )

    def _read_power_w(self) -> float | None:
        """The power sensor in W (W when it declares no unit; kW and MW converted)."""
        return self.read_power_w(self.switch_cfg.power_sensor, "W")

    def apply_device(self, command: Command, ctx: CycleContext) -> None:
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
        entity = self.switch_cfg.switch
        domain = entity.split(".", 1)[0]
        service = f"{domain}/turn_{'on' if want_on else 'off'}"
        ok, detail = self.call_device(service, entity_id=entity)
        if ok:
            with self._lock:
                self._sent_on = want_on
            self.service_ok(service)
            self.log(f"{entity} turned {'on' if want_on else 'off'} ({command.reason})")
        else:
            self.service_failed(f"{service} {entity}", detail)

    def device_attributes(self) -> dict[str, Any]:
        with self._lock:
            return {
                "switch": self.switch_cfg.switch,
                "actual": self._actual,
                "power_w": self._power_w,
                "switched_on": self._sent_on,
                "idle_timeout_s": self.switch_cfg.idle_timeout_s,
            }

    def _apply(self, command: Command, ctx: CycleContext, state: str | None = None) -> None:
        super()._apply(command, ctx, state)
        self._publisher.publish(
            self.entity("binary_sensor", "allocated"),
            "on" if command.on else "off",
            sensor_attrs(f"{self.name} allocated", device_class="power", state_class=None),
            ctx.now_s,
        )
