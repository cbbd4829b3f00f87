"""Timeline `commands:` in scenarios: what each command does to the run, checked at parse time
with the hub's own words."""

from __future__ import annotations

from typing import Any

import pytest

from load_juggler.engine.control_types import ControlSettings
from load_juggler.engine.errors import ConfigError
from load_juggler.sim.runner import run
from load_juggler.sim.scenario import parse_scenario
from load_juggler.sim.scenario_timeline import EVENT_KEYS

from .running import series, simulate, total_overload_s
from .test_contract_keys import scenario_format_names

FAST = ControlSettings(
    ramp_up_a_per_s=100.0,
    start_delay_s=0.0,
    stop_delay_s=0.0,
    min_on_s=0.0,
    min_off_s=0.0,
)


def test_commands_on_a_winter_evening() -> None:
    result = simulate("commands-evening")
    evse1 = series(result, "evse1")
    lines = [line for _, line in result.messages]
    assert (60.0, "command boost: evse1: boost: continuous for 1 kWh") in result.messages
    # The narrowed range holds all evening: the car never gets more than 10 A.
    assert max(evse1.values()) == 10.0
    assert evse1[55.0] == 0.0 and evse1[80.0] == 10.0
    # The boost counts the car's metered draw (one step after each command): 6, 7, 8, 9 A
    # while ramping (28.75 Wh at 690 W per A), then 9.583 Wh per step at 10 A; 1 kWh is
    # reached on the 102nd step at 10 A, t = 85 + 101 x 5 = 590 s.
    assert (590.0, "override: evse1: boost ended: 1 kWh delivered") in result.messages
    assert evse1[585.0] == 10.0 and evse1[590.0] == 6.0
    # set_mode continuous at 900 for 900 s; the pause cuts at once, resume brings it back.
    assert evse1[1195.0] == 10.0 and evse1[1200.0] == 0.0 and evse1[1495.0] == 0.0
    assert evse1[1520.0] == 10.0
    assert "override: evse1: set_mode continuous ended (until 1970-01-01T00:30:00+00:00)" in lines
    assert evse1[1800.0] == 6.0  # back in solar_only: held at min for the stop delay
    # The heater: continuous from 2400 until "00:50" (t = 3000): 2000 W for 600 s = 333.3 Wh.
    heater = series(result, "heater")
    assert heater[2395.0] == 0.0 and heater[2400.0] == pytest.approx(2000 / 230, abs=1e-3)
    assert heater[2995.0] > 0 and heater[3000.0] == 0.0
    assert result.metrics["energy_wh"]["heater"] == pytest.approx(333.333, abs=0.01)
    assert total_overload_s(result.metrics) == 0.0


