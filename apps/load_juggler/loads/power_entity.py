"""The limits a `number.*` / `input_number.*` entity declares, checked against a PowerLoad's
configuration, and the entity value a power becomes on the entity's own step grid.

HA refuses a `set_value` outside the entity's `min`/`max`, so a configuration that asks for
more than the entity allows would fail every cycle, and one whose off (the value 0) is below
the entity's `min` could never be turned off. Both are refused with one line naming the
entity, the attribute, its value and the key that contradicts it; the load counts as
unavailable (0 W) until the entity or the configuration is fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.kinds.power import PowerSettings
from ..engine.smoothing import finite_or_none

#: Relative slack when comparing a configured value with an entity limit (float noise).
LIMIT_EPS = 1e-6


@dataclass(frozen=True)
class EntityLimits:
    """`min`, `max` and `step` of a number entity, in its own unit; None when not declared."""

    min: float | None
    max: float | None
    step: float | None

    @classmethod
    def of(cls, attributes: Mapping[str, Any] | None) -> EntityLimits:
        attrs = attributes or {}
        step = finite_or_none(attrs.get("step"))
        return cls(
            min=finite_or_none(attrs.get("min")),
            max=finite_or_none(attrs.get("max")),
            step=step if step is not None and step > 0 else None,
        )


def _unit_text(cfg: PowerSettings) -> str:
    return f"% of {cfg.max_power_w:g} W" if cfg.unit == "%" else cfg.unit


def limits_problem(
    entity_limits: EntityLimits, cfg: PowerSettings, voltage_v: float, phases: int
) -> str | None:
    """Why the entity cannot do what the configuration asks (None when it can)."""
    lim = entity_limits
    unit = _unit_text(cfg)
    high = cfg.to_entity(cfg.max_power_w, voltage_v, phases)
    if lim.max is not None and high > lim.max * (1 + LIMIT_EPS) + LIMIT_EPS:
        return (
            f"{cfg.entity} allows at most {lim.max:g} {unit} (its max attribute), but "
            f"max_power_w {cfg.max_power_w:g} W needs {high:g} {unit}: lower max_power_w or "
            "raise the entity's max"
        )
    low = cfg.to_entity(cfg.min_power_w, voltage_v, phases)
    if lim.min is not None and low < lim.min * (1 - LIMIT_EPS) - LIMIT_EPS:
        return (
            f"{cfg.entity} allows at least {lim.min:g} {unit} (its min attribute), but "
            f"min_power_w {cfg.min_power_w:g} W is {low:g} {unit}: raise min_power_w to at "
            "least that"
        )
    if cfg.enable_switch is None and lim.min is not None and lim.min > 0:
        return (
            f"{cfg.entity} allows at least {lim.min:g} {unit} (its min attribute), so the "
            "value 0 that turns the load off without an enable_switch is refused: add "
            "enable_switch or let the entity go down to 0"
        )
    if lim.step is not None and cfg.unit != "A":
        # In A the grid of watts moves with the voltage: the value is floored to the entity's
        # step when written instead (`entity_value`).
        steps = cfg.to_entity(cfg.step_w, voltage_v, phases) / lim.step
        if round(steps) < 1 or abs(steps - round(steps)) > 1e-6:
            return (
                f"{cfg.entity} moves in steps of {lim.step:g} {unit} (its step attribute), "
                f"but step_w {cfg.step_w:g} W is {steps * lim.step:g} {unit}: make step_w a "
                "whole multiple of the entity's step"
            )
    return None


def entity_value(power_w: float, cfg: PowerSettings, lim: EntityLimits, v: float, ph: int) -> float:
    """The entity's value for `power_w`, rounded DOWN onto the entity's step grid (counted
    from its min) and never above its max; 0 stays 0."""
    if power_w <= 0:
        return 0.0
    value = cfg.to_entity(power_w, v, ph)
    if lim.step is not None:
        base = lim.min if lim.min is not None else 0.0
        value = base + math.floor((value - base) / lim.step + 1e-9) * lim.step
    if lim.max is not None:
        value = min(value, lim.max)
    return round(value, 6)
