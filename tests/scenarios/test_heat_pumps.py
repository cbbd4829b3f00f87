"""SG Ready heat pumps and climate boosts through the simulator: states held `min_state_s`,
a boost that stores surplus that would have been exported, and the setpoint given back."""

from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from load_juggler.engine.errors import ConfigError
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import load_scenario, parse_scenario

from .running import DATA, total_overload_s


def simulate(data: dict[str, Any]) -> RunResult:
    return run(parse_scenario(data), keep_series=False)


def sg_site(
    solar: list[tuple[int, int]], min_state_s: float, house_a: float, allow_block: bool
) -> dict[str, Any]:
    return {
        "name": "sg",
        "step_s": 10,
        "duration_s": 3600,
        "site": {"main_breaker_a": 25, "house_a": [house_a] * 3, "solar_w": 0},
        "loads": [
            {
                "id": "hp",
                "type": "sg_ready",
                "expected_power_w": 3000,
                "min_state_s": min_state_s,
                "allow_block": allow_block,
                "state_power_w": {"normal": 600, "recommend_on": 3000, "force_on": 4500},
            }
        ],
        "timeline": [{"t": t, "site": {"solar_w": w}} for t, w in solar],
    }


def test_the_committed_cloudy_day_holds_every_state_600_s() -> None:
    result = run(load_scenario(DATA / "sg-ready-clouds.yaml"))
    transitions = result.metrics["sg_ready"]["heat_pump"]["transitions"]
    # Force on at 60 s (the 60 s start delay on 9 kW of sun: 9000 - 1380 W of house covers
    # 3000 + 2000); the clouds at 300 s would end it, but it holds until 660 s.
    assert transitions[:2] == [[60.0, "force_on"], [660.0, "normal"]]
    times = [t for t, _ in transitions]
    assert all(b - a >= 600 for a, b in pairwise(times))
    assert total_overload_s(result.metrics) == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    solar=st.lists(
        st.tuples(st.integers(0, 355).map(lambda i: i * 10), st.integers(0, 12000)),
        min_size=1,
        max_size=12,
    ),
    min_state_s=st.sampled_from([60, 300, 600]),
    house_a=st.sampled_from([2.0, 12.0, 23.0]),
    allow_block=st.booleans(),
)
def test_sg_ready_never_changes_state_faster_than_min_state_s(
    solar: list[tuple[int, int]], min_state_s: float, house_a: float, allow_block: bool
) -> None:
    result = simulate(sg_site(sorted(solar), min_state_s, house_a, allow_block))
    metrics = result.metrics["sg_ready"]["hp"]
    times = [t for t, _ in metrics["transitions"]]
    assert all(b - a >= min_state_s - 1e-6 for a, b in pairwise(times))
    if not allow_block:
        assert metrics["state_s"]["block"] == 0.0
    assert sum(metrics["state_s"].values()) == pytest.approx(3590.0)


def test_block_comes_only_when_allowed_and_the_site_is_at_its_breaker() -> None:
    # 24.8 A of house per phase leaves 0.2 A of the 25 A breaker: at its limit.
    blocked = simulate(sg_site([(0, 0)], 60, 24.8, True)).metrics["sg_ready"]["hp"]
    assert blocked["transitions"] == [[0.0, "block"]]
    free = simulate(sg_site([(0, 0)], 60, 12.0, True)).metrics["sg_ready"]["hp"]
    assert free["transitions"] == []
    not_allowed = simulate(sg_site([(0, 0)], 60, 24.8, False)).metrics["sg_ready"]["hp"]
    assert not_allowed["transitions"] == []


def climate_day(**changes: Any) -> dict[str, Any]:
    data = load_scenario_dict("climate-boost-noon")
    data["loads"][0].update(changes)
    return data


def load_scenario_dict(name: str) -> dict[str, Any]:
    import yaml

    with open(DATA / f"{name}.yaml", encoding="utf-8") as file:
        return copy.deepcopy(yaml.safe_load(file))


def test_a_boost_stores_surplus_that_would_have_been_exported_and_gives_the_setpoint_back() -> None:
    boosted = simulate(climate_day())
    plain = simulate(climate_day(mode="off"))
    climate = boosted.metrics["climate"]["living"]
    # 21 + 1.5 = 22.5 during the sun (5340 s from the 60 s start delay until the clouds at
    # 5400 s plus the 180 s stop delay), then 21 again.
    assert climate["setpoint_c"] == 21.0
    assert climate["boost_s"] == pytest.approx(5520.0)
    assert plain.metrics["climate"]["living"]["boost_s"] == 0.0
    # Holding 20.5..21 C loses 150 W/K x 16 K = 2400 W, about 800 W of heat pump: the boost's
    # extra heat pump time comes out of the export, not the grid.
    exported_less_wh = plain.metrics["export_wh"] - boosted.metrics["export_wh"]
    assert exported_less_wh > 500
    # The grid pays at most the 180 s stop delay after the clouds, when solar_only keeps the
    # boost (1500 W x 180 s = 75 Wh); the warmer house then needs less later.
    assert boosted.metrics["import_wh"] <= plain.metrics["import_wh"] + 75.0
    assert climate["max_c"] > plain.metrics["climate"]["living"]["max_c"] + 0.5
    assert climate["max_c"] <= 22.5 + 0.1  # the thermostat stops at the boosted setpoint
    assert total_overload_s(boosted.metrics) == 0


