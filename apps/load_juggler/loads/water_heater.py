"""A hot water tank as a Load Juggler load: a heater element plus a temperature and a plan.

To the engine the tank is a switched load whose mode is chosen every cycle by its thermostat
(`engine.tank_thermostat`): `off` when the tank is warm enough, at or above `max_c`, or its
temperature cannot be trusted; `solar_only` / `excess` while it may only take green power;
`continuous` from the planned latest start before `min_c_by`, in `continuous` and in `boost`.
The heater sits behind `TankHeater`: a switch, a variable-power entity or staged elements,
each driven by its own load kind's device code (`SwitchDevice`, `PowerDevice`,
`StagedDevice`); to the engine the tank then is a switched load of `power_w`, a load with a
current range or a load with steps, and the planner heats at the heater's max power.

Every cycle the temperature and the element's energy feed the thermal model's learner
(`engine.thermal`); the learned model and the time of the last legionella run are kept in the
hub's state file, section "thermal", keyed by app name, so a restart keeps them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from .. import units
from ..config import LoadSettings
from ..config.kinds.power import PowerSettings
from ..config.kinds.staged import StagedSettings
from ..config.kinds.water_heater import WaterHeaterSettings, parse_water_heater
from ..engine.control_types import Command, LoadReading
from ..engine.model import Mode
from ..engine.tank_thermostat import (
    HeaterMode,
    TankDecision,
    TankInput,
    TankThermostat,
)
from ..engine.thermal import TankLearner, TankModel, model_from_dict, volume_model
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .device_host import UNAVAILABLE_STATES
from .entities import sensor_attrs
from .power import HeaterWording, PowerDevice
from .staged import StagedDevice
from .switch import SwitchDevice
from .water_heater_mode import HeaterModeSelect

#: The hub state file's section of the tanks: {app name: model and legionella time}.
STATE_SECTION = "thermal"
#: Temperatures outside this range are a broken or disconnected sensor, not water.
PLAUSIBLE_C = (-20.0, 110.0)
#: The legionella time is written to the state file at most this often while the tank is hot.
LEGIONELLA_SAVE_S = 3600.0
#: Thermostat states in which the element is switched off even when turned on by hand.
NO_HEAT_STATES = frozenset({"safety_stop", "sensor_fault"})
_STATE_LOCK = threading.Lock()  # tanks of one hub share the section: read-modify-write


class TankHeater(Protocol):
    """The element as the tank needs it: a load device that also says what it draws now."""

    def read(self, ctx: CycleContext) -> LoadReading: ...

    def apply(self, command: Command, ctx: CycleContext) -> None: ...

    def attributes(self) -> dict[str, Any]: ...

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]: ...

    def check_entities(self) -> None: ...

    def element_power_w(self) -> float | None:
        """What the element draws as of the last `read` (None: unknown)."""
        ...

    def force_off(self, command: Command, ctx: CycleContext) -> None:
        """Apply an off `command` even to an element someone switched on by hand."""
        ...


class SwitchHeater(SwitchDevice):
    """A switched element: the switched load's device, plus its power for the thermal model
    (the power sensor, or `power_w` while the switch is on when there is none)."""

    def element_power_w(self) -> float | None:
        attrs = self.attributes()
        if attrs["power_w"] is not None:
            return max(0.0, float(attrs["power_w"]))
        actual = attrs["actual"]
        if actual is None:
            return None
        return float(self._settings.power_w or 0.0) if actual.lower() == "on" else 0.0

    def force_off(self, command: Command, ctx: CycleContext) -> None:
        """Switch off a switch that reads on, even if we sent off before (turned on by hand):
        the switched load leaves a manual toggle alone, a tank at `max_c` must not."""
        if str(self.attributes()["actual"]).lower() == "on":
            with self._lock:
                self._sent_on = None
        self.apply(command, ctx)


def _drawn_w(reading: LoadReading, voltage_v: float) -> float | None:
    """The total power a reading's per-line draw stands for (None: unknown)."""
    if not reading.available or reading.draw_a is None:
        return None
    return sum(reading.draw_a) * voltage_v


