"""A deliberately simple physical site for the simulator.

Only what the controller can observe is modelled, in the order a real site shows it:
- a car takes the current it was last offered, from the next cycle on (one-cycle lag), when it
  is connected and `draws`; a plug draws its power while it is switched on;
- the inverter puts solar (minus battery charging, plus discharging) evenly on every phase, with
  the engine's own split (`engine.phases.solar_per_phase`) so plant and engine agree;
- the battery, if any, behaves like a hybrid inverter's: it charges from export up to
  `max_charge_w` while SoC < 100 % and discharges against import up to `max_discharge_w` while
  SoC > min_soc (also capped by the inverter's `max_w` left after solar); SoC integrates over
  `capacity_wh`. It never charges from the grid.
- grid per phase = house + managed loads - inverter output (import positive).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.control_types import Command, LoadReading, Readings
from ..engine.model import SITE_NODE, SITE_PHASES, Circuit, LoadKind
from ..engine.phases import solar_per_phase
from .scenario import LoadSpec, SiteSpec


@dataclass
class DeviceState:
    """What one device does now, as set by the last command it received."""

    offered_a: float = 0.0
    on: bool = False


@dataclass
class PlantState:
    site: SiteSpec
    loads: dict[str, LoadSpec]
    circuits: tuple[Circuit, ...]
    soc_pct: float | None = None
    battery_w: float = 0.0  # + charging, - discharging (the engine's convention)
    faults: set[str] = field(default_factory=set)
    devices: dict[str, DeviceState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.soc_pct is None and self.site.battery is not None:
            self.soc_pct = self.site.battery.soc_pct
        for load_id in self.loads:
            self.devices.setdefault(load_id, DeviceState())

    # ----------------------------------------------------------------------------- physics

    def draw_a(self, load_id: str) -> tuple[float, ...]:
        """Current per load phase (L1..) that the load takes now."""
        spec = self.loads[load_id]
        device = self.devices[load_id]
        load = spec.load
        if not device.on:
            amps = 0.0
        elif load.kind is LoadKind.PLUG:
            amps = (load.power_w or 0.0) / (self.site.site.voltage_v * load.phases)
        elif spec.connected and spec.draws:
            amps = device.offered_a
        else:
            amps = 0.0
        return tuple(amps for _ in range(load.phases))

    def load_phase_a(self) -> dict[str, dict[str, float]]:
        """Per load, current on each site phase."""
        result: dict[str, dict[str, float]] = {}
        for load_id, spec in self.loads.items():
            per_phase = dict.fromkeys(self.phases, 0.0)
            for site_phase, amps in zip(spec.load.site_phases, self.draw_a(load_id), strict=False):
                per_phase[site_phase] += amps
            result[load_id] = per_phase
        return result

    @property
    def phases(self) -> tuple[str, ...]:
        return SITE_PHASES[: self.site.site.phases]

    def settle_battery(self, dt_s: float) -> None:
        """Choose this cycle's battery flow from the site's balance, then integrate SoC."""
        battery = self.site.battery
        if battery is None or self.soc_pct is None:
            self.battery_w = 0.0
            return
        voltage = self.site.site.voltage_v
        loads_a = self.load_phase_a()
        consumption_w = voltage * sum(
            self.site.house_a[i] + sum(per[p] for per in loads_a.values())
            for i, p in enumerate(self.phases)
        )
        net_w = consumption_w - self.site.solar_w  # > 0: the site would import
        cfg = battery.config
        flow_w = 0.0
        if net_w < 0 and self.soc_pct < 100.0:
            flow_w = min(-net_w, cfg.max_charge_w)
        elif net_w > 0 and self.soc_pct > cfg.min_soc_pct:
            room_w = net_w
            inverter = self.site.site.inverter
            if inverter is not None and inverter.max_w is not None:
                room_w = min(room_w, max(0.0, inverter.max_w - self.site.solar_w))
            flow_w = -min(room_w, cfg.max_discharge_w)
        self.battery_w = flow_w
        delta_pct = flow_w * dt_s / 3600.0 / battery.capacity_wh * 100.0
        self.soc_pct = min(100.0, max(0.0, self.soc_pct + delta_pct))

    def grid_a(self) -> tuple[float, ...]:
        inverter_a = solar_per_phase(self.site.solar_w, self.battery_w, self.site.site)
        loads_a = self.load_phase_a()
        return tuple(
            self.site.house_a[i] + sum(per[p] for per in loads_a.values()) - inverter_a[i]
            for i, p in enumerate(self.phases)
        )

    def node_currents(self, grid_a: tuple[float, ...]) -> dict[str, tuple[float, ...]]:
        """Current per phase through the site's main breaker and through every circuit."""
        loads_a = self.load_phase_a()
        children: dict[str, list[str]] = {}
        for circuit in self.circuits:
            children.setdefault(circuit.parent or SITE_NODE, []).append(circuit.id)
        members: dict[str, list[str]] = {}
        for load_id, spec in self.loads.items():
            if spec.load.circuit is not None:
                members.setdefault(spec.load.circuit, []).append(load_id)

        def through(circuit_id: str) -> list[float]:
            total = [0.0 for _ in self.phases]
            for load_id in members.get(circuit_id, []):
                for i, p in enumerate(self.phases):
                    total[i] += loads_a[load_id][p]
            for child in children.get(circuit_id, []):
                for i, amps in enumerate(through(child)):
                    total[i] += amps
            return total

        result = {SITE_NODE: grid_a}
        for circuit in self.circuits:
            result[circuit.id] = tuple(through(circuit.id))
        return result

    # --------------------------------------------------------------------- sensing and acting

    def readings(self, grid_a: tuple[float, ...], modes: dict[str, str]) -> Readings:
        """What the hub would read from Home Assistant at this moment."""
        battery = self.site.battery is not None
        load_readings = {}
        for load_id, spec in self.loads.items():
            if spec.load.kind is LoadKind.PLUG:
                # Like the hub's switch adapter: a plug is always ready to draw when switched on.
                connected, drawing = True, True
            else:
                connected, drawing = spec.connected, spec.connected and spec.draws
            load_readings[load_id] = LoadReading(
                connected=connected,
                drawing=drawing,
                draw_a=self.draw_a(load_id),
                mode=modes[load_id],  # type: ignore[arg-type]
            )
        return Readings(
            grid_a=None if "grid" in self.faults else grid_a,
            solar_w=None if "solar" in self.faults else self.site.solar_w,
            battery_soc_pct=None if (not battery or "battery" in self.faults) else self.soc_pct,
            battery_power_w=None if (not battery or "battery" in self.faults) else self.battery_w,
            voltage_v=self.site.site.voltage_v,
            loads=load_readings,
        )

    def apply(self, commands: dict[str, Command]) -> None:
        """A command with `write` False leaves the device as it is, like a real adapter."""
        for load_id, command in commands.items():
            device = self.devices.get(load_id)
            if device is None or not command.write:
                continue
            device.offered_a = command.current_a if command.on else 0.0
            device.on = command.on
