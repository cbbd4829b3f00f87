"""A staged load (several switched heating elements forming power steps) as a load.

The hub's command is a per-phase current; the engine only ever offers the currents of the
load's steps (`Load.steps_a`), and the device switches the elements of the largest step that
fits the command (`staged_steps.choose_elements`, which also keeps each element's min on and
min off time). Elements going off are switched before elements going on, so a change of step
never draws more than either step. An element is switched only when the decision for it
changes; a manual toggle stays until then.

The draw is the `power_sensor` (shared over the lines like the rated powers of the elements
that are on) when there is one, else the rated power of the elements that are on.

This device needs nothing of the app but its `DeviceHost`, so another kind (a hot water tank)
can drive its heater with it.
"""

from __future__ import annotations

import threading
from typing import Any

from ..config import LoadSettings
from ..config.kinds.staged import StagedSettings, elements_text, parse_staged
from ..engine.control_types import Command, LoadReading
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .device_host import DRY_RUN_DETAIL, UNAVAILABLE_STATES
from .entities import sensor_attrs
from .power import HeaterWording
from .staged_steps import choose_elements

UNAVAILABLE = LoadReading(connected=False, drawing=False, draw_a=None, available=False)


class StagedDevice:
    """The element switches of one staged load and its optional power sensor."""

    def __init__(self, host: DeviceHost, settings: LoadSettings, cfg: StagedSettings) -> None:
        self._host = host
        self._settings = settings
        self._cfg = cfg
        self._lock = threading.Lock()
        count = len(cfg.stages)
        self._actual: list[bool | None] = [None] * count
        self._sent: list[bool | None] = [None] * count  # last state switched to successfully
        self._switched_s: dict[int, float] = {}  # when we last switched each element
        self._measured_w: float | None = None
        self._target: frozenset[int] = frozenset()

    # -- ChecksEntities

    def check_entities(self) -> None:
        for stage in self._cfg.stages:
            if stage.switch is not None and not self._host.exists(stage.switch):
                self._host.log(
                    f"switch {stage.switch} not found; the load counts as unavailable until "
                    "it appears",
                    level="WARNING",
                )

    # -- ReadsState

    def read(self, ctx: CycleContext) -> LoadReading:
        cfg = self._cfg
        actual: list[bool | None] = []
        for stage in cfg.stages:
            state = self._host.state(stage.switch) if stage.switch is not None else None
            text = "" if state is None else str(state).strip().lower()
            actual.append(None if text in UNAVAILABLE_STATES else text == "on")
        measured_w = self._host.power_w(cfg.power_sensor, "W")
        with self._lock:
            self._actual = actual
            self._measured_w = measured_w
        if any(a is None for a in actual):
            return UNAVAILABLE
        on = frozenset(i for i, a in enumerate(actual) if a)
        line_w = cfg.line_w(on)
        if cfg.power_sensor is not None:
            if measured_w is None:
                return LoadReading(connected=True, drawing=True, draw_a=None, available=True)
            rated_w = sum(line_w)
            share = [w / rated_w for w in line_w] if rated_w > 0 else [1 / cfg.phases] * cfg.phases
            line_w = tuple(max(0.0, measured_w) * s for s in share)
        draw = tuple(round(w / ctx.voltage_v, 3) for w in line_w)
        return LoadReading(connected=True, drawing=True, draw_a=draw, available=True)

    # -- AppliesCommand

    def apply(self, command: Command, ctx: CycleContext) -> None:
        cfg = self._cfg
        allowed_a = command.current_a if command.on else 0.0
        with self._lock:
            believed = [
                sent if sent is not None else bool(actual)
                for sent, actual in zip(self._sent, self._actual, strict=True)
            ]
            switched = dict(self._switched_s)
        on_now = frozenset(i for i, on in enumerate(believed) if on)
        target = choose_elements(cfg, allowed_a, ctx.voltage_v, on_now, switched, ctx.now_s)
        with self._lock:
            self._target = target
        # Off first: a change of step never draws more than the larger of the two steps.
        for index in sorted(on_now - target):
            self._switch(index, False, ctx.now_s, command.reason)
        for index in sorted(target - on_now):
            self._switch(index, True, ctx.now_s, command.reason)
        with self._lock:
            for index, on in enumerate(believed):  # first cycle: take the state as found
                if self._sent[index] is None and index not in target ^ on_now:
                    self._sent[index] = on

    def _switch(self, index: int, want_on: bool, now_s: float, reason: str) -> None:
        entity = self._cfg.stages[index].switch
        assert entity is not None
        service = f"{entity.split('.', 1)[0]}/turn_{'on' if want_on else 'off'}"
        ok, detail = self._host.call(service, entity_id=entity)
        if not ok:
            self._host.call_failed(f"{service} {entity}", detail)
            return
        with self._lock:
            self._sent[index] = want_on
            self._switched_s[index] = now_s
        self._host.call_ok(service)
        if detail != DRY_RUN_DETAIL:
            self._host.log(f"{entity} turned {'on' if want_on else 'off'} ({reason})")

    # -- PublishesState

    def attributes(self) -> dict[str, Any]:
        cfg = self._cfg
        with self._lock:
            on = [i for i, a in enumerate(self._actual) if a]
            return {
                "stages": [s.switch for s in cfg.stages],
                "elements_on": elements_text(cfg, on),
                "elements_wanted": elements_text(cfg, sorted(self._target)),
                "power_w": self._measured_w,
                "step_w": cfg.power_w(self._target),
                "min_on_s": cfg.min_on_s,
                "min_off_s": cfg.min_off_s,
            }

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        """`sensor.load_juggler_<app>_allocated_power`: the power of the step chosen (W)."""
        with self._lock:
            power_w = self._cfg.power_w(self._target)
        attrs = sensor_attrs(f"{self._host.name} allocated power", "W", "power")
        return (ExtraEntity("sensor", "allocated_power", round(power_w, 1), attrs),)


class StagedLoad(HeaterWording):
    """apps.yaml: `stages: [{switch, power_w, phase}, ...]`, optional `steps`, `min_on_s`,
    `min_off_s`, `power_sensor`."""

    KIND = "staged"

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, StagedDevice]:
        common, self.staged_cfg = parse_staged(self.name, args)
        return common, StagedDevice(self.host, common, self.staged_cfg)
