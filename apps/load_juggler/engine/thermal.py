"""A hot water tank's thermal model: how fast it heats, how fast it cools, and when to start.

Two numbers describe the tank well enough to plan a day: the heating rate (degrees per kWh put
in) and the standing loss (degrees per hour lost while idle). Both start from the volume (water
holds 1.163 Wh per litre and kelvin) and are then learned from what the tank really does, so an
element that scales up, a sensor high in the tank or poor insulation end up in the numbers.

Learning must not take a shower for a loss: a draw-off lets cold water in and the sensor drops
by degrees within minutes, far faster than any standing loss. Such a drop throws away the
observation window it falls in; only quiet windows teach the model.

The planner answers "when must the element start at its rated power so the tank is at `goal_c`
by the deadline?", counting the loss while it waits and while it heats. Pure: no AppDaemon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

#: Energy to warm one litre of water by one kelvin.
WH_PER_LITRE_K = 1.163
#: Standing loss of a 200 l tank before anything is learned (a typical 1.4 kWh a day), scaled
#: with the tank's surface (volume ** 2/3) for other sizes.
REFERENCE_LOSS_W = 60.0
REFERENCE_VOLUME_L = 200.0
#: A fall faster than this (degrees per hour, beyond the expected loss) is a draw-off.
DRAW_OFF_RATE_C_PER_H = 3.0
#: ... and at least this deep, so sensor noise (0.1..0.5 C steps) is not one.
DRAW_OFF_DROP_C = 0.8
#: A heating window teaches the heating rate once it holds this much energy and this much rise.
HEAT_WINDOW_WH = 500.0
HEAT_WINDOW_RISE_C = 2.0
#: An idle window teaches the loss once it is this long.
IDLE_WINDOW_S = 3 * 3600.0
#: Weight of one new window in the learned value (exponential average).
LEARN_WEIGHT = 0.25
#: Learned values stay within this factor of the volume's figure (a broken sensor cannot
#: teach the planner that the tank heats in a minute or never cools).
LEARN_BOUND = 3.0
#: The planner heats as if the element were this much slower than learned, and starts this
#: much earlier again: a late tank is worse than some grid energy used early.
PLAN_RATE_FACTOR = 0.9
PLAN_MARGIN_S = 900.0


@dataclass(frozen=True)
class TankModel:
    """Heating rate (C per kWh of element energy) and standing loss (C per hour)."""

    heat_c_per_kwh: float
    loss_c_per_h: float
    #: Windows learned so far (0: the volume's figures).
    heat_samples: int = 0
    loss_samples: int = 0

    def heating_c_per_h(self, power_w: float) -> float:
        """Net rise per hour at `power_w`: what the element adds minus what the tank loses."""
        return power_w / 1000.0 * self.heat_c_per_kwh - self.loss_c_per_h

    def energy_wh(self, from_c: float, to_c: float) -> float:
        """Element energy to raise the tank from `from_c` to `to_c` (0 when already there)."""
        return max(0.0, to_c - from_c) / self.heat_c_per_kwh * 1000.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "heat_c_per_kwh": round(self.heat_c_per_kwh, 5),
            "loss_c_per_h": round(self.loss_c_per_h, 5),
            "heat_samples": self.heat_samples,
            "loss_samples": self.loss_samples,
        }


def volume_model(volume_l: float) -> TankModel:
    """The model a tank of `volume_l` litres starts with, before anything is learned."""
    capacity_wh_per_k = WH_PER_LITRE_K * volume_l
    loss_w = REFERENCE_LOSS_W * (volume_l / REFERENCE_VOLUME_L) ** (2.0 / 3.0)
    return TankModel(
        heat_c_per_kwh=1000.0 / capacity_wh_per_k, loss_c_per_h=loss_w / capacity_wh_per_k
    )


def model_from_dict(data: object, start: TankModel) -> TankModel:
    """A model kept in the state file, or `start` when it is missing or not plausible."""
    if not isinstance(data, dict):
        return start
    try:
        heat = float(data["heat_c_per_kwh"])
        loss = float(data["loss_c_per_h"])
        heat_n = int(data.get("heat_samples", 0))
        loss_n = int(data.get("loss_samples", 0))
    except (KeyError, TypeError, ValueError):
        return start
    if not (_within(heat, start.heat_c_per_kwh) and _within(loss, start.loss_c_per_h)):
        return start
    return TankModel(heat, loss, max(0, heat_n), max(0, loss_n))


def _within(value: float, reference: float) -> bool:
    return (
        math.isfinite(value)
        and value > 0
        and reference / LEARN_BOUND <= value <= reference * LEARN_BOUND
    )


def _bounded(value: float, reference: float) -> float:
    return min(reference * LEARN_BOUND, max(reference / LEARN_BOUND, value))


@dataclass(frozen=True)
class _Window:
    """Where an observation window started: time, temperature, element energy counter."""

    t_s: float
    temp_c: float
    energy_wh: float


class TankLearner:
    """Learns a `TankModel` online from (time, temperature, element energy counter) samples.

    A window opens at a sample and closes when it can teach something: an idle window (no
    energy) after `IDLE_WINDOW_S` teaches the loss, a heating window after `HEAT_WINDOW_WH` and
    `HEAT_WINDOW_RISE_C` the heating rate (net of the loss over its length). A window that
    mixes idle and heating is dropped at the switch-over; a draw-off drops it too. A heating
    window in which the tank did not rise (its own thermostat cut the element) is dropped.
    """

    def __init__(self, start: TankModel, reference: TankModel | None = None) -> None:
        self.model = start
        self._reference = reference or start
        self._window: _Window | None = None
        self._last: _Window | None = None
        self._heating: bool | None = None
        #: Why the last window was dropped or what it taught (for the published attributes).
        self.note = "learning: no window yet"

    def observe(self, t_s: float, temp_c: float, energy_wh: float) -> TankModel:
        """One sample; returns the (possibly updated) model."""
        sample = _Window(t_s, temp_c, energy_wh)
        last = self._last
        self._last = sample
        if last is None or t_s <= last.t_s or energy_wh < last.energy_wh:
            self._open(sample, None)
            return self.model
        heating = energy_wh - last.energy_wh > 1e-6
        if self._draw_off(last, sample):
            self.note = (
                f"draw-off at {temp_c:.1f} C (fell {last.temp_c - temp_c:.1f} C): window dropped"
            )
            self._open(sample, heating)
            return self.model
        if self._window is None or heating != self._heating:
            self._open(last if heating else sample, heating)
            return self.model
        self._close_if_ready(sample)
        return self.model

    def forget(self) -> None:
        """A gap in the samples (no temperature or no power): nothing is learned across it."""
        self._last = None
        self._window = None
        self._heating = None

    def _open(self, at: _Window, heating: bool | None) -> None:
        self._window = at
        self._heating = heating

    def _draw_off(self, last: _Window, now: _Window) -> bool:
        hours = (now.t_s - last.t_s) / 3600.0
        drop_c = last.temp_c - now.temp_c - self.model.loss_c_per_h * hours
        return drop_c >= DRAW_OFF_DROP_C and drop_c / max(hours, 1e-9) >= DRAW_OFF_RATE_C_PER_H

    def _close_if_ready(self, now: _Window) -> None:
        start = self._window
        assert start is not None
        hours = (now.t_s - start.t_s) / 3600.0
        rise_c = now.temp_c - start.temp_c
        model, ref = self.model, self._reference
        if self._heating:
            energy_wh = now.energy_wh - start.energy_wh
            if energy_wh < HEAT_WINDOW_WH:
                return
            if rise_c < HEAT_WINDOW_RISE_C:
                if rise_c < 0.25 * energy_wh / 1000.0 * model.heat_c_per_kwh:
                    self.note = "heating window without a rise (tank thermostat cut?): dropped"
                    self._open(now, True)
                return
            seen = (rise_c + model.loss_c_per_h * hours) / (energy_wh / 1000.0)
            heat = _bounded(
                (1 - LEARN_WEIGHT) * model.heat_c_per_kwh + LEARN_WEIGHT * seen,
                ref.heat_c_per_kwh,
            )
            self.model = replace(model, heat_c_per_kwh=heat, heat_samples=model.heat_samples + 1)
            self.note = f"heating window: {seen:.4f} C/kWh seen, model {heat:.4f}"
        else:
            if now.t_s - start.t_s < IDLE_WINDOW_S:
                return
            seen = max(0.0, -rise_c) / hours
            loss = _bounded(
                (1 - LEARN_WEIGHT) * model.loss_c_per_h + LEARN_WEIGHT * seen, ref.loss_c_per_h
            )
            self.model = replace(model, loss_c_per_h=loss, loss_samples=model.loss_samples + 1)
            self.note = f"idle window: {seen:.3f} C/h seen, model {loss:.3f}"
        self._open(now, self._heating)


def latest_start_s(
    now_s: float,
    deadline_s: float,
    temp_c: float,
    goal_c: float,
    power_w: float,
    model: TankModel,
) -> float | None:
    """The latest time at which heating at `power_w` still brings the tank to `goal_c` by
    `deadline_s` (with the planner's margins); None when no start is needed before then.

    Waiting w hours costs `loss * w` degrees; heating then rises at the net rate r (planned at
    `PLAN_RATE_FACTOR` of the element's share). Reaching the goal at the deadline D hours away:
    w + (goal - temp + loss * w) / r = D, so w = (D * r - (goal - temp)) / (r + loss).
    A start in the past (or an element too weak to ever get there) returns `now_s`: heat now.
    """
    hours_left = (deadline_s - now_s) / 3600.0
    loss = model.loss_c_per_h
    if temp_c - loss * max(0.0, hours_left) >= goal_c:
        return None
    rate = PLAN_RATE_FACTOR * power_w / 1000.0 * model.heat_c_per_kwh - loss
    if rate <= 0:
        return now_s
    wait_h = (hours_left * rate - (goal_c - temp_c)) / (rate + loss)
    start_s = now_s + wait_h * 3600.0 - PLAN_MARGIN_S
    return max(now_s, start_s)
