"""The simulated SG Ready heat pumps and climate boosts (`sim/heat_pumps.py` specs).

Each runs the apps' own decision code (`engine/sg_ready.py`, `engine/climate_boost.py`) on the
controller's command and the cycle's `SiteView`, like the apps do, and draws from the next
cycle on (the one-cycle lag of every simulated device):

- an SG Ready heat pump draws its `state_power_w` of the state in force;
- a climate boost's heat pump is an on/off thermostat on one thermal mass: heating, it starts
  below `setpoint - hysteresis_c` and stops at the setpoint (cooling mirrored), moving
  `cop x heat_pump_w` of heat; the house loses `heat_loss_w_per_k x (indoor - outdoor)`, and
  its temperature changes by the balance over `heat_capacity_wh_per_k`.
"""

from __future__ import annotations

from typing import Any

from ..engine.climate_boost import ClimateBoostLogic, Side
from ..engine.control_types import LoadReading, LoadState, Rest
from ..engine.sg_ready import SgReadyStates, SgState, wanted_state
from ..engine.site_view import SiteView
from .heat_pumps import ClimateSpec, HeatPumpSpec, SgReadySpec


class SgReadyDevice:
    """An SG Ready heat pump: the state in force, when it changed, how long in each."""

    def __init__(self, spec: SgReadySpec) -> None:
        self.spec = spec
        self.states = SgReadyStates(spec.rules)
        self.transitions: list[list[Any]] = []  # [t_s, state] at each change
        self.state_s: dict[str, float] = {s.value: 0.0 for s in SgState}
        self._last_s: float | None = None

    def power_w(self) -> float:
        return self.spec.power_w(self.states.state)

    def rest(self) -> Rest | None:
        return None

    def keeps_running(self, now_s: float) -> str | None:
        return self.states.keeps_running(now_s)

    def apply(
        self, now_s: float, on: bool, managed: bool, view: SiteView | None, spec: HeatPumpSpec
    ) -> None:
        if isinstance(spec, SgReadySpec):
            self.spec = spec
            self.states.rules = spec.rules
        if self._last_s is not None:
            self.state_s[self.states.state.value] += now_s - self._last_s
        self._last_s = now_s
        before = self.states.state
        state, _ = self.states.step(now_s, wanted_state(self.spec.rules, on, managed, view))
        if state is not before:
            self.transitions.append([round(now_s, 3), state.value])

    def metrics(self) -> dict[str, Any]:
        return {
            "state_s": {k: round(v, 3) for k, v in self.state_s.items()},
            "transitions": self.transitions,
        }


class ClimateDevice:
    """A thermostat with a boost on a house of one thermal mass."""

    def __init__(self, spec: ClimateSpec) -> None:
        self.spec = spec
        self.logic = ClimateBoostLogic(spec.rules)
        self.setpoint_c = spec.setpoint_c  # what the thermostat is set to now
        self.user_c = spec.setpoint_c  # the user's last setting, as the scenario gives it
        self.indoor_c = spec.indoor_c
        self.running = False
        self.view: SiteView | None = None
        self.min_c = self.max_c = spec.indoor_c
        self.boost_s = 0.0
        self._last_s: float | None = None

    def power_w(self) -> float:
        return self.spec.heat_pump_w if self.running else 0.0

    def rest(self) -> Rest | None:
        why = self.logic.rest(self.spec.side, self.setpoint_c, self.view)
        return Rest(LoadState.IDLE, why) if why is not None else None

    def keeps_running(self, now_s: float) -> str | None:
        return None

    def _advance(self, now_s: float) -> None:
        """The house over the time since the last cycle, with the heat pump as it was."""
        if self._last_s is None:
            self._last_s = now_s
            return
        dt_h = (now_s - self._last_s) / 3600.0
        if self.logic.boost is not None:
            self.boost_s += now_s - self._last_s
        self._last_s = now_s
        s = self.spec
        moved_w = s.cop * self.power_w() * (1.0 if s.side is Side.HEAT else -1.0)
        loss_w = s.heat_loss_w_per_k * (self.indoor_c - s.outdoor_c)
        self.indoor_c += (moved_w - loss_w) * dt_h / s.heat_capacity_wh_per_k
        self.min_c = min(self.min_c, self.indoor_c)
        self.max_c = max(self.max_c, self.indoor_c)

    def _thermostat(self) -> None:
        s, t, sp = self.spec, self.indoor_c, self.setpoint_c
        if s.side is Side.HEAT:
            if t < sp - s.hysteresis_c:
                self.running = True
            elif t >= sp:
                self.running = False
        elif t > sp + s.hysteresis_c:
            self.running = True
        elif t <= sp:
            self.running = False

    def apply(
        self, now_s: float, on: bool, managed: bool, view: SiteView | None, spec: HeatPumpSpec
    ) -> None:
        self._advance(now_s)
        if isinstance(spec, ClimateSpec):
            if spec.setpoint_c != self.user_c:  # the user set the thermostat
                self.user_c = self.setpoint_c = spec.setpoint_c
            self.spec = spec
            self.logic.rules = spec.rules
        self.view = view
        self.logic.step(now_s, on, self.spec.side, self.setpoint_c)
        if self.logic.pending_c is not None:
            self.setpoint_c = self.logic.pending_c
            self.logic.written()
        self._thermostat()

    def metrics(self) -> dict[str, Any]:
        return {
            "min_c": round(self.min_c, 3),
            "max_c": round(self.max_c, 3),
            "indoor_c": round(self.indoor_c, 3),
            "setpoint_c": self.setpoint_c,
            "boost_s": round(self.boost_s, 3),
        }


HeatPumpDevice = SgReadyDevice | ClimateDevice


def device_for(spec: HeatPumpSpec) -> HeatPumpDevice:
    return SgReadyDevice(spec) if isinstance(spec, SgReadySpec) else ClimateDevice(spec)


def reading(
    device: HeatPumpDevice, draw_a: tuple[float, ...], mode: Any, now_s: float
) -> LoadReading:
    """What the app reports: ready, its metered draw, a rest while no boost is possible, and
    whether it goes on running whatever it is told (an SG Ready state inside its hold)."""
    return LoadReading(
        connected=True,
        drawing=True,
        draw_a=draw_a,
        mode=mode,
        rest=device.rest(),
        keeps_running=device.keeps_running(now_s),
    )


def heat_pump_metrics(devices: dict[str, HeatPumpDevice]) -> dict[str, Any]:
    """`metrics.sg_ready` and `metrics.climate` of `--json`, only for kinds the run has."""
    result: dict[str, dict[str, Any]] = {}
    for load_id, device in sorted(devices.items()):
        kind = "sg_ready" if isinstance(device, SgReadyDevice) else "climate"
        result.setdefault(kind, {})[load_id] = device.metrics()
    return result


def indoor_temps_c(devices: dict[str, HeatPumpDevice]) -> dict[str, float]:
    """The house's indoor temperature of each climate boost now (the plot's temperatures)."""
    return {
        load_id: device.indoor_c
        for load_id, device in devices.items()
        if isinstance(device, ClimateDevice)
    }