def test_a_user_setpoint_during_a_boost_is_kept_not_restored() -> None:
    data = climate_day()
    data["timeline"].append({"t": 1800, "loads": {"living": {"setpoint_c": 22}}})
    climate = simulate(data).metrics["climate"]["living"]
    assert climate["setpoint_c"] == 22.0
    assert climate["boost_s"] == pytest.approx(1800.0 - 60.0)


def test_max_boost_s_ends_the_boost_while_the_sun_shines() -> None:
    climate = simulate(climate_day(max_boost_s=1200)).metrics["climate"]["living"]
    assert climate["boost_s"] == pytest.approx(1200.0)
    assert climate["setpoint_c"] == 21.0


def test_cooling_lowers_the_setpoint_and_cools_the_house() -> None:
    data = climate_day(hvac_mode="cool", setpoint_c=25, indoor_c=25, outdoor_c=32)
    climate = simulate(data).metrics["climate"]["living"]
    assert climate["min_c"] < 24.0  # boosted to 23.5
    assert climate["setpoint_c"] == 25.0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"state_power_w": {"boost": 100}}, "state_power_w"),
        ({"relay_1": "switch.x"}, "relay_1"),
        ({"expected_power_w": 0}, "expected_power_w"),
        ({"min_state_s": -1}, "min_state_s"),
    ],
)
def test_bad_sg_ready_keys_are_named(change: dict[str, Any], key: str) -> None:
    data = sg_site([(0, 0)], 600, 2.0, False)
    data["loads"][0].update(change)
    with pytest.raises(ConfigError) as err:
        parse_scenario(data)
    assert f"key '{key}'" in str(err.value)


def test_bad_climate_keys_are_named() -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(climate_day(comfort_min_c=23, comfort_max_c=22))
    assert "key 'comfort_max_c' = 22" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_scenario(climate_day(hvac_mode="auto"))
    assert "key 'hvac_mode'" in str(err.value)


def test_the_readme_scenario_format_names_every_heat_pump_key() -> None:
    from load_juggler.sim.heat_pumps import CLIMATE_KEYS, SG_READY_KEYS

    from .test_contract_keys import scenario_format_names

    app_only = {"relay_1", "relay_2", "climate", "power_sensor"}
    keys = (set(SG_READY_KEYS) | set(CLIMATE_KEYS)) - app_only
    assert keys <= scenario_format_names("loads[].") | {"sg_ready", "climate"}


def test_a_held_heat_pump_stays_reserved_so_the_car_never_takes_what_it_draws() -> None:
    # 22 kW of sun feeds a car (16 A, continuous) and the heat pump in Force on (4500 W =
    # 6.52 A per phase); house 8 A. The sun goes at 300 s: the car is cut to what is left
    # under the 25 A breaker while the heat pump holds Force on until 660 s (600 s after 60 s).
    data = {
        "name": "sg-hold",
        "step_s": 5,
        "duration_s": 1200,
        "site": {"main_breaker_a": 25, "house_a": [8, 8, 8], "solar_w": 22000},
        "loads": [
            {"id": "car", "type": "evse", "mode": "continuous", "min_a": 6, "max_a": 16},
            {
                "id": "hp",
                "type": "sg_ready",
                "priority": 1,
                "expected_power_w": 3000,
                "force_export_w": 1000,
                "state_power_w": {"recommend_on": 3000, "force_on": 4500},
            },
        ],
        "timeline": [{"t": 300, "site": {"solar_w": 0}}],
    }
    result = simulate(data)
    assert result.metrics["sg_ready"]["hp"]["transitions"] == [
        [60.0, "force_on"],
        [660.0, "normal"],
    ]
    # Only the cycle the sun went (the breaker sees it before any controller can) is over.
    assert result.metrics["overload_episodes"]["site.A"] == [[300.0, 5.0]]
    for step in result.steps:
        if 305 <= step["t"] < 660:
            assert step["loads"]["hp"] == pytest.approx(3000 / 690, abs=1e-3)  # still reserved
            assert step["loads"]["car"] <= 25 - 8 - 4500 / 690 + 1e-3


def test_the_example_day_takes_heat_pump_apps_as_the_controller_sees_them(tmp_path: Any) -> None:
    from load_juggler.sim.example import example_scenario

    lines = (DATA.parents[2] / "apps.yaml.example").read_text(encoding="utf-8").splitlines()
    start = lines.index("# heat_pump:")
    entry = [ln[2:] for ln in lines[start:] if ln.startswith(("#   ", "# h", "# l"))]
    uncommented = "\n".join([*lines[:start], *entry])
    path = tmp_path / "apps.yaml"
    path.write_text(uncommented, encoding="utf-8")
    scenario, _ = example_scenario(str(path))
    loads = {spec.load.id: spec.load for spec in scenario.loads}
    assert loads["heat_pump"].power_w == 3000.0 and loads["heat_pump"].phases == 3
    assert loads["living_room_boost"].power_w == 1200.0
    assert loads["living_room_boost"].phase_map == ("A",)
