"""A grid or circuit meter without a valid sample this cycle: no load behind it rises.

Ramp numbers: the default ramp is 0.2 A/s, so 1 A per 5 s cycle; a car starts at its 6 A
minimum. Room is far above every car's maximum here, so only the ramp and the blind meter
decide the commands.
"""

from __future__ import annotations

from dataclasses import replace

from load_juggler.engine.control_types import ControlSettings, LoadState, SiteConfig
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Circuit, Load, Mode, Site

from .tinyplant import Device, TinyPlant

STEP_S = 5.0


def _car(load_id: str, circuit: str | None = None) -> Load:
    return Load(
        id=load_id,
        mode=Mode.CONTINUOUS,
        phases=1,
        phase_map=("A",),
        min_a=6.0,
        max_a=16.0,
        circuit=circuit,
    )


def _amps(result, load_id: str) -> float:  # type: ignore[no-untyped-def]
    command = result.commands[load_id]
    return command.current_a if command.on else 0.0


def test_a_grid_glitch_holds_a_ramping_car_until_the_next_valid_sample() -> None:
    car = _car("car")
    controller = Controller(
        SiteConfig(site=Site(phases=1, main_breaker_a=25.0), circuits=(), loads=(car,))
    )
    plant = TinyPlant(phases=1, house_a=[5.0], devices={"car": Device(car)})
    amps = []
    for cycle in range(5):
        readings = plant.readings()
        if cycle == 3:
            readings = replace(readings, grid_a=(1e9,))
        result = controller.step(cycle * STEP_S, readings)
        plant.apply(result.commands)
        amps.append(_amps(result, "car"))
        if cycle == 3:
            assert result.commands["car"].reason == (
                "no raise while the site meter has no valid sample"
            )
    # 6 (start at min), 7, 8, held at 8 while the grid reads 1e9 A, then 9.
    assert amps == [6.0, 7.0, 8.0, 8.0, 9.0]


def test_a_blind_circuit_meter_holds_only_the_loads_behind_it() -> None:
    garage_car = _car("garage_car", circuit="garage")
    street_car = _car("street_car")
    controller = Controller(
        SiteConfig(
            site=Site(phases=1, main_breaker_a=63.0),
            circuits=(Circuit(id="garage", limit_a=32.0),),
            loads=(garage_car, street_car),
        )
    )
    plant = TinyPlant(
        phases=1,
        house_a=[2.0],
        devices={"garage_car": Device(garage_car), "street_car": Device(street_car)},
        circuits={"garage": ("garage_car",)},
    )
    garage, street = [], []
    for cycle in range(5):
        meter = None if cycle == 3 else plant.circuit_a("garage", (0.0,))
        result = controller.step(cycle * STEP_S, plant.readings(circuit_a={"garage": meter}))
        plant.apply(result.commands)
        garage.append(_amps(result, "garage_car"))
        street.append(_amps(result, "street_car"))
    assert garage == [6.0, 7.0, 8.0, 8.0, 9.0]
    assert street == [6.0, 7.0, 8.0, 9.0, 10.0]


def test_a_cut_still_applies_while_the_grid_is_blind() -> None:
    car = _car("car")
    controller = Controller(
        SiteConfig(
            site=Site(phases=1, main_breaker_a=25.0),
            circuits=(),
            loads=(car,),
            settings=ControlSettings(min_on_s=0.0),
        )
    )
    plant = TinyPlant(phases=1, house_a=[5.0], devices={"car": Device(car)})
    for cycle in range(3):
        plant.apply(controller.step(cycle * STEP_S, plant.readings()).commands)
    blind = plant.readings()
    mode_off = {"car": replace(blind.loads["car"], mode=Mode.OFF)}
    result = controller.step(3 * STEP_S, replace(blind, grid_a=(None,), loads=mode_off))
    command = result.commands["car"]
    assert (command.on, command.write, command.state) == (False, True, LoadState.OFF)
