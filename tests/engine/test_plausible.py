"""The bounds of a believable reading (`engine.plausible`), worked by hand at their edges.

A bound one ampere too tight hides a real overload (the loads are never cut); one too wide lets a
broken meter hand out current. Each edge is tested on both sides.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.model import BatteryConfig, InverterLimits, Load, LoadKind, Site
from load_juggler.engine.plausible import (
    battery_plausible,
    circuit_bound_a,
    circuit_plausible,
    circuit_power_plausible,
    grid_bounds_a,
    grid_plausible,
    import_bound_text,
    inverter_phase_a,
    load_draw_max_a,
    nominal_voltage_range_v,
    rated_a,
    soc_plausible,
    solar_plausible,
    volts_plausible,
)

SITE = Site(phases=3, voltage_v=230.0, main_breaker_a=25.0)


def test_inverter_phase_current_from_its_limits() -> None:
    assert inverter_phase_a(SITE) is None
    # An inverter section with neither limit caps nothing.
    assert inverter_phase_a(Site(phases=3, main_breaker_a=25.0, inverter=InverterLimits())) is None
    # 6900 W over three phases at 230 V: 10 A per phase; asymmetric, all of it on one phase.
    symmetric = Site(
        phases=3, main_breaker_a=25.0, inverter=InverterLimits(max_w=6900.0, asymmetric=False)
    )
    assert inverter_phase_a(symmetric) == pytest.approx(10.0)
    asymmetric = Site(phases=3, main_breaker_a=25.0, inverter=InverterLimits(max_w=6900.0))
    assert inverter_phase_a(asymmetric) == pytest.approx(30.0)
    # The per-phase cap (2300 W: 10 A) wins over the total's 30 A.
    both = InverterLimits(max_w=6900.0, max_w_per_phase=2300.0)
    assert inverter_phase_a(Site(phases=3, main_breaker_a=25.0, inverter=both)) == pytest.approx(
        10.0
    )
    per_phase_only = InverterLimits(max_w_per_phase=4600.0)
    assert inverter_phase_a(
        Site(phases=3, main_breaker_a=25.0, inverter=per_phase_only)
    ) == pytest.approx(20.0)


def test_grid_bounds_are_twice_the_breaker_and_the_inverter_for_export() -> None:
    assert grid_bounds_a(SITE) == (50.0, 50.0)
    # Export: 1.2 x 10 A + 1 A = 13 A.
    site = Site(
        phases=3, main_breaker_a=25.0, inverter=InverterLimits(max_w=6900.0, asymmetric=False)
    )
    assert grid_bounds_a(site) == (50.0, pytest.approx(13.0))


def test_grid_import_bound_grows_by_the_managed_draw_only() -> None:
    assert grid_plausible(SITE, 50.0) and not grid_plausible(SITE, 50.01)
    assert grid_plausible(SITE, -50.0) and not grid_plausible(SITE, -50.01)
    # 30 A of managed draw on the phase: import up to 80 A, export still 50 A.
    assert grid_plausible(SITE, 80.0, 30.0) and not grid_plausible(SITE, 80.01, 30.0)
    assert not grid_plausible(SITE, -50.01, 30.0)
    # A negative managed draw (a meter's offset) never narrows the bound.
    assert grid_plausible(SITE, 50.0, -5.0)
    assert not grid_plausible(SITE, -100000.0, 30.0)
    assert not grid_plausible(SITE, 100000.0, 30.0)


def test_circuit_bounds_from_its_breaker_or_the_sites() -> None:
    assert circuit_bound_a(SITE, 16.0) == 32.0
    assert circuit_bound_a(SITE, None) == 50.0
    assert circuit_plausible(SITE, 16.0, 32.0) and not circuit_plausible(SITE, 16.0, 32.01)
    assert circuit_plausible(SITE, 16.0, -32.0) and not circuit_plausible(SITE, 16.0, -32.01)
    assert circuit_plausible(SITE, None, 50.0) and not circuit_plausible(SITE, None, 50.01)
    # 10 A of managed draw behind it: 42 A, and no more.
    assert circuit_plausible(SITE, 16.0, 42.0, 10.0) and not circuit_plausible(
        SITE, 16.0, 42.01, 10.0
    )
    assert circuit_plausible(SITE, 16.0, 32.0, -3.0)


def test_circuit_power_bounds() -> None:
    assert circuit_power_plausible(SITE, 5000.0, 10000.0)
    assert not circuit_power_plausible(SITE, 5000.0, 10000.01)
    assert circuit_power_plausible(SITE, 5000.0, -10000.0)
    assert not circuit_power_plausible(SITE, 5000.0, -10000.01)
    assert circuit_power_plausible(SITE, 5000.0, 12000.0, 2000.0)
    assert not circuit_power_plausible(SITE, 5000.0, 12000.01, 2000.0)
    assert circuit_power_plausible(SITE, 5000.0, 10000.0, -1.0)
    # Without its own limit: what the main breaker carries twice, 2 x 25 A x 230 V x 3 = 34500 W.
    assert circuit_power_plausible(SITE, None, 34500.0)
    assert not circuit_power_plausible(SITE, None, 34500.01)


def test_solar_bounds() -> None:
    assert solar_plausible(SITE, -500.0) and not solar_plausible(SITE, -500.01)
    assert solar_plausible(SITE, 34500.0) and not solar_plausible(SITE, 34500.01)
    site = Site(phases=3, main_breaker_a=25.0, inverter=InverterLimits(max_w=5000.0))
    assert solar_plausible(site, 6000.0) and not solar_plausible(site, 6000.01)


def test_battery_bounds() -> None:
    assert battery_plausible(SITE, 34500.0) and not battery_plausible(SITE, 34500.01)
    battery = BatteryConfig(max_charge_w=3000.0, max_discharge_w=5000.0)
    site = Site(phases=3, main_breaker_a=25.0, battery=battery)
    # 1.2 x 5000 W + 500 W = 6500 W, both ways.
    assert battery_plausible(site, 6500.0) and not battery_plausible(site, 6500.01)
    assert battery_plausible(site, -6500.0) and not battery_plausible(site, -6500.01)
    # No rated power given: the main breaker's bound.
    unrated = Site(phases=3, main_breaker_a=25.0, battery=BatteryConfig())
    assert battery_plausible(unrated, 34500.0) and not battery_plausible(unrated, 34500.01)


def test_soc_and_voltage_bounds() -> None:
    assert soc_plausible(0.0) and soc_plausible(100.0)
    assert not soc_plausible(-0.01) and not soc_plausible(100.01)
    assert soc_plausible(0.5)
    assert nominal_voltage_range_v(230.0) == (180.0, 260.0)
    assert nominal_voltage_range_v(120.0) == (90.0, 140.0)
    assert nominal_voltage_range_v(160.0) == (180.0, 260.0)
    assert volts_plausible(230.0, 180.0) and volts_plausible(230.0, 260.0)
    assert not volts_plausible(230.0, 179.99) and not volts_plausible(230.0, 260.01)


def test_a_loads_rated_current_and_draw_bound() -> None:
    plug = Load(id="p", kind=LoadKind.PLUG, power_w=2300.0, phases=1, phase_map=("A",))
    assert rated_a(plug, 230.0) == pytest.approx(10.0)
    three = Load(id="h", kind=LoadKind.PLUG, power_w=6900.0, phases=3)
    assert rated_a(three, 230.0) == pytest.approx(10.0)
    car = Load(id="c", kind=LoadKind.EVSE, max_a=16.0, power_w=11000.0)
    assert rated_a(car, 230.0) == 16.0
    # 1.25 x max(16, command) + 2 A.
    assert load_draw_max_a(car, 230.0, 6.0) == pytest.approx(22.0)
    assert load_draw_max_a(car, 230.0, 20.0) == pytest.approx(27.0)


@pytest.mark.parametrize(
    ("managed_a", "text"),
    [
        (0.0, "-50.0..50.0 A"),
        (-1.0, "-50.0..50.0 A"),
        (0.5, "-50.0..50.5 A with the managed loads' 0.5 A"),
        (7.0, "-50.0..57.0 A with the managed loads' 7.0 A"),
    ],
)
def test_the_warning_states_the_bound_it_applied(managed_a: float, text: str) -> None:
    assert import_bound_text(-50.0, 50.0, managed_a) == text
