"""A tiny physical plant for controller tests: meters that lag, plugs switched by hand, chargers
that ignore their profile.

Physics is deliberately plain: the grid phase current is the house current plus every device's
real draw on that phase; a circuit meter sums its devices. A device applies a written command
at once unless it ignores commands; its own meter refreshes every `meter_every` cycles, so the
controller may see an old value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from load_juggler.engine.control_types import Command, LoadReading, Readings
from load_juggler.engine.model import SITE_PHASES, Load, LoadKind, Mode


@dataclass
class Device:
    load: Load
    on: bool = False
    current_a: float = 0.0  # what it draws per phase when on (an EVSE's applied limit)
    stuck_a: float | None = None  # ignores every command and draws this per phase
    meter_every: int = 1
    shown_a: tuple[float, ...] | None = None

    def rated_a(self, voltage_v: float) -> float:
        load = self.load
        if load.kind is LoadKind.PLUG:
            return float(load.power_w or 0.0) / (voltage_v * load.phases)
        return load.max_a

    def draw_a(self, voltage_v: float) -> tuple[float, ...]:
        if self.stuck_a is not None:
            amps = self.stuck_a
        elif not self.on:
            amps = 0.0
        elif self.load.kind is LoadKind.PLUG:
            amps = self.rated_a(voltage_v)
        else:
            amps = self.current_a
        return tuple(amps for _ in range(self.load.phases))


@dataclass
class TinyPlant:
    phases: int
    house_a: list[float]
    devices: dict[str, Device]
    voltage_v: float = 230.0
    circuits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> device ids
    cycle: int = 0

    def grid_a(self) -> tuple[float, ...]:
        total = list(self.house_a[: self.phases])
        index = {p: i for i, p in enumerate(SITE_PHASES[: self.phases])}
        for device in self.devices.values():
            for phase, amps in zip(
                device.load.site_phases, device.draw_a(self.voltage_v), strict=True
            ):
                total[index[phase]] += amps
        return tuple(total)

    def circuit_a(self, circuit_id: str, house_a: tuple[float, ...]) -> tuple[float, ...]:
        total = list(house_a)
        index = {p: i for i, p in enumerate(SITE_PHASES[: self.phases])}
        for device_id in self.circuits[circuit_id]:
            device = self.devices[device_id]
            for phase, amps in zip(
                device.load.site_phases, device.draw_a(self.voltage_v), strict=True
            ):
                total[index[phase]] += amps
        return tuple(total)

    def readings(self, **extra: object) -> Readings:
        """This cycle's readings; each device meter refreshes on its own period."""
        loads = {}
        for device_id, device in self.devices.items():
            if device.shown_a is None or self.cycle % device.meter_every == 0:
                device.shown_a = device.draw_a(self.voltage_v)
            loads[device_id] = LoadReading(draw_a=device.shown_a)
        values: dict[str, object] = {"grid_a": self.grid_a(), "solar_w": 0.0, "loads": loads}
        values.update(extra)
        return Readings(**values)  # type: ignore[arg-type]

    def apply(self, commands: dict[str, Command]) -> None:
        for device_id, command in commands.items():
            device = self.devices.get(device_id)
            if device is None or not command.write:
                continue
            device.on = command.on
            device.current_a = command.current_a if command.on else 0.0
        self.cycle += 1


def evse(load_id: str, phases: int = 3, max_a: float = 16.0, priority: int = 5) -> Load:
    """A continuous charger of 6 A min on the first `phases` site phases."""
    return Load(
        id=load_id,
        kind=LoadKind.EVSE,
        mode=Mode.CONTINUOUS,
        priority=priority,
        phases=phases,
        phase_map=("A", "B", "C")[:phases],
        min_a=6.0,
        max_a=max_a,
    )
