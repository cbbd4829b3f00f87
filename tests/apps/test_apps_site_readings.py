"""Reading the site's sensors (pure `SiteReader`): units through `load_juggler.units`, a wrong
unit refused once per episode and read as unavailable, line-to-line voltages converted, circuit
meters read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from load_juggler.config import parse_hub
from load_juggler.site_readings import Episodes, SiteReader

BASE: dict[str, Any] = {
    "site": {"phases": 3, "voltage": 230, "main_breaker_a": 25},
    "sensors": {
        "grid_current": ["sensor.g1", "sensor.g2", "sensor.g3"],
        "solar_power": "sensor.solar",
        "voltage": "sensor.volts",
        "battery_soc": "sensor.soc",
        "battery_power": "sensor.bat",
        "max_import": "sensor.cap",
    },
    "battery": {"max_charge_w": 5000, "max_discharge_w": 5000},
    "circuits": {
        "garage": {
            "limit_a": 20,
            "current_sensor": "sensor.garage",
            "current_phase_attributes": ["ia", "ib", "ic"],
        },
        "shed": {"max_power_w": 3000, "power_sensor": "sensor.shed"},
    },
}


class Site:
    """Entity states by id, and the lines the reader logged."""

    def __init__(self, args: dict[str, Any] | None = None) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []
        self.infos: list[str] = []
        config = parse_hub("h", args or BASE)
        self.reader = SiteReader(config, self.full_state, Episodes(self.log))
        for n, entity in enumerate(("sensor.g1", "sensor.g2", "sensor.g3")):
            self.set(entity, 2 + n, "A")
        self.set("sensor.solar", 1.5, "kW")
        self.set("sensor.volts", 231, "V")
        self.set("sensor.soc", 55, "%")
        self.set("sensor.bat", -800, "W")
        self.set("sensor.cap", 5, "kW")
        self.set("sensor.garage", 0, "A", ia=4.0, ib="5.5", ic=0)
        self.set("sensor.shed", 1.2, "kW")

    def log(self, line: str, level: str) -> None:
        (self.warnings if level == "WARNING" else self.infos).append(line)

    def set(self, entity: str, state: Any, unit: str | None = None, **attrs: Any) -> None:
        if unit is not None:
            attrs["unit_of_measurement"] = unit
        self.states[entity] = {"state": str(state), "attributes": attrs}

    def full_state(self, entity: str) -> Mapping[str, Any] | None:
        return self.states.get(entity)

    def read(self) -> Any:
        volts = self.reader.voltage()
        return self.reader.read(volts or 230.0, volts)


def test_every_sensor_read_in_its_unit() -> None:
    site = Site()
    r = site.read()
    assert r.grid_a == (2.0, 3.0, 4.0)
    assert r.solar_w == 1500.0
    assert r.voltage_v == 231.0
    assert r.battery_soc_pct == 55.0
    assert r.battery_power_w == -800.0
    assert r.max_import_w == 5000.0
    assert r.circuit_a == {"garage": (4.0, 5.5, 0.0)}
    assert r.circuit_power_w == {"shed": 1200.0}
    assert site.warnings == []


def test_grid_in_watts_or_milliamps_is_converted_per_phase() -> None:
    site = Site()
    site.set("sensor.g1", 1.15, "kW")  # 1150 W / 230 V = 5 A
    site.set("sensor.g2", 2500, "mA")
    site.set("sensor.g3", -460, "W")
    site.set("sensor.volts", 230, "V")
    assert site.read().grid_a == (5.0, 2.5, -2.0)


def test_a_wrong_unit_is_refused_once_and_reads_as_unavailable() -> None:
    site = Site()
    site.set("sensor.g2", 3, "kWh")
    site.set("sensor.solar", 40, "°C")
    site.set("sensor.soc", 7.5, "kWh")
    first = site.read()
    assert first.grid_a == (2.0, None, 4.0)
    assert first.solar_w is None
    assert first.battery_soc_pct is None
    site.read()
    assert site.warnings == [
        "sensor.g2 reports unit 'kWh', which is not a current or a power (A, mA, W, kW or MW); "
        "its value is ignored until the unit is fixed",
        "sensor.solar reports unit '°C', which is not a power (W, kW or MW); its value is "
        "ignored until the unit is fixed",
        "sensor.soc reports unit 'kWh', which is not a state of charge (% or no unit); its "
        "value is ignored until the unit is fixed",
    ]
    site.set("sensor.g2", 3, "A")
    assert site.read().grid_a == (2.0, 3.0, 4.0)
    assert site.infos == ["sensor.g2 reports a usable unit again ('A')"]


def test_soc_without_unit_is_accepted() -> None:
    site = Site()
    site.set("sensor.soc", 80)
    assert site.read().battery_soc_pct == 80.0


def test_values_in_the_right_unit_are_passed_on_for_the_controller_to_judge() -> None:
    # One bound per quantity: an impossible value is the controller's glitch (engine.plausible).
    site = Site()
    site.set("sensor.soc", 300, "%")
    site.set("sensor.g1", -4000, "A")
    r = site.read()
    assert (r.battery_soc_pct, r.grid_a[0]) == (300.0, -4000.0)
    assert site.warnings == []


def test_an_import_cap_beyond_the_breakers_is_a_glitch() -> None:
    site = Site()
    site.set("sensor.cap", 34.5, "kW")  # 2 x 25 A x 230 V x 3 = 34500 W: still possible
    assert site.read().max_import_w == 34500.0
    site.set("sensor.cap", 34.6, "kW")
    assert site.read().max_import_w is None
    site.read()
    assert site.warnings == [
        "sensor.cap reads 34600 W, more than 2 x what the main breaker carries (34500 W): "
        "ignored as a glitch, the last good cap holds"
    ]
    site.set("sensor.cap", 11, "kW")
    assert site.read().max_import_w == 11000.0
    assert site.infos == ["sensor.cap reads a plausible import cap again"]


def test_import_cap_at_zero_or_below_passes_through() -> None:
    site = Site()
    site.set("sensor.cap", 0, "W")
    assert site.read().max_import_w == 0.0
    site.set("sensor.cap", -1, "kW")
    assert site.read().max_import_w == -1000.0


def test_line_to_line_voltage_is_divided_by_sqrt3_with_one_warning() -> None:
    site = Site()
    site.set("sensor.volts", 400, "V")
    assert site.read().voltage_v == pytest.approx(230.94, abs=0.01)
    site.read()
    assert site.warnings == [
        "sensor.volts reads 400 V, a line-to-line voltage on a 230 V site: using 231 V "
        "(divided by √3); point sensors.voltage at a phase-to-neutral voltage to silence this"
    ]
    site.set("sensor.volts", 0.6, "kV")  # 600 V: neither kind
    assert site.read().voltage_v is None
    site.set("sensor.volts", 229, "V")
    assert site.read().voltage_v == 229.0
    site.set("sensor.volts", 600, "V")
    assert site.read().voltage_v is None
    assert site.warnings[-1] == (
        "sensor.volts reads 600 V, implausible on a 230 V site: ignored, using 230 V until it "
        "reads a phase voltage again"
    )


def test_grid_power_with_phase_attributes_and_invert() -> None:
    args = {
        "site": {"phases": 3, "voltage": 230, "main_breaker_a": 25},
        "sensors": {"grid_power": "sensor.net", "grid_invert": True},
    }
    site = Site(args)
    site.set("sensor.net", 0, "kW", L1=0.46, L2=-0.23, L3="x")
    assert site.read().grid_a == (-2.0, 1.0, None)


def test_a_voltage_that_drops_out_is_held_until_stale() -> None:
    site = Site()  # control.sensor_stale_timeout_s defaults to 300 s
    assert site.reader.cycle_voltage(0.0) == (231.0, 231.0)
    site.set("sensor.volts", "unavailable", "V")
    assert site.reader.cycle_voltage(299.0) == (None, 231.0)  # the last good one, held
    assert site.reader.cycle_voltage(300.0) == (None, 230.0)  # stale: the site's nominal
    site.set("sensor.volts", 228, "V")
    assert site.reader.cycle_voltage(305.0) == (228.0, 228.0)


def test_a_state_of_charge_reads_with_percent_or_no_unit_only() -> None:
    site = Site()
    site.set("sensor.soc", 61.5)  # no unit: taken as %
    assert site.read().battery_soc_pct == 61.5
    site.set("sensor.soc", 62, " % ")
    assert site.read().battery_soc_pct == 62.0
    site.set("sensor.soc", 0.63, "kWh")
    assert site.read().battery_soc_pct is None
    assert site.warnings == [
        "sensor.soc reports unit 'kWh', which is not a state of charge (% or no unit); "
        "its value is ignored until the unit is fixed"
    ]
