"""Site sensors: circuit meters, import cap at or below 0, staleness, plausibility bounds."""

from __future__ import annotations

from load_juggler.engine.control_types import (
    ControlSettings,
    CycleResult,
    LoadReading,
    Readings,
    SiteConfig,
    SiteStatus,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import (
    BatteryConfig,
    Circuit,
    InverterLimits,
    Load,
    LoadKind,
    Mode,
    Site,
)

from .scripted import ScriptedEngine, car
from .tinyplant import Device, TinyPlant

QUICK = ControlSettings(ramp_up_a_per_s=100.0)


def _scripted(site: Site, **settings: object) -> tuple[Controller, ScriptedEngine]:
    engine = ScriptedEngine()
    load = car(mode=Mode.CONTINUOUS)
    if site.phases == 1:
        load = car(mode=Mode.CONTINUOUS, phases=1, phase_map=("A",))
    plant = SiteConfig(
        site=site,
        circuits=(),
        loads=(load,),
        settings=ControlSettings(**settings),  # type: ignore[arg-type]
    )
    return Controller(plant, allocate_fn=engine), engine


def _read(**values: object) -> Readings:
    values.setdefault("grid_a", (1.0, 1.0, 1.0))
    return Readings(loads={"car": LoadReading()}, **values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ import cap


def test_an_import_cap_at_or_below_0_means_green_power_only() -> None:
    load = Load(id="car", mode=Mode.CONTINUOUS, min_a=6.0, max_a=16.0)
    controller = Controller(SiteConfig(site=Site(), circuits=(), loads=(load,), settings=QUICK))
    sunny = dict(grid_a=(-6.0, -6.0, -6.0), solar_w=4140.0)
    for t, cap in ((0.0, 0.0), (5.0, -500.0), (10.0, 0.0)):
        result = controller.step(
            t,
            Readings(max_import_w=cap, loads={"car": LoadReading()}, **sunny),  # type: ignore[arg-type]
        )
        assert result.status is SiteStatus.OK
        # 4140 W of export = 6 A on each phase: exactly the car's minimum, no grid on top.
        assert result.commands["car"].current_a == 6.0
    dark = controller.step(
        15.0,
        Readings(
            grid_a=(0.0, 0.0, 0.0), solar_w=0.0, max_import_w=0.0, loads={"car": LoadReading()}
        ),
    )
    assert dark.status is SiteStatus.OK
    assert dark.commands["car"].on is False


def test_a_cap_at_0_reaches_the_engine_as_no_grid_charging_without_a_cap() -> None:
    controller, engine = _scripted(Site(max_import_w=10000.0))
    controller.step(0.0, _read(max_import_w=0.0))
    assert engine.last.site.allow_grid_charging is False
    assert engine.last.site.max_import_w is None
    controller.step(5.0, _read(max_import_w=3000.0))
    assert engine.last.site.allow_grid_charging is True
    assert engine.last.site.max_import_w == 3000.0


def test_a_stale_import_cap_is_the_most_cautious_of_configured_and_the_last_hour() -> None:
    controller, engine = _scripted(Site(max_import_w=10000.0))
    controller.step(0.0, _read(max_import_w=3000.0))
    controller.step(100.0, _read(max_import_w=8000.0))
    result = controller.step(395.0, _read())
    assert engine.last.site.max_import_w == 8000.0  # held: 295 s without a value
    assert result.warnings == ()
    result = controller.step(400.0, _read())  # 300 s: stale
    assert engine.last.site.max_import_w == 3000.0  # lowest seen in the last hour
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("import cap sensor has no valid value for 300 s")
    controller.step(3650.0, _read())  # the 3000 W sample (t = 0) is over an hour old
    assert engine.last.site.max_import_w == 8000.0
    controller.step(3750.0, _read())
    assert engine.last.site.max_import_w == 10000.0  # the configured cap


# --------------------------------------------------------------------------------- battery


def test_a_stale_battery_counts_as_idle_with_an_unknown_soc() -> None:
    site = Site(battery=BatteryConfig(max_charge_w=5000.0, max_discharge_w=5000.0))
    controller, engine = _scripted(site, sensor_stale_timeout_s=300.0)
    controller.step(0.0, _read(battery_power_w=-3000.0, battery_soc_pct=90.0))
    controller.step(295.0, _read())
    assert (engine.last.battery_power_w, engine.last.battery_soc_pct) == (-3000.0, 90.0)
    result = controller.step(300.0, _read())
    assert engine.last.battery_power_w == 0.0
    assert engine.last.battery_soc_pct is None
    assert engine.last.battery_levels is None
    assert len(result.warnings) == 2


def test_an_out_of_range_soc_and_an_impossible_battery_power_are_held() -> None:
    site = Site(battery=BatteryConfig(max_charge_w=5000.0, max_discharge_w=5000.0))
    controller, engine = _scripted(site)
    controller.step(0.0, _read(battery_power_w=1000.0, battery_soc_pct=55.0))
    result = controller.step(5.0, _read(battery_power_w=-90000.0, battery_soc_pct=150.0))
    assert engine.last.battery_soc_pct == 55.0
    assert engine.last.battery_power_w == 1000.0
    assert result.warnings == (
        "battery SoC reading 150.0 % is implausible (allowed 0..100 %): "
        "treated as unavailable, last good value held",
        "battery power reading -90000.0 W is implausible (allowed its rated charge/discharge "
        "power): treated as unavailable, last good value held",
    )
    controller.step(10.0, _read(battery_soc_pct=-1.0))
    assert engine.last.battery_soc_pct == 55.0


def test_a_missing_solar_sample_never_gives_more_than_the_last_one_repeated() -> None:
    controller, engine = _scripted(Site())
    controller.step(0.0, _read(solar_w=4000.0))
    controller.step(5.0, _read(solar_w=2000.0))  # average 3000, falling
    controller.step(10.0, _read(solar_w=None))
    assert engine.last.solar_w == 2500.0  # as if 2000 came again, not a held 3000
    controller.step(15.0, _read(solar_w=6000.0))  # 4250
    controller.step(20.0, _read(solar_w="unknown"))
    assert engine.last.solar_w == 4250.0  # rising: held, not raised


# ---------------------------------------------------------------------- plausibility bounds


def test_voltage_outside_the_mains_range_is_not_used() -> None:
    controller, engine = _scripted(Site())
    controller.step(0.0, _read(voltage_v=235.0))
    for bad in (400.0, 170.0, 0.0, 261.0):
        controller.step(5.0, _read(voltage_v=bad))
        assert engine.last.site.voltage_v == 235.0
    controller.step(10.0, _read(voltage_v=259.0))
    assert engine.last.site.voltage_v == 247.0  # EMA 0.5: (235 + 259) / 2


def test_a_120_v_site_takes_90_to_140_v() -> None:
    controller, engine = _scripted(Site(phases=1, voltage_v=120.0))
    controller.step(0.0, _read(grid_a=(1.0,), voltage_v=230.0))
    assert engine.last.site.voltage_v == 120.0  # configured: 230 V is not a 120 V reading
    controller.step(5.0, _read(grid_a=(1.0,), voltage_v=118.0))
    assert engine.last.site.voltage_v == 118.0


def test_export_beyond_the_inverter_and_solar_beyond_its_rating_are_glitches() -> None:
    site = Site(inverter=InverterLimits(max_w=5000.0, max_w_per_phase=3680.0))
    controller, engine = _scripted(site)
    controller.step(0.0, _read(grid_a=(-10.0, 2.0, 2.0), solar_w=4000.0))
    # Per phase the inverter gives at most 3680 / 230 = 16 A: 1.2 x 16 + 1 = 20.2 A of export.
    result = controller.step(5.0, _read(grid_a=(-25.0, 2.0, 2.0), solar_w=6500.0))
    assert engine.last.grid_a is not None and engine.last.grid_a[0] == -10.0
    assert engine.last.solar_w == 4000.0  # 6500 W > 1.2 x 5000 W
    assert [w.split(" reading")[0] for w in result.warnings] == ["grid phase A", "solar power"]
    controller.step(10.0, _read(grid_a=(-20.0, 2.0, 2.0), solar_w=5900.0))
    assert engine.last.grid_a is not None and engine.last.grid_a[0] == -15.0  # EMA of -20
    assert engine.last.solar_w == 4950.0


def test_import_above_twice_the_main_breaker_is_a_glitch() -> None:
    controller, engine = _scripted(Site(main_breaker_a=25.0))
    controller.step(0.0, _read(grid_a=(10.0, 10.0, 10.0)))
    controller.step(5.0, _read(grid_a=(50.1, 49.9, 10.0)))
    assert engine.last.grid_a == (10.0, 49.9, 10.0)


# -------------------------------------------------------------------------- circuit meters


def _garage_site(circuits: tuple[Circuit, ...], load: Load) -> tuple[Controller, TinyPlant]:
    plant_cfg = SiteConfig(
        site=Site(main_breaker_a=63.0), circuits=circuits, loads=(load,), settings=QUICK
    )
    controller = Controller(plant_cfg)
    plant = TinyPlant(
        phases=3,
        house_a=[8.0, 8.0, 8.0],
        devices={load.id: Device(load)},
        circuits={"garage": (load.id,)},
    )
    return controller, plant


def _run_metered(
    controller: Controller, plant: TinyPlant, cycles: int, meter: bool = True
) -> list[CycleResult]:
    results = []
    for n in range(cycles):
        extra = {
            "circuit_a": {"garage": plant.circuit_a("garage", (8.0, 8.0, 8.0)) if meter else None}
        }
        result = controller.step(5.0 * n, plant.readings(**extra))
        plant.apply(result.commands)
        results.append(result)
    return results


def test_a_circuit_meter_counts_the_unmanaged_loads_of_a_sub_panel() -> None:
    # The garage sub-panel (20 A) feeds a wallbox circuit with the car, and 8 A of other loads.
    load = Load(id="car", mode=Mode.CONTINUOUS, min_a=6.0, max_a=16.0, circuit="wallbox")
    circuits = (
        Circuit(id="garage", limit_a=20.0),
        Circuit(id="wallbox", parent="garage", limit_a=16.0),
    )
    controller, plant = _garage_site(circuits, load)
    results = _run_metered(controller, plant, 6)
    # 20 A - 8 A measured background = 12 A (without the meter: 16 A).
    assert results[-1].commands["car"].current_a == 12.0
    assert plant.circuit_a("garage", (8.0, 8.0, 8.0)) == (20.0, 20.0, 20.0)
    assert results[-1].snapshot is not None
    assert results[-1].snapshot.circuit_background_a == {"garage": (8.0, 8.0, 8.0)}


def test_a_circuit_power_meter_is_checked_against_max_power_w() -> None:
    load = Load(
        id="car",
        mode=Mode.CONTINUOUS,
        phases=1,
        phase_map=("A",),
        min_a=6.0,
        max_a=16.0,
        circuit="garage",
    )
    controller = Controller(
        SiteConfig(
            site=Site(main_breaker_a=63.0),
            circuits=(Circuit(id="garage", max_power_w=3680.0),),
            loads=(load,),
            settings=QUICK,
        )
    )
    plant = TinyPlant(phases=3, house_a=[5.0, 0.0, 0.0], devices={"car": Device(load)})
    for n in range(6):
        car_w = plant.devices["car"].draw_a(230.0)[0] * 230.0
        result = controller.step(
            5.0 * n, plant.readings(circuit_power_w={"garage": 1150.0 + car_w})
        )
        plant.apply(result.commands)
    # (3680 W - 1150 W unmanaged) / 230 V = 11 A.
    assert result.commands["car"].current_a == 11.0


def test_a_stale_circuit_meter_falls_back_to_the_configured_accounting_once() -> None:
    load = Load(id="car", mode=Mode.CONTINUOUS, min_a=6.0, max_a=16.0, circuit="garage")
    controller, plant = _garage_site((Circuit(id="garage", limit_a=20.0),), load)
    metered = _run_metered(controller, plant, 4)
    assert metered[-1].commands["car"].current_a == 12.0
    blind = []
    for n in range(4, 20):  # last valid value at t = 15 s
        result = controller.step(5.0 * n, plant.readings(circuit_a={"garage": (None, None, None)}))
        plant.apply(result.commands)
        blind.append(result)
    by_t = {r.now_s: r for r in blind}
    assert by_t[70.0].commands["car"].current_a == 12.0  # held for 55 s
    lines = [w for r in blind for w in r.warnings]
    assert lines == [
        "circuit 'garage' current meter has no valid value for 60 s: its limit is checked "
        "from the configured loads only"
    ]
    assert by_t[75.0].warnings == tuple(lines)
    assert by_t[95.0].commands["car"].current_a == 16.0  # accounting only: 20 A for the car


def test_a_plug_rated_current_is_what_it_is_trusted_with_when_on() -> None:
    heater = Load(
        id="heater",
        kind=LoadKind.PLUG,
        mode=Mode.CONTINUOUS,
        phases=1,
        phase_map=("A",),
        power_w=2300.0,
        min_a=10.0,
        max_a=10.0,
    )
    engine = ScriptedEngine()
    controller = Controller(
        SiteConfig(site=Site(), circuits=(), loads=(heater,)), allocate_fn=engine
    )
    controller.step(
        0.0, Readings(grid_a=(12.0, 0.0, 0.0), loads={"heater": LoadReading(draw_a=(0.0,))})
    )
    controller.step(
        5.0, Readings(grid_a=(14.0, 0.0, 0.0), loads={"heater": LoadReading(draw_a=(13.0,))})
    )
    # 2300 W / 230 V = 10 A; 13 A is beyond 10 + 1 A tolerance, so its rated 10 A counts.
    assert engine.last.loads[0].draw_a == (10.0,)