class PowerHeater(PowerDevice):
    """A variable-power element: PowerLoad's device, plus its power for the thermal model (the
    power sensor, else the entity's set value while enabled, as the device reads it)."""

    _drawn: float | None = None

    def read(self, ctx: CycleContext) -> LoadReading:
        reading = super().read(ctx)
        self._drawn = _drawn_w(reading, ctx.voltage_v)
        return reading

    def element_power_w(self) -> float | None:
        return self._drawn

    def force_off(self, command: Command, ctx: CycleContext) -> None:
        """Turn off an enable switch that reads on even if we sent off before (turned on by
        hand); the value itself is set again by the device whenever the entity shows more."""
        with self._lock:
            self._sent_enable = None
        self.apply(command, ctx)


class StagedHeater(StagedDevice):
    """Staged elements: StagedLoad's device, plus their power for the thermal model (the power
    sensor, else the rated power of the elements that are on)."""

    _drawn: float | None = None

    def read(self, ctx: CycleContext) -> LoadReading:
        reading = super().read(ctx)
        self._drawn = _drawn_w(reading, ctx.voltage_v)
        return reading

    def element_power_w(self) -> float | None:
        return self._drawn

    def force_off(self, command: Command, ctx: CycleContext) -> None:
        """Switch off every element that reads on, even one we switched off before (turned on
        by hand): forget what was sent, so the device starts from what it reads."""
        with self._lock:
            self._sent = [None] * len(self._sent)
        self.apply(command, ctx)


class ThermalMemory:
    """This tank's entry in the hub's state file (None while no hub is registered)."""

    def __init__(self, name: str, state_of_hub: Callable[[], Any]) -> None:
        self._name = name
        self._state_of_hub = state_of_hub

    def load(self) -> dict[str, Any] | None:
        state = self._state_of_hub()
        if state is None:
            return None
        entry = state.get(STATE_SECTION).get(self._name)
        return entry if isinstance(entry, dict) else {}

    def save(self, entry: dict[str, Any]) -> bool:
        state = self._state_of_hub()
        if state is None:
            return False
        with _STATE_LOCK:
            section = state.get(STATE_SECTION)
            section[self._name] = entry
            state.put(STATE_SECTION, section)
        return True


