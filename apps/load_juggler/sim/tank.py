"""A simulated hot water tank: the water's temperature, and the thermostat the app runs on it.

Physics, one fully mixed volume of water (1.163 Wh per litre and kelvin):
- the element's energy warms it: `power_w * dt / (1.163 * volume_l)` kelvin;
- it loses `loss_c_per_h` degrees per hour while warmer than the room (never below `inlet_c`);
- a draw-off of `litres` at `t` replaces that much hot water by cold water at `inlet_c`:
  T = (T * (V - litres) + inlet_c * litres) / V.
The thermostat (`engine.tank_thermostat`) and the learner (`engine.thermal`) are the app's own
classes; they read the temperature rounded to 0.1 C, as a sensor reports it, and the learner
gets the element's true energy. Scenario time 0 is local midnight, so `min_c_by` "17:00" is
t = 61200 s (+ 86400 s per day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ..engine.tank_thermostat import (
    DAY_S,
    HeaterMode,
    TankDecision,
    TankInput,
    TankSettings,
    TankThermostat,
)
from ..engine.thermal import WH_PER_LITRE_K, TankLearner, volume_model


@dataclass(frozen=True)
class DrawOff:
    """`litres` of hot water taken at scenario time `t_s`."""

    t_s: float
    litres: float


@dataclass(frozen=True)
class TankSpec:
    """A scenario's tank: the thermostat's options and how the water behaves."""

    settings: TankSettings
    mode: HeaterMode
    volume_l: float = 200.0
    start_c: float = 45.0
    inlet_c: float = 12.0
    loss_c_per_h: float = 0.25
    draw_offs: tuple[DrawOff, ...] = ()


@dataclass
class SimulatedTank:
    """One tank's water and thermostat over a run, and what the metrics need of it."""

    spec: TankSpec
    temp_c: float = field(init=False)
    energy_wh: float = 0.0
    decision: TankDecision | None = None
    thermostat: TankThermostat = field(init=False)
    learner: TankLearner = field(init=False)
    #: The mode a timeline's `boost` interrupted, to return to when it is done.
    before_boost: HeaterMode = HeaterMode.CONTINUOUS
    _next_draw: int = 0

    def __post_init__(self) -> None:
        #: The scenario's spec last followed (`spec` itself may move on: a boost ends).
        self.source = self.spec
        self.temp_c = self.spec.start_c
        self.thermostat = TankThermostat(self.spec.settings)
        self.learner = TankLearner(volume_model(self.spec.volume_l))

    def follow(self, spec: TankSpec) -> None:
        """A timeline change of the tank's keys: new options, same water and memory. The mode
        changes only when the entry changed it: a change of another key must not restart a
        boost that has ended (the spec still says `boost`)."""
        mode = spec.mode if spec.mode is not self.source.mode else self.spec.mode
        if mode is HeaterMode.BOOST and self.spec.mode is not HeaterMode.BOOST:
            self.before_boost = self.spec.mode
        self.source = spec
        self.spec = replace(spec, mode=mode)
        self.thermostat.settings = spec.settings

    def settle(self, t_s: float, dt_s: float, power_w: float) -> None:
        """The water over [t_s, t_s + dt_s): the element, the loss, then the draw-offs due."""
        spec = self.spec
        capacity_wh_per_k = WH_PER_LITRE_K * spec.volume_l
        energy_wh = max(0.0, power_w) * dt_s / 3600.0
        self.energy_wh += energy_wh
        temp = self.temp_c + energy_wh / capacity_wh_per_k
        if temp > spec.inlet_c:
            temp = max(spec.inlet_c, temp - spec.loss_c_per_h * dt_s / 3600.0)
        draws = spec.draw_offs
        while self._next_draw < len(draws) and draws[self._next_draw].t_s < t_s + dt_s:
            litres = min(spec.volume_l, draws[self._next_draw].litres)
            temp = (temp * (spec.volume_l - litres) + spec.inlet_c * litres) / spec.volume_l
            self._next_draw += 1
        self.temp_c = temp

    def decide(self, t_s: float) -> TankDecision:
        """The thermostat's decision at `t_s` on the sensor's reading (0.1 C)."""
        reading = round(self.temp_c, 1)
        model = self.learner.observe(t_s, reading, self.energy_wh)
        self.decision = self.thermostat.decide(
            TankInput(
                now_s=t_s,
                day_s=t_s % DAY_S,
                temp_c=reading,
                mode=self.spec.mode,
                model=model,
            )
        )
        if self.decision.boost_done and self.spec.mode is HeaterMode.BOOST:
            # As the app does on its mode_select: back to the mode before the boost.
            self.spec = replace(self.spec, mode=self.before_boost)
        return self.decision

    def deadlines_in(self, t_s: float, dt_s: float) -> int:
        """How many `min_c_by` instants fall in [t_s, t_s + dt_s) (0 without a `min_c`)."""
        if self.spec.settings.min_c is None:
            return 0
        by_s = self.spec.settings.min_c_by_s
        count = 0
        day = math.ceil((t_s - by_s) / DAY_S)
        while day * DAY_S + by_s < t_s + dt_s:
            if day * DAY_S + by_s >= t_s:
                count += 1
            day += 1
        return count
