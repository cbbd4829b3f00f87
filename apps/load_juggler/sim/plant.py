"""A deliberately simple physical site for the simulator.

Only what the controller can observe is modelled, in the order a real site shows it:
- a car takes the current it was last offered, from the next cycle on (one-cycle lag), when it
  is connected and `draws`, at most its `draw_limit_a`; a plug draws its power while it is
  switched on, or while switched on by hand (`manual_on`) whatever was decided;
- a device that does not obey (`obeys: false`) draws its `stuck_a` whatever it is told;
- what the controller reads as a load's draw is its meter, refreshed every `meter_interval_s`
  (every cycle when 0); grid and breaker currents always carry the true draw;
- the inverter puts its AC output (solar minus battery charging, plus discharging, at most
  `inverter.max_w`) evenly on every phase, with the engine's own split
  (`engine.phases.solar_per_phase`) so plant and engine agree; the solar reading is what the
  panels actually produce, i.e. clipped where the inverter cannot pass it on;
- the battery, if any, behaves like a hybrid inverter's: it charges from export up to
  `max_charge_w` while SoC < 100 % and discharges against import up to `max_discharge_w` while
  SoC > min_soc (also capped by the inverter's `max_w` left after solar); SoC integrates over
  `capacity_wh`. It never charges from the grid.
- grid per phase = house + managed loads - inverter output (import positive); with
  `site.grid_noise_a` the house takes a seeded random walk on every phase (each cycle a step
  drawn from N(0, grid_noise_a), pulled back by 1 % toward the configured `house_a`, never
  below 0), seen by the grid meter and the main breaker like any house load;
- a load's lines land on `wired_phase_map` when given (the engine believes `phase_map`), and
  a car draws only on its `car_lines`;
- a circuit declared `metered` reports its true per-phase current, like a hub
  `circuits.<id>.current_sensor`;
- a `water_heater` load is a plug whose tank (`sim/tank.py`) warms with its draw; its
  thermostat picks the load's mode every reading, as the WaterHeater app does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..config.kinds.staged import StagedSettings
from ..engine.circuits import CircuitTree
from ..engine.control_types import Command, LoadReading, Readings
from ..engine.model import SITE_NODE, SITE_PHASES, Circuit, LoadKind
from ..engine.node_totals import line_terms, node_totals
from ..engine.phases import solar_per_phase
from ..engine.site_view import SiteView
from ..loads.staged_steps import choose_elements
from .heat_pump_plant import HeatPumpDevice, device_for, reading
from .scenario import LoadSpec, SiteSpec
from .tank import SimulatedTank


@dataclass
class DeviceState:
    """What one device does now, as set by the last command it received."""

    offered_a: float = 0.0
    on: bool = False
    #: A staged load: the elements on, and when each was last switched.
    elements: frozenset[int] = frozenset()
    switched_s: dict[int, float] = field(default_factory=dict)


@dataclass
class SimulatedSite:
    site: SiteSpec
    loads: dict[str, LoadSpec]
    circuits: tuple[Circuit, ...]
    soc_pct: float | None = None
    battery_w: float = 0.0  # + charging, - discharging (the engine's convention)
    solar_out_w: float = 0.0  # what the panels produce after clipping (the solar reading)
    faults: set[str] = field(default_factory=set)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    metered_a: dict[str, tuple[float, ...]] = field(default_factory=dict)
    metered_at_s: dict[str, float] = field(default_factory=dict)
    metered_circuits: frozenset[str] = frozenset()
    heat_pumps: dict[str, HeatPumpDevice] = field(default_factory=dict)
    tanks: dict[str, SimulatedTank] = field(default_factory=dict)
    #: Grid meter reads backwards (timeline fault `grid: inverted`).
    grid_inverted: bool = False
    noise_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    tree: CircuitTree = field(init=False, repr=False, compare=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.tree = CircuitTree(self.circuits)
        self._rng = random.Random(self.site.grid_noise_seed)
        if self.soc_pct is None and self.site.battery is not None:
            self.soc_pct = self.site.battery.soc_pct
        for load_id, spec in self.loads.items():
            self.devices.setdefault(load_id, DeviceState())
            if spec.heat_pump is not None:
                self.heat_pumps.setdefault(load_id, device_for(spec.heat_pump))
            if spec.tank is not None:
                self.tanks.setdefault(load_id, SimulatedTank(spec.tank))
        inverter = self.site.site.inverter
        cap_w = inverter.max_w if inverter is not None else None
        self.solar_out_w = self.site.solar_w if cap_w is None else min(self.site.solar_w, cap_w)

    # ----------------------------------------------------------------------------- physics

    def draw_a(self, load_id: str) -> tuple[float, ...]:
        """Current per load phase (L1..) that the load takes now."""
        spec = self.loads[load_id]
        device = self.devices[load_id]
        load = spec.load
        zero = tuple(0.0 for _ in range(load.phases))
        heat_pump = self.heat_pumps.get(load_id)
        if heat_pump is not None:
            per_phase = heat_pump.power_w() / (self.site.site.voltage_v * load.phases)
            return tuple(per_phase for _ in range(load.phases))
        if load.kind is LoadKind.PLUG:
            rated = (load.power_w or 0.0) / (self.site.site.voltage_v * load.phases)
            if not spec.obeys:
                return spec.stuck_a or tuple(rated for _ in range(load.phases))
            on = device.on or spec.manual_on
            return tuple(rated for _ in range(load.phases)) if on else zero
        if not (spec.connected and spec.draws):
            return zero
        if not spec.obeys:
            amps = spec.stuck_a or tuple(load.max_a for _ in range(load.phases))
        else:
            amps = self._obeyed_a(spec, device)
        if spec.draw_limit_a is not None:
            amps = tuple(min(a, spec.draw_limit_a) for a in amps)
        if spec.car_lines is not None:
            amps = tuple(a if i in spec.car_lines else 0.0 for i, a in enumerate(amps))
        return amps

    def _obeyed_a(self, spec: LoadSpec, device: DeviceState) -> tuple[float, ...]:
        """What an obeying device draws per line: the offer; a variable-power load that offer
        rounded down to its watt steps; a staged load its elements that are on."""
        load, volts = spec.load, self.site.site.voltage_v
        offered_a = device.offered_a if device.on else 0.0
        if spec.power is not None:
            line_a = spec.power.command_w(offered_a, volts, load.phases) / (volts * load.phases)
            return tuple(line_a for _ in range(load.phases))
        if spec.staged is not None:
            return tuple(w / volts for w in spec.staged.line_w(device.elements))
        return tuple(offered_a for _ in range(load.phases))

    def load_phase_a(self) -> dict[str, dict[str, float]]:
        """Per load, current on each site phase."""
        result: dict[str, dict[str, float]] = {}
        for load_id, spec in self.loads.items():
            per_phase = dict.fromkeys(self.phases, 0.0)
            for site_phase, amps in line_terms(spec.wired, self.draw_a(load_id)):
                per_phase[site_phase] += amps
            result[load_id] = per_phase
        return result

    def step_noise(self) -> None:
        """One cycle of the house's random walk (`site.grid_noise_a`; nothing when 0)."""
        step_a = self.site.grid_noise_a
        if step_a <= 0:
            return
        self.noise_a = [0.99 * n + self._rng.gauss(0.0, step_a) for n in self.noise_a]

    @property
    def house_now_a(self) -> tuple[float, ...]:
        """The house's current per phase this cycle: `house_a` plus its noise."""
        if self.site.grid_noise_a <= 0:
            return self.site.house_a
        return tuple(max(0.0, h + n) for h, n in zip(self.site.house_a, self.noise_a, strict=False))

    @property
    def phases(self) -> tuple[str, ...]:
        return SITE_PHASES[: self.site.site.phases]

    def settle_battery(self, dt_s: float) -> None:
        """Choose this cycle's battery flow from the site's balance, then integrate SoC."""
        battery = self.site.battery
        solar_w = self.site.solar_w
        inverter = self.site.site.inverter
        max_w = inverter.max_w if inverter is not None and inverter.max_w is not None else None
        solar_ac_w = solar_w if max_w is None else min(solar_w, max_w)
        if battery is None or self.soc_pct is None:
            self.battery_w = 0.0
            self.solar_out_w = solar_ac_w
            return
        voltage = self.site.site.voltage_v
        loads_a = self.load_phase_a()
        house_a = self.house_now_a
        consumption_w = voltage * sum(
            house_a[i] + sum(per[p] for per in loads_a.values()) for i, p in enumerate(self.phases)
        )
        cfg = battery.config
        flow_w = 0.0
        if consumption_w < solar_w and self.soc_pct < 100.0:
            # Charged on the DC side from what the house cannot use through the inverter,
            # clipped solar included: the AC side is served first, up to the inverter's max_w.
            ac_need_w = consumption_w if max_w is None else min(consumption_w, max_w)
            flow_w = min(solar_w - ac_need_w, cfg.max_charge_w)
        elif consumption_w > solar_ac_w and self.soc_pct > cfg.min_soc_pct:
            room_w = consumption_w - solar_ac_w
            if max_w is not None:
                room_w = min(room_w, max(0.0, max_w - solar_ac_w))
            flow_w = -min(room_w, cfg.max_discharge_w)
        self.battery_w = flow_w
        if flow_w > 0:
            output_w = solar_w - flow_w if max_w is None else min(max_w, solar_w - flow_w)
            self.solar_out_w = output_w + flow_w
        else:
            self.solar_out_w = solar_ac_w
        delta_pct = flow_w * dt_s / 3600.0 / battery.capacity_wh * 100.0
        self.soc_pct = min(100.0, max(0.0, self.soc_pct + delta_pct))

    def settle_tanks(self, t_s: float, dt_s: float) -> None:
        """Every tank's water over [t_s, t_s + dt_s) with its element's draw now."""
        voltage = self.site.site.voltage_v
        for load_id, tank in self.tanks.items():
            spec = self.loads[load_id].tank
            if spec is not None and spec is not tank.source:
                tank.follow(spec)  # a timeline changed the tank's keys
            tank.settle(t_s, dt_s, sum(self.draw_a(load_id)) * voltage)

    def grid_a(self) -> tuple[float, ...]:
        inverter_a = solar_per_phase(self.solar_out_w, self.battery_w, self.site.site)
        loads_a = self.load_phase_a()
        house_a = self.house_now_a
        return tuple(
            house_a[i] + sum(per[p] for per in loads_a.values()) - inverter_a[i]
            for i, p in enumerate(self.phases)
        )

    def node_currents(self, grid_a: tuple[float, ...]) -> dict[str, tuple[float, ...]]:
        """Current per phase through the site's main breaker (the grid, inverter included)
        and through every circuit (its loads, `engine.node_totals`)."""
        if not self.circuits:
            return {SITE_NODE: grid_a}
        loads_a = self.load_phase_a()
        shares = (
            (spec.load.circuit, loads_a[load_id].items(), 0.0)
            for load_id, spec in self.loads.items()
        )
        circuits_a = node_totals(shares, self.tree, self.phases).amps
        result = {SITE_NODE: grid_a}
        for circuit in self.circuits:
            result[circuit.id] = tuple(circuits_a[circuit.id][p] for p in self.phases)
        return result

    # --------------------------------------------------------------------- sensing and acting

    def read_meters(self, t_s: float) -> None:
        """Refresh every load meter whose `meter_interval_s` has passed (or that never read)."""
        for load_id, spec in self.loads.items():
            last_s = self.metered_at_s.get(load_id)
            if last_s is None or t_s - last_s >= spec.meter_interval_s - 1e-9:
                self.metered_a[load_id] = self.draw_a(load_id)
                self.metered_at_s[load_id] = t_s

    def readings(
        self, grid_a: tuple[float, ...], modes: dict[str, str], t_s: float = 0.0
    ) -> Readings:
        """What the hub would read from Home Assistant at `t_s`."""
        battery = self.site.battery is not None
        self.read_meters(t_s)
        load_readings = {}
        for load_id, spec in self.loads.items():
            if spec.load.kind is LoadKind.PLUG:
                # Like the hub's switch adapter: a plug is always ready to draw when switched on.
                connected, drawing = True, True
            else:
                connected, drawing = spec.connected, spec.connected and spec.draws
            heat_pump = self.heat_pumps.get(load_id)
            if heat_pump is not None:
                load_readings[load_id] = reading(
                    heat_pump, self.metered_a[load_id], modes[load_id], t_s
                )
                continue
            tank = self.tanks.get(load_id)
            load_readings[load_id] = LoadReading(
                connected=connected,
                drawing=drawing,
                draw_a=self.metered_a[load_id],
                # A tank's thermostat chooses its mode, as the WaterHeater app does.
                mode=tank.decide(t_s).mode if tank else modes[load_id],  # type: ignore[arg-type]
            )
        nodes = self.node_currents(grid_a) if self.metered_circuits else {}
        return Readings(
            grid_a=None
            if "grid" in self.faults
            else (tuple(-a for a in grid_a) if self.grid_inverted else grid_a),
            solar_w=None if "solar" in self.faults else self.solar_out_w,
            battery_soc_pct=None if (not battery or "battery" in self.faults) else self.soc_pct,
            battery_power_w=None if (not battery or "battery" in self.faults) else self.battery_w,
            voltage_v=self.site.site.voltage_v,
            loads=load_readings,
            circuit_a={cid: nodes[cid] for cid in sorted(self.metered_circuits)},
        )

    def apply(
        self,
        commands: dict[str, Command],
        view: SiteView | None = None,
        now_s: float = 0.0,
        modes: dict[str, str] | None = None,
    ) -> None:
        """A command with `write` False leaves the device as it is, like a real adapter.

        A heat pump follows every command (write or not) with the cycle's `view`, as its app;
        a staged load chooses its elements every cycle, as its app does (`staged_steps`).
        """
        for load_id, device in self.heat_pumps.items():
            command = commands.get(load_id)
            spec = self.loads[load_id].heat_pump
            assert spec is not None
            managed = view is not None and (modes or {}).get(load_id) != "off"
            on = command is not None and command.on
            device.apply(now_s, on, managed, view, spec)
        t_s = now_s
        for load_id, command in commands.items():
            device = self.devices.get(load_id)
            if device is None:
                continue
            if command.write:
                device.offered_a = command.current_a if command.on else 0.0
                device.on = command.on
            staged = self.loads[load_id].staged
            if staged is not None:
                self._switch_elements(staged, device, t_s)

    def _switch_elements(self, staged: StagedSettings, device: DeviceState, t_s: float) -> None:
        allowed_a = device.offered_a if device.on else 0.0
        volts = self.site.site.voltage_v
        chosen = choose_elements(staged, allowed_a, volts, device.elements, device.switched_s, t_s)
        for index in chosen ^ device.elements:
            device.switched_s[index] = t_s
        device.elements = chosen
