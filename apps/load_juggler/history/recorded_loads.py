"""What each managed load did in the recording, and what that says about its car.

Per cycle, for every load app: its recorded draw per load line (A), whether it was on, and for a
charger the session the car was in:
- a charger's draw is its `current_import` (one entity per line, or one entity whose L1/L2/L3
  attributes carry the lines while its state, the sum of the lines, is above 0, or that sum
  spread evenly over the lines), in A unless the entity says mA/W;
- a switch's draw is its `power_sensor` spread over its lines, or `power_w` while the switch is
  on when it has no sensor;
- the car is connected while the connector status says so (`loads.ocpp_status`), and asks for
  current in `Preparing`, `Charging`, `SuspendedEVSE`, and in `SuspendedEV` while it still drew;
- when a charging car took clearly less than it was offered (`current_offered`), it could not
  take more (a full battery tapering, a weak on-board charger): that draw is its limit.
A value the history does not have (unavailable, not yet recorded) holds the last one, counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..engine.model import LoadKind
from ..loads.ocpp_status import CONNECTOR_STATUS, status_key
from ..units import UnitError, current_a, power_w, unit_of
from .setup import ReplayLoad
from .states import RecordedStates

#: Above this a load line counts as drawing (a recorded start/stop, a car still charging).
DRAWING_A = 1.0
#: A car that takes this much less than it is offered is limited by itself.
TAPER_MARGIN_A = 2.0
_ASKING = frozenset({"preparing", "charging", "suspendedevse"})


@dataclass(frozen=True)
class Recorded:
    """One load in one cycle of the recording."""

    line_a: tuple[float, ...]
    on: bool
    connected: bool
    wants: bool
    limit_a: float | None


class RecordedLoad:
    """Reads one load app's entities from the recording, holding what is missing."""

    def __init__(self, item: ReplayLoad) -> None:
        self.item = item
        self.phases = item.load.phases
        self._line_a: tuple[float, ...] = tuple(0.0 for _ in range(self.phases))
        self._status: str | None = None
        #: Lines not yet reported: a unit that is not a current or power, once per line.
        self.unit_problems: list[str] = []
        self._reported: set[str] = set()

    def read(self, states: RecordedStates, voltage_v: float) -> Recorded:
        if self.item.load.kind is LoadKind.PLUG:
            return self._switch(states, voltage_v)
        return self._charger(states, voltage_v)

    # -- a switched load

    def _switch(self, states: RecordedStates, voltage_v: float) -> Recorded:
        switch = self.item.switch
        assert switch is not None
        on_text = states.state(switch.switch)
        on = on_text is not None and on_text.lower() == "on"
        if switch.power_sensor is not None:
            watts = self._power(states, switch.power_sensor)
            if watts is not None:
                self._line_a = tuple(
                    max(0.0, watts) / (voltage_v * self.phases) for _ in range(self.phases)
                )
        elif on_text is not None:
            rated_a = (self.item.settings.power_w or 0.0) / (voltage_v * self.phases)
            self._line_a = tuple((rated_a if on else 0.0) for _ in range(self.phases))
        return Recorded(self._line_a, on, connected=True, wants=True, limit_a=None)

    def _power(self, states: RecordedStates, entity: str) -> float | None:
        full = states.full_state(entity)
        if full is None:
            return None
        try:
            return power_w(full.get("state"), unit_of(full), entity_id=entity)
        except UnitError as err:
            self._unit_problem(str(err))
            return None

    # -- a charger

    def _charger(self, states: RecordedStates, voltage_v: float) -> Recorded:
        ocpp = self.item.ocpp
        assert ocpp is not None
        lines = self._lines(states, ocpp.entities.current_import, voltage_v)
        self._line_a = tuple(
            held if new is None else max(0.0, new)
            for held, new in zip(self._line_a, lines, strict=True)
        )
        key = status_key(states.state(ocpp.entities.status_connector))
        if key is not None and key in CONNECTOR_STATUS:
            self._status = key
        connected, _ = CONNECTOR_STATUS.get(self._status or "available", (False, False))
        drawing = max(self._line_a, default=0.0) > DRAWING_A
        wants = connected and (self._status in _ASKING or drawing)
        limit_a = None
        offered = self._offered(states, ocpp.entities.current_offered, voltage_v)
        if self._status == "charging" and offered is not None and drawing:
            taken = max(self._line_a)
            if taken < offered - TAPER_MARGIN_A:
                limit_a = taken
        return Recorded(self._line_a, drawing, connected, wants, limit_a)

    def _lines(
        self, states: RecordedStates, entities: tuple[str, ...], voltage_v: float
    ) -> list[float | None]:
        if len(entities) > 1:
            return [self._amps(states, entity, None, voltage_v) for entity in entities]
        entity = entities[0]
        full = states.full_state(entity)
        attrs = full.get("attributes") if full else None
        names = [f"L{i + 1}" for i in range(self.phases)]
        # The integration publishes the state as the sum of the lines, and keeps the L1/L2/L3
        # attributes of a finished session while the state drops to 0 (as the app reads them).
        total = self._amps(states, entity, None, voltage_v)
        if isinstance(attrs, Mapping) and all(name in attrs for name in names):
            if total is not None and total <= 0:
                return [0.0 for _ in names]
            return [self._amps(states, entity, attrs[name], voltage_v) for name in names]
        # Without per-line values the sum is spread evenly: the best guess for a history.
        return [None if total is None else total / self.phases for _ in names]

    def _amps(
        self, states: RecordedStates, entity: str, raw: object, voltage_v: float
    ) -> float | None:
        full = states.full_state(entity)
        if full is None:
            return None
        value = full.get("state") if raw is None else raw
        try:
            return current_a(value, unit_of(full), voltage_v, entity_id=entity)
        except UnitError as err:
            self._unit_problem(str(err))
            return None

    def _offered(self, states: RecordedStates, entity: str, voltage_v: float) -> float | None:
        if states.full_state(entity) is None:
            return None
        return self._amps(states, entity, None, voltage_v)

    def _unit_problem(self, line: str) -> None:
        if line not in self._reported:
            self._reported.add(line)
            self.unit_problems.append(line)
