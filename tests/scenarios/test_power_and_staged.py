"""Variable-power (`type: power`) and staged (`type: staged`) loads through the simulator.

The scenario files hold the hand-worked numbers in their comments. Every load here is on
site phase A of a site whose other phases carry no managed load and the same house load, so
a load's true draw in watts is (grid A - grid B) x 230 V.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from load_juggler.engine.errors import ConfigError
from load_juggler.sim.example import example_scenario
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import parse_scenario

from .running import REPO, simulate, total_overload_s

VOLTS = 230.0


def draw_w(step: dict[str, Any], extra_house_a: float = 0.0) -> float:
    grid = step["grid_a"]
    return (grid[0] - grid[1] - extra_house_a) * VOLTS


def at(result: RunResult, t_s: float) -> dict[str, Any]:
    return next(step for step in result.steps if step["t"] == t_s)


def export_w(step: dict[str, Any]) -> float:
    return -sum(step["grid_a"]) * VOLTS


def test_a_diverter_follows_the_surplus_in_steps_without_overload() -> None:
    result = simulate("diverter-follows-surplus")
    metrics = result.metrics
    assert total_overload_s(metrics) == 0
    assert metrics["peak_a"]["heater.A"] <= 12.0
    # Every cycle it draws 0 or 300 W + a whole number of 100 W steps.
    for step in result.steps:
        extra = 8.0 if step["t"] >= 1400 else 0.0
        watts = draw_w(step, extra)
        steps = (watts - 300.0) / 100.0
        assert abs(watts) < 0.5 or (steps > -0.005 and abs(steps - round(steps)) < 0.005), (
            step["t"],
            watts,
        )
    # Settled, as worked out in the scenario file: (t, draw W, export W).
    for t_s, watts, exported in (
        (395, 1200, 110),
        (795, 2600, 210),
        (1095, 2600, 1710),
        (1395, 0, 210),
        (1795, 2300, 170),
    ):
        step = at(result, t_s)
        assert draw_w(step, 8.0 if t_s >= 1400 else 0.0) == pytest.approx(watts, abs=0.5)
        assert export_w(step) == pytest.approx(exported, abs=0.5)
    # Export near 0 wherever the breaker and the max leave it free: below one step plus the
    # write deadband's watts (0.5 A x 230 V), once the ramp has settled.
    for t_s in (395, 1795):
        assert export_w(at(result, t_s)) < 100 + 0.5 * VOLTS


def test_a_staged_heater_takes_the_largest_step_and_keeps_min_off() -> None:
    result = simulate("staged-heater-steps")
    assert total_overload_s(result.metrics) == 0
    for step in result.steps:
        assert min(abs(draw_w(step) - w) for w in (0, 1000, 2000, 3000)) < 0.5, step
    # Engine currents are the steps' (watts / 230 V rounded up to 1 mA), never between them
    # once the ramp has reached one.
    for t_s, amps, watts in (
        (295, 4.348, 1000),
        (330, 8.696, 2000),
        (630, 13.044, 3000),
        (905, 4.348, 1000),
        (960, 8.696, 1000),  # element 2 off since 900: min off 60 s
        (965, 8.696, 2000),
    ):
        step = at(result, t_s)
        assert step["loads"]["heater"] == pytest.approx(amps, abs=1e-3), t_s
        assert draw_w(step) == pytest.approx(watts, abs=0.5), t_s


def scenario(load: dict[str, Any]) -> dict[str, Any]:
    return {
        "site": {"main_breaker_a": 25},
        "loads": [{"id": "x", "phase_map": ["A"], **load}],
    }


@pytest.mark.parametrize(
    ("load", "key", "words"),
    [
        ({"type": "power", "min_power_w": 300}, "max_power_w", "required"),
        ({"type": "power", "max_power_w": 3000, "min_a": 6}, "min_a", "type power"),
        ({"type": "evse", "phases": 1, "step_w": 100}, "step_w", "type evse"),
        ({"type": "staged"}, "stages", "required"),
        (
            {"type": "staged", "stages": [{"power_w": 1000, "switch": "switch.a"}]},
            "stages[0].switch",
            "unknown key",
        ),
        ({"type": "staged", "stages": [{"power_w": 1000}], "steps": [[2]]}, "steps", "1..1"),
        ({"type": "plug", "power_w": 1000, "stages": []}, "stages", "type plug"),
    ],
)
def test_bad_power_and_staged_keys_are_named(load: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(scenario(load))
    assert err.value.key == key
    assert words in str(err.value)


def test_a_timeline_keeps_a_staged_load_and_changes_its_mode() -> None:
    data = scenario(
        {
            "type": "staged",
            "mode": "continuous",
            "stages": [{"power_w": 1000}, {"power_w": 2000}],
            "min_on_s": 0,
            "min_off_s": 0,
        }
    )
    data["duration_s"] = 120
    data["timeline"] = [{"t": 60, "loads": {"x": {"mode": "off"}}}]
    result = run(parse_scenario(data))
    # Cumulative steps: 1 kW, then 1 + 2 kW (13.044 A) once the ramp gets there; off at 60.
    assert draw_w(at(result, 55)) == pytest.approx(3000, abs=0.5)
    assert draw_w(at(result, 115)) == pytest.approx(0.0, abs=0.5)


def test_the_example_simulates_the_new_kinds_as_their_apps_drive_them(tmp_path: Path) -> None:
    """apps.yaml.example with the diverter and the 3 x 2 kW heater running: each cycle the
    heater draws 0 or 6000 W and the diverter 0 or 300 W + k x 100 W, so their energies are
    whole multiples of those per 5 s cycle (energies are kept to 1 mWh)."""
    text = (REPO / "apps.yaml.example").read_text(encoding="utf-8")
    path = tmp_path / "apps.yaml"
    path.write_text(text.replace('mode: "off"', "mode: continuous"), encoding="utf-8")
    scenario, control = example_scenario(path)
    morning = replace(  # 06:00 to 09:00 is enough, and quick
        scenario, duration_s=3 * 3600, timeline=tuple(e for e in scenario.timeline if e.t_s < 10800)
    )
    metrics = run(morning, control).metrics
    heater_cycles = metrics["energy_wh"]["heater"] / (6000 * 5 / 3600)
    assert heater_cycles > 100 and heater_cycles == pytest.approx(round(heater_cycles), abs=0.01)
    diverter_steps = metrics["energy_wh"]["diverter"] / (100 * 5 / 3600)
    assert diverter_steps > 100
    assert diverter_steps == pytest.approx(round(diverter_steps), abs=0.01)