def two_chargers(timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """25 A site, 4 A house: 21 A for two continuous chargers of 6..16 A."""
    return {
        "name": "two",
        "duration_s": 120,
        "site": {"main_breaker_a": 25, "house_a": [4.0, 4.0, 4.0]},
        "loads": [
            {"id": "evse1", "mode": "continuous", "priority": 1},
            {"id": "evse2", "mode": "continuous", "priority": 2},
        ],
        "timeline": timeline,
    }


def test_set_distribution_shares_what_priority_gave_the_first() -> None:
    data = two_chargers(
        [{"t": 60, "commands": [{"command": "set_distribution", "distribution": "shared"}]}]
    )
    result = run(parse_scenario(data), FAST)
    # priority: both get 6 A, the other 9 A go to evse1 (15 A); shared: 21 / 2 = 10.5 A each.
    assert (series(result, "evse1")[55.0], series(result, "evse2")[55.0]) == (15.0, 6.0)
    assert (series(result, "evse1")[65.0], series(result, "evse2")[65.0]) == (10.5, 10.5)


def test_a_distribution_command_outlives_a_later_site_change() -> None:
    data = two_chargers(
        [
            {"t": 30, "commands": [{"command": "set_distribution", "distribution": "shared"}]},
            {"t": 60, "site": {"house_a": [5.0, 5.0, 5.0]}},
        ]
    )
    result = run(parse_scenario(data), FAST)
    assert (series(result, "evse1")[115.0], series(result, "evse2")[115.0]) == (10.0, 10.0)


def test_a_timeline_mode_change_ends_an_earlier_set_mode() -> None:
    data = two_chargers(
        [
            {"t": 30, "commands": [{"command": "set_mode", "load": "evse2", "mode": "off"}]},
            {"t": 60, "loads": {"evse2": {"mode": "continuous"}}},
        ]
    )
    result = run(parse_scenario(data), FAST)
    evse2 = series(result, "evse2")
    assert (evse2[25.0], evse2[55.0], evse2[65.0]) == (6.0, 0.0, 6.0)
    assert series(result, "evse1")[55.0] == 16.0
    assert (60.0, "override: evse2: set_mode off ended: the mode select was changed by hand") in (
        result.messages
    )


def test_a_command_refused_at_run_time_is_a_message() -> None:
    data = two_chargers([{"t": 30, "commands": [{"command": "resume", "load": "evse1"}]}])
    result = run(parse_scenario(data), FAST)
    assert (30.0, "command refused: command resume: load 'evse1' is not paused") in (
        result.messages
    )


@pytest.mark.parametrize(
    "command, problem",
    [
        (
            {"command": "set_mode", "load": "evse9", "mode": "off"},
            "key 'load' = 'evse9' is invalid: must name a load app registered",
        ),
        ({"command": "boost", "load": "evse1"}, "key 'energy_kwh' = None is invalid: required"),
        (
            {"command": "set_current_limits", "load": "evse1", "max_a": 20},
            "key 'max_a' = 20 is invalid: must lie in the configured range 6 .. 16 A",
        ),
        ({"command": "reset_charger", "load": "evse1"}, "keep no charging profiles"),
        ({"command": "fly", "load": "evse1"}, "key 'command' = 'fly' is invalid"),
    ],
)
def test_a_bad_command_stops_the_scenario_naming_the_entry(
    command: dict[str, Any], problem: str
) -> None:
    data = two_chargers([{"t": 5, "site": {}}, {"t": 30, "commands": [command]}])
    with pytest.raises(ConfigError) as err:
        parse_scenario(data)
    message = str(err.value)
    assert message.startswith("timeline[1]: key 'commands[0]'"), message
    assert problem in message, message


def test_commands_must_be_a_list_of_mappings() -> None:
    with pytest.raises(ConfigError, match=r"timeline\[0\]: key 'commands' .* must be a list"):
        parse_scenario(two_chargers([{"t": 30, "commands": {"command": "pause"}}]))
    with pytest.raises(ConfigError, match=r"key 'commands\[0\]' = 'pause' .* must be a mapping"):
        parse_scenario(two_chargers([{"t": 30, "commands": ["pause"]}]))


def test_the_readme_documents_the_commands_key() -> None:
    assert "commands" in EVENT_KEYS
    assert "commands" in scenario_format_names("timeline[]")


def test_until_counts_on_the_scenario_wall_clock() -> None:
    """With `start` 20:00 (+02:00), `until: "22:00"` is two hours later (t = 7200), as a
    deadline's "HH:MM" is; on the bare clock (t = 0 is 00:00 UTC) it would be t = 79200."""
    data = {
        "name": "evening",
        "start": "2026-06-01T20:00:00+02:00",
        "duration_s": 7300,
        "step_s": 5,
        "site": {"main_breaker_a": 25, "house_a": [4.0, 4.0, 4.0]},
        "loads": [{"id": "evse1", "mode": "off"}],
        "timeline": [
            {
                "t": 0,
                "commands": [
                    {"command": "set_mode", "load": "evse1", "mode": "continuous", "until": "22:00"}
                ],
            }
        ],
    }
    result = run(parse_scenario(data), FAST)
    evse1 = series(result, "evse1")
    assert evse1[7195.0] == 16.0
    assert evse1[7200.0] == 0.0
    # 22:00 at +02:00 is 20:00 UTC, the instant the desk names.
    assert (
        7200.0,
        "override: evse1: set_mode continuous ended (until 2026-06-01T20:00:00+00:00)",
    ) in result.messages
