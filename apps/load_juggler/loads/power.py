"""A variable-power load (solar diverter, heat pump power limit, battery charger) as a load.

The hub's command is a per-phase current, like a charger's; the device turns it into watts,
rounds them DOWN to `min_power_w` + k x `step_w` (`PowerSettings.command_w`) and then onto the
entity's own step grid, and sets the `number.*` / `input_number.*` entity (`<domain>.set_value`)
only when that value changes. An optional `enable_switch` is turned off at 0 W and on (after
the value is set) with a power; without it, off is the value 0.

The draw is the `power_sensor` when there is one (unknown when it cannot be read), else the
entity's own value while enabled. The entity's `min`/`max`/`step` attributes are checked every
cycle against the configuration (`power_entity.limits_problem`): a contradiction is one WARNING
and the load counts as unavailable until it is fixed.

This device needs nothing of the app but its `DeviceHost`, so another kind (a hot water tank)
can drive its heater with it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from ..config import LoadSettings
from ..config.kinds.power import PowerSettings, parse_power
from ..engine.control_types import Command, LoadReading, LoadState
from ..engine.smoothing import finite_or_none
from .base import LoadApp
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .device_host import DRY_RUN_DETAIL, UNAVAILABLE_STATES
from .entities import sensor_attrs
from .power_entity import EntityLimits, entity_value, limits_problem

UNAVAILABLE = LoadReading(connected=False, drawing=False, draw_a=None, available=False)


class PowerDevice:
    """A number entity set in W, kW, A or %, an optional enable switch and power sensor."""

    def __init__(self, host: DeviceHost, settings: LoadSettings, cfg: PowerSettings) -> None:
        self._host = host
        self._settings = settings
        self._cfg = cfg
        self._lock = threading.Lock()
        self._limits = EntityLimits(None, None, None)
        self._problem: str | None = None
        self._value: float | None = None  # the entity's value now, in its unit
        self._enabled: bool | None = None  # the enable switch now (None: none or unknown)
        self._measured_w: float | None = None
        self._sent_value: float | None = None  # last value set successfully
        self._sent_enable: bool | None = None  # last enable state switched to successfully
        self._set_w: float = 0.0  # the power of the last command

    # -- ChecksEntities

    def check_entities(self) -> None:
        cfg = self._cfg
        for entity in (cfg.entity, cfg.enable_switch, cfg.power_sensor):
            if entity is not None and not self._host.exists(entity):
                self._host.log(
                    f"{entity} not found; the load counts as unavailable until it appears",
                    level="WARNING",
                )

    # -- ReadsState

    def read(self, ctx: CycleContext) -> LoadReading:
        cfg, phases = self._cfg, self._settings.phases
        full = self._host.full(cfg.entity)
        state = None if full is None else full.get("state")
        value = None if _unavailable(state) else finite_or_none(state)
        limits = EntityLimits.of(None if full is None else full.get("attributes"))
        enabled = None
        if cfg.enable_switch is not None:
            switch = self._host.state(cfg.enable_switch)
            enabled = None if _unavailable(switch) else str(switch).lower() == "on"
        measured_w = self._host.power_w(cfg.power_sensor, "W")
        with self._lock:
            self._value, self._enabled, self._measured_w = value, enabled, measured_w
            self._limits = limits
        if value is None or (cfg.enable_switch is not None and enabled is None):
            return UNAVAILABLE
        if not self._limits_ok(limits_problem(limits, cfg, ctx.voltage_v, phases)):
            return UNAVAILABLE
        if cfg.power_sensor is not None:
            draw_w = measured_w  # unknown stays unknown: never guessed from the setting
        else:
            draw_w = 0.0 if enabled is False else cfg.from_entity(value, ctx.voltage_v, phases)
        draw = None
        if draw_w is not None:
            per_line = max(0.0, draw_w) / (ctx.voltage_v * phases)
            draw = tuple(round(per_line, 3) for _ in range(phases))
        return LoadReading(connected=True, drawing=True, draw_a=draw, available=True)

    def _limits_ok(self, problem: str | None) -> bool:
        """Log a contradiction once when it starts and once when it is gone."""
        with self._lock:
            before, self._problem = self._problem, problem
        if problem is not None and problem != before:
            self._host.log(f"{problem}; the load stays off until this is fixed", level="WARNING")
        elif problem is None and before is not None:
            self._host.log(f"{self._cfg.entity} fits the configuration again")
        return problem is None

    # -- AppliesCommand

    def apply(self, command: Command, ctx: CycleContext) -> None:
        cfg, phases = self._cfg, self._settings.phases
        power_w = cfg.command_w(command.current_a if command.on else 0.0, ctx.voltage_v, phases)
        with self._lock:
            limits, value_now, enabled_now = self._limits, self._value, self._enabled
        value = entity_value(power_w, cfg, limits, ctx.voltage_v, phases)
        with self._lock:
            self._set_w = cfg.from_entity(value, ctx.voltage_v, phases)
        if cfg.enable_switch is not None and value <= 0:
            self._switch(False, enabled_now, command.reason)
            return
        if not self._set_value(value, value_now, command.reason):
            return  # a failed raise must not be switched on; a failed cut retries next cycle
        if cfg.enable_switch is not None:
            self._switch(True, enabled_now, command.reason)

    def _set_value(self, value: float, value_now: float | None, reason: str) -> bool:
        """Set the entity when `value` is new or the entity shows more; True when it holds."""
        with self._lock:
            sent = self._sent_value
        above = value_now is not None and value_now > value + 1e-9
        if sent is None and value_now is not None and abs(value_now - value) < 1e-9:
            with self._lock:
                self._sent_value = value  # already so at start: nothing to set
            return True
        if sent is not None and abs(sent - value) < 1e-9 and not above:
            return True
        entity = self._cfg.entity
        service = f"{entity.split('.', 1)[0]}/set_value"
        ok, detail = self._host.call(service, entity_id=entity, value=value)
        if not ok:
            self._host.call_failed(f"{service} {entity}", detail)
            return False
        with self._lock:
            self._sent_value = value
        self._host.call_ok(service)
        if detail != DRY_RUN_DETAIL:
            self._host.log(f"{entity} set to {value:g} {self._cfg.unit} ({reason})", level="DEBUG")
        return True

    def _switch(self, want_on: bool, enabled_now: bool | None, reason: str) -> None:
        entity = self._cfg.enable_switch
        assert entity is not None
        with self._lock:
            sent = self._sent_enable
        if sent is None and enabled_now is want_on:
            with self._lock:
                self._sent_enable = want_on  # already as decided at start
            return
        if sent == want_on:
            return
        service = f"{entity.split('.', 1)[0]}/turn_{'on' if want_on else 'off'}"
        ok, detail = self._host.call(service, entity_id=entity)
        if not ok:
            self._host.call_failed(f"{service} {entity}", detail)
            return
        with self._lock:
            self._sent_enable = want_on
        self._host.call_ok(service)
        if detail != DRY_RUN_DETAIL:
            self._host.log(f"{entity} turned {'on' if want_on else 'off'} ({reason})")

    # -- PublishesState

    def attributes(self) -> dict[str, Any]:
        cfg = self._cfg
        with self._lock:
            return {
                "entity": cfg.entity,
                "unit": cfg.unit,
                "value": self._value,
                "enabled": self._enabled,
                "power_w": self._measured_w,
                "set_w": round(self._set_w, 1),
                "step_w": cfg.step_w,
                "min_power_w": cfg.min_power_w,
                "max_power_w": cfg.max_power_w,
                "entity_problem": self._problem or "",
            }

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        """`sensor.load_juggler_<app>_allocated_power`: the power of this command (W)."""
        with self._lock:
            set_w = self._set_w
        attrs = sensor_attrs(f"{self._host.name} allocated power", "W", "power")
        return (ExtraEntity("sensor", "allocated_power", round(set_w, 1), attrs),)


def _unavailable(state: Any) -> bool:
    return state is None or str(state).strip().lower() in UNAVAILABLE_STATES


class HeaterWording(LoadApp):
    """A load the engine treats like a charger but that is no car: its state entity says `on`
    where a car's says `charging` (the controller names a drawing charger-like load so)."""

    def _publish_command(self, command: Command, now_s: float, state: str | None = None) -> None:
        if command.state is LoadState.CHARGING:
            command = replace(command, state=LoadState.ON)
        super()._publish_command(command, now_s, state)


class PowerLoad(HeaterWording):
    """apps.yaml: `entity: number.x` (or input_number.x), `unit`, `min_power_w`, `max_power_w`,
    `step_w`, optional `enable_switch` and `power_sensor`."""

    KIND = "power"

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, PowerDevice]:
        common, self.power_cfg = parse_power(self.name, args)
        return common, PowerDevice(self.host, common, self.power_cfg)