class WaterHeaterDevice:
    """The tank: reads the temperature, learns, decides the heater's mode, drives the heater."""

    def __init__(
        self,
        host: DeviceHost,
        settings: LoadSettings,
        cfg: WaterHeaterSettings,
        heater: TankHeater,
        memory: ThermalMemory,
        heater_mode: Callable[[], HeaterMode],
        local_day_s: Callable[[], float],
    ) -> None:
        self._host = host
        self._settings = settings
        self._cfg = cfg
        self._heater = heater
        self._memory = memory
        self._heater_mode = heater_mode
        self._local_day_s = local_day_s
        self._lock = threading.Lock()
        self._start = volume_model(cfg.volume_l)
        self._learner = TankLearner(self._start)
        self._thermostat = TankThermostat(cfg.tank)
        self._restored = False
        self._saved: dict[str, Any] = {}
        self._energy_wh = 0.0
        self._last_s: float | None = None
        self._last_power_w: float | None = None
        self.temp_c: float | None = None
        self.fault = ""
        self.decision: TankDecision | None = None
        self.boost_done = False

    # -- ChecksEntities

    def check_entities(self) -> None:
        self._heater.check_entities()
        if not self._host.exists(self._cfg.temperature_sensor):
            self._host.log(
                f"temperature_sensor {self._cfg.temperature_sensor} not found; the tank is "
                "not heated until it appears",
                level="WARNING",
            )

    # -- ReadsState

    def read(self, ctx: CycleContext) -> LoadReading:
        reading = self._heater.read(ctx)
        temp_c, fault = self._temperature(ctx.now_utc)
        self._restore()
        model = self._learn(ctx.now_s, temp_c)
        decision = self._thermostat.decide(
            TankInput(
                now_s=ctx.now_s,
                day_s=self._local_day_s(),
                temp_c=temp_c,
                mode=self._heater_mode(),
                model=model,
                fault=fault,
            )
        )
        with self._lock:
            self.temp_c, self.fault, self.decision = temp_c, fault, decision
            self.boost_done = decision.boost_done
        self._remember(ctx.now_s, model)
        if decision.mode is Mode.OFF:
            # A tank that must not heat must not be kept on as `satisfied` either.
            reading = replace(reading, rest=None)
        return reading

    def _temperature(self, now: datetime) -> tuple[float | None, str]:
        """The tank's temperature in C, or None and why it cannot be trusted."""
        entity = self._cfg.temperature_sensor
        full = self._host.full(entity)
        if full is None:
            return None, f"{entity} not found"
        attrs = full.get("attributes") or {}
        if entity.split(".", 1)[0] in ("water_heater", "climate"):
            raw = attrs.get("current_temperature")
        else:
            raw = full.get("state")
        if raw is None or str(raw).strip().lower() in UNAVAILABLE_STATES:
            return None, f"{entity} is {raw if raw is not None else 'unavailable'}"
        try:
            value = units.temperature_c(raw, units.unit_of(full), entity_id=entity)
        except units.UnitError as err:
            return None, str(err)
        if value is None:
            return None, f"{entity} = {raw!r} is not a number"
        low, high = PLAUSIBLE_C
        if not low <= value <= high:
            return None, f"{entity} = {value:g} C is implausible (outside {low:g}..{high:g} C)"
        age_s = _age_s(full, now)
        if age_s is not None and age_s > self._cfg.temp_stale_s:
            return None, (
                f"{entity} not updated for {age_s:.0f} s (temp_stale_s {self._cfg.temp_stale_s:g})"
            )
        return value, ""

    def _restore(self) -> None:
        """Adopt the model kept in the state file, once the hub is there to ask."""
        if self._restored:
            return
        entry = self._memory.load()
        if entry is None:
            return
        self._restored = True
        self._saved = dict(entry)
        model = model_from_dict(entry.get("model"), self._start)
        self._learner = TankLearner(model, self._start)
        at_s = entry.get("legionella_at_s")
        if isinstance(at_s, int | float):
            self._thermostat.legionella_at_s = float(at_s)

    def _learn(self, now_s: float, temp_c: float | None) -> TankModel:
        """Integrate the element's energy since the last read and show the learner a sample;
        an unknown temperature or power breaks the series (nothing is learned across it)."""
        power_w = self._heater.element_power_w()
        if self._last_s is not None and self._last_power_w is not None and now_s > self._last_s:
            self._energy_wh += self._last_power_w * (now_s - self._last_s) / 3600.0
        known = self._last_power_w is not None and power_w is not None and temp_c is not None
        self._last_s, self._last_power_w = now_s, power_w
        if not known:
            self._learner.forget()
            return self._learner.model
        assert temp_c is not None
        return self._learner.observe(now_s, temp_c, self._energy_wh)

    def _remember(self, now_s: float, model: TankModel) -> None:
        if not self._restored:
            return
        entry = {"model": model.as_dict()}
        at_s = self._thermostat.legionella_at_s
        saved_at = self._saved.get("legionella_at_s")
        if at_s is not None:
            fresh = not isinstance(saved_at, int | float) or at_s - saved_at >= LEGIONELLA_SAVE_S
            entry["legionella_at_s"] = round(at_s) if fresh else saved_at
        if entry != self._saved and self._memory.save(entry):
            self._saved = entry

    # -- AppliesCommand

    def apply(self, command: Command, ctx: CycleContext) -> None:
        with self._lock:
            decision = self.decision
        if decision is not None and decision.state in NO_HEAT_STATES and not command.on:
            self._heater.force_off(command, ctx)
        else:
            self._heater.apply(command, ctx)

    # -- PublishesState

    def attributes(self) -> dict[str, Any]:
        with self._lock:
            decision, temp_c, fault = self.decision, self.temp_c, self.fault
        model = self._learner.model
        attrs: dict[str, Any] = {
            **self._heater.attributes(),
            "heater_mode": self._heater_mode().value,
            "tank_c": None if temp_c is None else round(temp_c, 2),
            "temperature_fault": fault or None,
            "heat_c_per_kwh": round(model.heat_c_per_kwh, 4),
            "loss_c_per_h": round(model.loss_c_per_h, 4),
            "learned_windows": model.heat_samples + model.loss_samples,
            "learning": self._learner.note,
        }
        if decision is not None:
            attrs["thermostat"] = decision.state
            attrs["goal_c"] = decision.goal_c
        return attrs

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        """The tank's temperature, the energy it needs, the planned start and the reason."""
        with self._lock:
            decision, temp_c = self.decision, self.temp_c
        name = self._host.name
        planned = None
        if decision is not None and decision.planned_start_s is not None:
            planned = datetime.fromtimestamp(decision.planned_start_s, tz=UTC).isoformat()
        thermostat_state = decision.state if decision is not None else "unknown"
        reason = decision.reason if decision is not None else "no reading yet"
        return (
            *self._heater.extra_entities(command),
            ExtraEntity(
                "sensor",
                "tank_temperature",
                "unavailable" if temp_c is None else round(temp_c, 1),
                sensor_attrs(f"{name} tank temperature", "°C", "temperature"),
            ),
            ExtraEntity(
                "sensor",
                "energy_needed",
                round(decision.energy_needed_wh) if decision is not None else 0,
                sensor_attrs(
                    f"{name} energy needed",
                    "Wh",
                    "energy",
                    goal_c=decision.goal_c if decision is not None else None,
                ),
            ),
            ExtraEntity(
                "sensor",
                "planned_start",
                planned or "none",
                sensor_attrs(f"{name} planned start", None, "timestamp", state_class=None),
            ),
            ExtraEntity(
                "sensor",
                "thermostat",
                thermostat_state,
                sensor_attrs(
                    f"{name} thermostat",
                    device_class="enum",
                    state_class=None,
                    icon="mdi:water-boiler",
                    reason=reason,
                ),
            ),
        )


