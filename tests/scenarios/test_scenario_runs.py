"""Whole scenarios through the simulator: the controller, the real engine and the plant together."""

from __future__ import annotations

import pytest

from .running import DATA, on_off_changes, series, simulate, total_overload_s


def test_garage_circuit_never_overloads_and_shares_the_20_a_breaker() -> None:
    result = simulate("garage-circuit")
    metrics = result.metrics
    assert total_overload_s(metrics) == 0.0
    assert set(metrics["overload_s"]) == {
        "site.A", "site.B", "site.C", "garage.A", "garage.B", "garage.C",
    }  # fmt: skip
    assert metrics["peak_a"]["garage.A"] == 20.0
    assert metrics["peak_a"]["site.A"] == 22.0
    assert result.final == {
        "evse1": {"allocated_a": 10.0, "on": True},
        "evse2": {"allocated_a": 10.0, "on": True},
    }
    for step in result.steps:
        assert step["loads"]["evse1"] + step["loads"]["evse2"] <= 20.0 + 1e-9
    assert metrics["start_stops"] == {"evse1": 1, "evse2": 1}


def test_solar_day_car_and_boiler_share_the_sun_minimums_first() -> None:
    result = simulate("solar-day")
    metrics = result.metrics
    assert total_overload_s(metrics) == 0.0
    car = on_off_changes(result, "car")
    # Surplus covers the 6 A minimum from 600 s on (after smoothing 605 s), plus the 60 s delay.
    assert car[0] == (670.0, True)
    assert series(result, "car")[670.0] == 6.0
    # At 1200 s: 9000 W sun - 6.5 A x 230 V of house = 7505 W covers the car's 4140 W minimum
    # and the boiler's 2000 W: minimums come before the car's extra, so the boiler starts
    # after its 60 s start delay. The car may have (7505 - 2000) / 690 = 7.98 -> 7.9 A; it
    # stays at the 7.5 A it had, the 0.4 A raise being inside the 0.5 A write deadband.
    boiler = on_off_changes(result, "boiler")
    assert boiler[0] == (1260.0, True)
    assert series(result, "car")[1255.0] == 7.5
    # The 60 s cloud at 1800 s: both are held at their minimum during their stop delay.
    assert series(result, "car")[1830.0] == 6.0
    assert series(result, "boiler")[1830.0] > 0
    # When the sun returns both are still in their stop delay. The boiler held at its min
    # keeps its rank (excess, after the solar_only car): its min comes after the car's, so
    # the car, whose min the returning sun covers, keeps charging and never pauses.
    assert series(result, "car")[1860.0] == 6.0
    assert car[1:] == [(2880.0, False)]
    assert metrics["start_stops"]["car"] == 1
    # At 2700 s the sun drops to 4000 W: the car holds its min in its stop delay and, ranked
    # first, eats the sun, so the boiler has no export left above the threshold and stops;
    # it starts again when the car's stop delay ends and frees the sun.
    assert boiler[1:] == [(2700.0, False), (2880.0, True), (3480.0, False)]


def test_grid_sensor_lost_falls_back_to_min_after_60_s_and_recovers() -> None:
    result = simulate("grid-sensor-lost")
    car = series(result, "car")
    assert total_overload_s(result.metrics) == 0.0
    assert car[195.0] == 16.0
    # Last valid reading at 195 s: the held value serves until 255 s, then the fallback.
    assert car[250.0] == 16.0
    assert all(car[t] == 6.0 for t in car if 255.0 <= t < 500.0)
    assert car[500.0] == 7.0
    assert car[545.0] == 16.0
    messages = [(t, m.split(":")[0]) for t, m in result.messages]
    assert messages == [
        (255.0, "grid current sensor has no valid value for 60 s"),
        (500.0, "grid current sensor is back"),
    ]


def test_a_hold_at_min_never_overrides_the_breaker() -> None:
    """Sun gone and house at 21 A: holding the car at 6 A would need 27 A, so it is cut at once."""
    result = simulate("breaker-cut-during-hold")
    assert on_off_changes(result, "car") == [(60.0, True), (400.0, False)]
    # The only overload is the reading that shows the house jump, before the controller acted.
    assert result.metrics["overload_s"] == {"site.A": 5.0, "site.B": 5.0, "site.C": 5.0}
    assert result.steps[81]["t"] == 405.0
    assert result.steps[81]["grid_a"] == [21.0, 21.0, 21.0]


def test_battery_discharges_at_its_limit_and_soc_integrates() -> None:
    result = simulate("battery-evening")
    assert total_overload_s(result.metrics) == 0.0
    # solar_priority at night, battery at 90 % (above target): min, or the battery's 3000 W
    # potential less the 1380 W house = 1620 W = 2.3 A if more: 6 A, never grid above min.
    assert result.final["car"] == {"allocated_a": 6.0, "on": True}
    assert set(result.series.battery_w[1:]) == {-3000.0}
    # 1380 W for the first 5 s, then 3 kW for 895 s, out of 10 kWh: 7.48 points of SoC.
    assert result.series.soc_pct[-1] == pytest.approx(82.52, abs=0.01)
    # The grid covers the rest of the car's minimum: 1380 + 4140 - 3000 = 2520 W for 895 s.
    assert result.metrics["import_wh"] == pytest.approx(2520.0 * 895.0 / 3600.0, abs=0.01)


def test_battery_below_target_charges_first_and_the_solar_only_car_waits() -> None:
    result = simulate("battery-noon")
    assert result.metrics["start_stops"]["car"] == 0
    assert set(result.series.battery_w) == {3000.0}
    assert result.series.soc_pct[-1] == pytest.approx(57.5, abs=0.01)
    # 6 kW sun - 1.38 kW house - 3 kW battery = 1.62 kW exported for 15 min.
    assert result.metrics["export_wh"] == pytest.approx(405.0, abs=0.01)
    assert result.metrics["import_wh"] == 0.0


def test_live_mode_switches_and_a_leaving_car() -> None:
    result = simulate("live-changes")
    assert on_off_changes(result, "car") == [
        (0.0, True),
        (300.0, False),  # mode off: at once
        (480.0, True),  # back to continuous at 400 s, min off time (180 s) ends at 480 s
        (700.0, False),  # car leaves
    ]
    assert on_off_changes(result, "heater") == [(300.0, True)]
    assert series(result, "heater")[300.0] == 10.0
    # Phase B carries house 2 A + heater 10 A, so the car is held to 13 A there.
    assert series(result, "car")[690.0] == 13.0
    assert result.metrics["peak_a"]["site.B"] == 25.0
    assert total_overload_s(result.metrics) == 0.0


def test_the_data_folder_holds_this_suites_own_files() -> None:
    assert {p.name for p in DATA.glob("*.yaml")} >= {
        "garage-circuit.yaml",
        "solar-day.yaml",
        "grid-sensor-lost.yaml",
    }
