"""The plot's temperature panel holds the house's indoor temperature of each climate boost
next to the tanks. Hand-worked: the house of `climate-boost-noon` loses 150 W/K to 5 C
outside and holds 3000 Wh/K, so at 21 C it cools (21 - 5) x 150 / 3000 = 0.8 K/h."""

from __future__ import annotations

from typing import Any

import pytest

from load_juggler.sim.plot import write_plot
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario

from .test_heat_pumps import climate_day


def test_the_plot_data_holds_the_indoor_temperature_of_each_climate_boost() -> None:
    series = run(parse_scenario(climate_day(mode="off"))).series
    indoor = series.indoor_c["living"]
    assert len(indoor) == len(series.t_s) == 720  # 2 h of 10 s steps
    # No boost: 0.8 K/h of loss, 0.0022 K a step; 20.87 C after 10 minutes.
    assert indoor[0] == pytest.approx(21.0, abs=1e-6)
    assert indoor[1] == pytest.approx(21.0 - 0.8 / 360, abs=1e-5)
    assert indoor[60] == pytest.approx(20.867, abs=0.002)
    # The heat pump's own thermostat starts half a kelvin below the setpoint.
    assert 20.49 <= min(indoor) < 20.51
    assert series.tank_c == {}


def test_a_boost_shows_as_a_warmer_house_in_the_plot_data(tmp_path: Any) -> None:
    result = run(parse_scenario(climate_day()))
    indoor = result.series.indoor_c["living"]
    # Boosted on the sun for 90 minutes: 1500 W x COP 3 = 4500 W of heat against a loss of
    # 2400 W at 21 C, 0.7 K/h, a little less as the house warms: about 22.0 C at the top.
    assert 21.9 < max(indoor) < 22.1
    out = write_plot(result, tmp_path / "climate.png")
    assert out.stat().st_size > 10_000


def test_no_climate_boost_no_indoor_series() -> None:
    data = climate_day()
    data["loads"][0] |= {"type": "plug", "power_w": 1500}
    for key in (
        "expected_power_w",
        "hvac_mode",
        "setpoint_c",
        "indoor_c",
        "outdoor_c",
        "heat_loss_w_per_k",
        "heat_capacity_wh_per_k",
        "cop",
    ):
        data["loads"][0].pop(key)
    assert run(parse_scenario(data)).series.indoor_c == {}
