"""The one unit reader every adapter uses."""

import math

import pytest

from load_juggler.units import UnitError, current_a, power_w, temperature_c, unit_of, voltage_v


def test_power_units_are_converted_case_insensitively():
    assert power_w("2", "kW") == 2000.0
    assert power_w("2", "KW") == 2000.0
    assert power_w("0.5", "MW") == 500_000.0
    assert power_w("300", "w") == 300.0
    assert power_w("1.5", None, default_unit="kW") == 1500.0


def test_power_refuses_energy_units_with_entity_and_unit():
    with pytest.raises(UnitError) as err:
        power_w("3", "kWh", entity_id="sensor.solar")
    assert str(err.value).startswith("sensor.solar reports unit 'kWh', which is not a power")


def test_current_converts_power_per_phase_and_milliamps():
    assert current_a("-300", "W", 230.0) == pytest.approx(-300 / 230)
    assert current_a("2.3", "kW", 230.0) == pytest.approx(10.0)
    assert current_a("1500", "mA", 230.0) == pytest.approx(1.5)
    assert current_a("7", None, 230.0) == 7.0
    with pytest.raises(UnitError):
        current_a("7", "V", 230.0, entity_id="sensor.grid_l1")


def test_unavailable_values_are_none_and_units_still_checked():
    assert power_w("unavailable", "W") is None
    assert current_a(math.nan, "A", 230.0) is None
    with pytest.raises(UnitError):
        power_w("unavailable", "kWh")


def test_voltage_and_unit_of():
    assert voltage_v("0.4", "kV") == 400.0
    assert unit_of({"state": "1", "attributes": {"unit_of_measurement": " kW "}}) == "kW"
    assert unit_of({"state": "1", "attributes": {}}) is None
    assert unit_of(None) is None
    with pytest.raises(UnitError):
        voltage_v("230", "A")


def test_temperatures_in_celsius_fahrenheit_and_kelvin():
    assert temperature_c("55", "°C") == 55.0
    assert temperature_c("55", None) == 55.0  # no unit: Celsius
    assert temperature_c("131", "°F") == pytest.approx(55.0)
    assert temperature_c("328.15", "K") == pytest.approx(55.0)
    assert temperature_c("nan", "°C") is None
    with pytest.raises(
        UnitError, match=r"sensor\.tank reports unit 'W', which is not a temperature"
    ):
        temperature_c("55", "W", entity_id="sensor.tank")
