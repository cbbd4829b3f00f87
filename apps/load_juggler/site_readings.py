"""Reading the site's sensors each cycle: every value in its unit, or unavailable.

Every entity the hub reads goes through `load_juggler.units`: a grid meter in W/kW/MW is turned
into amps with the phase voltage, mA into A, and an entity whose unit is not the quantity asked
for (a kWh counter given as a power sensor) is refused with one WARNING naming the entity and
the unit, once per episode; its value then counts as unavailable, which the controller holds
and, past its stale timeout, treats as lost. Values in the right unit that no working meter can
report (an export far beyond the main breaker, a state of charge of 300 %) are the controller's
to judge (`engine.plausible`): it holds them like unavailable ones and says so with the raw
value, so there is one bound per quantity, not one here and another there.

Pure: no AppDaemon import. The hub hands in a function returning an entity's full state.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .config import HubConfig
from .engine.control_types import Readings
from .engine.plausible import BREAKER_GLITCH_FACTOR, voltage_plausible
from .units import UnitError, current_a, percent, power_w, unit_of, voltage_v

FullState = Callable[[str], Mapping[str, Any] | None]


class Episodes:
    """Lines logged once per episode: `begin` logs while a problem is new, `end` when it is over.

    A sensor that reports a wrong unit every 5 s must not fill the log; the user needs the first
    line, and one more when it works again. `log(line, level)` is the app's logger. The hub's
    cycle and the load apps' registration run in different threads: the table has a lock.
    """

    def __init__(self, log: Callable[[str, str], None]) -> None:
        self._log = log
        self._lock = threading.Lock()
        self.active: dict[str, str] = {}

    def begin(self, key: str, line: str, level: str = "WARNING") -> bool:
        """Log `line` at `level` unless episode `key` is already open; True when it was new."""
        with self._lock:
            if key in self.active:
                return False
            self.active[key] = line
        self._log(line, level)
        return True

    def end(self, key: str, line: str | None = None) -> bool:
        """Close episode `key` (logging `line` at INFO if given); True when one was open."""
        with self._lock:
            if self.active.pop(key, None) is None:
                return False
        if line:
            self._log(line, "INFO")
        return True

    def keys(self, prefix: str) -> list[str]:
        """The open episodes whose key starts with `prefix`."""
        with self._lock:
            return [key for key in self.active if key.startswith(prefix)]


class SiteReader:
    """Turns the site's entities into one cycle's `Readings` (loads left empty for the hub)."""

    def __init__(self, config: HubConfig, full_state: FullState, episodes: Episodes) -> None:
        self.config = config
        self._full_state = full_state
        self.episodes = episodes
        self._held_v: float | None = None
        self._held_at_s = 0.0

    # -- one cycle

    def cycle_voltage(self, now_s: float) -> tuple[float | None, float]:
        """This cycle's measured voltage (None if none) and the voltage to convert W to A with.

        A voltage reading that drops out keeps the last good one until it is stale
        (`control.sensor_stale_timeout_s`): falling back to the nominal value at once would
        change every W -> A conversion on a cycle where nothing else changed.
        """
        measured_v = self.voltage()
        if measured_v is not None:
            self._held_v, self._held_at_s = measured_v, now_s
        elif now_s - self._held_at_s >= self.config.control.sensor_stale_timeout_s:
            self._held_v = None
        return measured_v, self._held_v or self.config.site.voltage_v

    def voltage(self) -> float | None:
        """The measured phase voltage, or None (no sensor, bad unit, implausible).

        A meter showing the line-to-line voltage (~400 V on a 230 V site) is divided by sqrt 3,
        with one warning; anything else outside the site's plausible range is ignored.
        """
        entity = self.config.sensors.voltage
        volts = self._value(entity, "voltage", 0.0)
        if entity is None or volts is None:
            return None
        site = self.config.site
        nominal = site.voltage_v
        if voltage_plausible(site, volts):
            self.episodes.end(f"voltage:{entity}")
            return volts
        phase_v = volts / math.sqrt(3)
        if voltage_plausible(site, phase_v):
            self.episodes.begin(
                f"voltage:{entity}",
                f"{entity} reads {volts:g} V, a line-to-line voltage on a {nominal:g} V site: "
                f"using {phase_v:.0f} V (divided by \u221a3); point sensors.voltage at a "
                "phase-to-neutral voltage to silence this",
            )
            return phase_v
        self.episodes.begin(
            f"voltage:{entity}",
            f"{entity} reads {volts:g} V, implausible on a {nominal:g} V site: ignored, "
            f"using {nominal:g} V until it reads a phase voltage again",
        )
        return None

    def read(self, voltage_used_v: float, measured_v: float | None) -> Readings:
        """Everything but the loads' readings; a value that cannot be trusted is None."""
        sensors = self.config.sensors
        battery = self._value(sensors.battery_power, "power", 0.0)
        if battery is not None and sensors.battery_power_invert:
            battery = -battery
        return Readings(
            grid_a=self._grid(voltage_used_v),
            solar_w=self._value(sensors.solar_power, "power", 0.0),
            battery_soc_pct=self._soc(),
            battery_power_w=battery,
            voltage_v=measured_v,
            max_import_w=self._import_cap(),
            circuit_a=self._circuit_currents(voltage_used_v),
            circuit_power_w=self._circuit_powers(),
        )

    # -- one quantity each

    def _grid(self, voltage_used_v: float) -> tuple[float | None, ...] | None:
        """Signed grid current per site phase (A, + = import); None per unusable phase."""
        grid = self.config.sensors.grid
        values = self._phase_currents(
            grid.entities, grid.attributes, voltage_used_v, default_unit=grid.unit
        )
        if grid.invert:
            values = [None if v is None else -v for v in values]
        return tuple(None if v is None else round(v, 3) for v in values)

    def _circuit_currents(
        self, voltage_used_v: float
    ) -> dict[str, tuple[float | None, ...] | None]:
        out: dict[str, tuple[float | None, ...] | None] = {}
        for cid, meter in self.config.meters.items():
            if meter.current is not None:
                values = self._phase_currents(
                    meter.current, meter.current_attributes, voltage_used_v
                )
                out[cid] = tuple(values)
        return out

    def _circuit_powers(self) -> dict[str, float | None]:
        return {
            cid: self._value(meter.power, "power", 0.0)
            for cid, meter in self.config.meters.items()
            if meter.power is not None
        }

    def _phase_currents(
        self,
        entities: tuple[str, ...],
        attributes: tuple[str, ...] | None,
        voltage_used_v: float,
        default_unit: str = "A",
    ) -> list[float | None]:
        if attributes:
            entity = entities[0]
            full = self._full_state(entity)
            attrs = (full or {}).get("attributes")
            attrs = attrs if isinstance(attrs, Mapping) else {}
            return [
                self._convert(
                    entity, full, attrs.get(name), "current", voltage_used_v, default_unit
                )
                for name in attributes
            ]
        return [self._value(entity, "current", voltage_used_v, default_unit) for entity in entities]

    def _import_cap(self) -> float | None:
        """The import cap entity in W; a cap beyond what the breakers could ever carry is None.

        The controller has no bound of its own for the cap, and a cap that jumps from 10 kW to
        1 GW would release every load held back by it in one cycle. 0 or below passes: it means
        "no grid import" to the controller.
        """
        entity = self.config.sensors.max_import
        watts = self._value(entity, "power", 0.0)
        if entity is None or watts is None:
            return None
        site = self.config.site
        bound_w = BREAKER_GLITCH_FACTOR * site.main_breaker_a * site.voltage_v * site.phases
        key = f"implausible:{entity}"
        if watts <= bound_w:
            self.episodes.end(key, f"{entity} reads a plausible import cap again")
            return watts
        self.episodes.begin(
            key,
            f"{entity} reads {watts:g} W, more than {BREAKER_GLITCH_FACTOR:g} x what the main "
            f"breaker carries ({bound_w:g} W): ignored as a glitch, the last good cap holds",
        )
        return None

    def _soc(self) -> float | None:
        return self._value(self.config.sensors.battery_soc, "percent", 0.0)

    # -- plumbing

    def _value(
        self, entity: str | None, kind: str, voltage_used_v: float, default_unit: str | None = None
    ) -> float | None:
        if entity is None:
            return None
        full = self._full_state(entity)
        if full is None:
            return None
        return self._convert(entity, full, full.get("state"), kind, voltage_used_v, default_unit)

    def _convert(
        self,
        entity: str,
        full: Mapping[str, Any] | None,
        raw: Any,
        kind: str,
        voltage_used_v: float,
        default_unit: str | None,
    ) -> float | None:
        """`raw` in the quantity `kind`, by the entity's unit; a wrong unit is None, once-logged."""
        unit = unit_of(full)
        try:
            if kind == "current":
                value = current_a(
                    raw, unit, voltage_used_v, entity_id=entity, default_unit=default_unit or "A"
                )
            elif kind == "power":
                value = power_w(raw, unit, entity_id=entity, default_unit=default_unit or "W")
            elif kind == "percent":
                value = percent(raw, unit, entity_id=entity)
            else:
                value = voltage_v(raw, unit, entity_id=entity, default_unit=default_unit or "V")
        except UnitError as err:
            self.episodes.begin(f"unit:{entity}", str(err))
            return None
        self._unit_ok(entity, unit)
        return value

    def _unit_ok(self, entity: str, unit: str | None) -> None:
        self.episodes.end(
            f"unit:{entity}", f"{entity} reports a usable unit again ('{unit or 'none'}')"
        )