def _age_s(full: dict[str, Any], now: datetime) -> float | None:
    """Seconds since HA last heard from the entity (last_reported / last_updated), or None."""
    newest: datetime | None = None
    for key in ("last_reported", "last_updated", "last_changed"):
        text = full.get(key)
        if not isinstance(text, str):
            continue
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            continue
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=now.tzinfo)
        if newest is None or stamp > newest:
            newest = stamp
    return None if newest is None else (now - newest).total_seconds()


class WaterHeater(HeaterWording):
    """apps.yaml: the heater (`switch` and `power_w`, `heater_entity` with PowerLoad's options,
    or `stages` with StagedLoad's), `temperature_sensor`, `volume_l`, the
    thermostat's temperatures (`target_c`, `hysteresis_c`, `max_c`, `min_c` by `min_c_by`)
    and an optional `legionella` run."""

    KIND = "water_heater"

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, WaterHeaterDevice]:
        common, self.tank_cfg = parse_water_heater(self.name, args)
        # The hub's registration checks refuse a second app driving the same device.
        cfg = self.tank_cfg.heater
        heater: TankHeater
        if isinstance(cfg, PowerSettings):
            self.power_cfg = cfg
            heater = PowerHeater(self.host, common, cfg)
        elif isinstance(cfg, StagedSettings):
            self.staged_cfg = cfg
            heater = StagedHeater(self.host, common, cfg)
        else:
            self.switch_cfg = cfg
            heater = SwitchHeater(self.host, common, cfg)
        memory = ThermalMemory(self.name, self._hub_state)
        return common, WaterHeaterDevice(
            self.host,
            common,
            self.tank_cfg,
            heater,
            memory,
            self._current_heater_mode,
            self._local_day_s,
        )

    def make_mode_select(self, settings: LoadSettings) -> HeaterModeSelect:  # type: ignore[override]
        return HeaterModeSelect(self, settings, self.tank_cfg.mode)

    def _current_heater_mode(self) -> HeaterMode:
        modes = getattr(self, "_modes", None)
        return modes.heater_mode if modes is not None else self.tank_cfg.mode

    def _local_day_s(self) -> float:
        now = self.datetime()
        return now.hour * 3600.0 + now.minute * 60.0 + now.second + now.microsecond / 1e6

    def _hub_state(self) -> Any:
        link = getattr(self, "_link", None)
        return link.hub_state() if link is not None else None

    @property
    def mode(self) -> Mode:
        """The engine mode the thermostat chose in the last reading (before any: the mode
        the heater mode starts in)."""
        device = getattr(self, "device", None)
        decision = device.decision if isinstance(device, WaterHeaterDevice) else None
        if decision is not None:
            return decision.mode
        return self._modes.mode

    def reading_mode(self, now: datetime) -> Mode:
        """The thermostat's choice (`mode`), not the select's heater mode it starts from."""
        return self.mode

    def apply(self, command: Command, ctx: CycleContext) -> None:
        super().apply(command, ctx)
        device = self.device
        done = isinstance(device, WaterHeaterDevice) and device.boost_done
        if done and self._current_heater_mode() is HeaterMode.BOOST:
            self._modes.end_boost()
