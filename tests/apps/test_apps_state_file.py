"""The hub's state file: what was learned or commanded survives a restart; a bad file does not
stop the hub."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, logs, set_grid, set_solar

from load_juggler.config import parse_hub
from load_juggler.hub import Hub
from load_juggler.state_file import DEFAULT_STATE_FILE, StateFile, state_path


class Lines:
    """A log sink that keeps (line, level)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, line: str, level: str) -> None:
        self.lines.append((line, level))


def test_a_section_written_is_read_back_by_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = StateFile(path, Lines())
    first.load()
    first.put("phase_maps", {"evse1": ["C"]})
    first.put("overrides", {"boiler": {"mode": "off"}})
    second = StateFile(path, Lines())
    second.load()
    assert second.get("phase_maps") == {"evse1": ["C"]}
    assert second.get("overrides") == {"boiler": {"mode": "off"}}
    assert second.get("absent") == {}


def test_get_returns_a_copy_and_an_empty_section_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, Lines())
    state.put("phase_maps", {"evse1": ["C"]})
    state.get("phase_maps")["evse1"].append("A")
    assert state.get("phase_maps") == {"evse1": ["C"]}
    state.put("phase_maps", {})
    assert json.loads(path.read_text()) == {}


def test_an_unchanged_section_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, Lines())
    state.put("scores", {"evse1": {"A": 1.0}})
    path.write_text('{"scores": {"evse1": {"A": 1.0}}, "marker": {}}')
    state.put("scores", {"evse1": {"A": 1.0}})
    assert "marker" in path.read_text()
    state.put("scores", {"evse1": {"A": 2.0}})
    assert json.loads(path.read_text()) == {"scores": {"evse1": {"A": 2.0}}}


def test_a_value_json_cannot_hold_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, Lines())
    with pytest.raises(TypeError):
        state.put("bad", {"when": object()})
    assert not path.exists()
    assert state.get("bad") == {}


def test_a_missing_file_is_a_first_start(tmp_path: Path) -> None:
    lines = Lines()
    state = StateFile(tmp_path / "none.json", lines)
    state.load()
    assert state.get("phase_maps") == {}
    assert [level for _, level in lines.lines] == ["INFO"]
    assert "not found" in lines.lines[0][0]


@pytest.mark.parametrize(
    "content, why",
    [("{not json", "is not JSON"), ('["a"]', "does not hold"), ('{"a": 1}', "does not hold")],
)
def test_a_corrupt_file_is_set_aside_and_ignored(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    lines = Lines()
    state = StateFile(path, lines)
    state.load()
    assert state.get("a") == {}
    assert len(lines.lines) == 1
    line, level = lines.lines[0]
    assert level == "WARNING" and why in line and "state.json.corrupt" in line
    assert (tmp_path / "state.json.corrupt").read_text() == content
    # The next save starts a fresh file.
    state.put("phase_maps", {"evse1": ["B"]})
    assert json.loads(path.read_text()) == {"phase_maps": {"evse1": ["B"]}}


def test_an_unwritable_file_keeps_the_state_in_memory(tmp_path: Path) -> None:
    lines = Lines()
    state = StateFile(tmp_path / "no_such_dir" / "state.json", lines)
    state.put("phase_maps", {"evse1": ["B"]})
    assert state.get("phase_maps") == {"evse1": ["B"]}
    assert lines.lines[0][1] == "WARNING" and "not saved" in lines.lines[0][0]


def test_relative_paths_live_under_the_config_directory(tmp_path: Path) -> None:
    assert state_path(None, tmp_path) == tmp_path / DEFAULT_STATE_FILE
    assert state_path("lj/state.json", tmp_path) == tmp_path / "lj" / "state.json"
    assert state_path("/var/lib/lj.json", tmp_path) == Path("/var/lib/lj.json")


def test_the_hub_option_is_parsed_and_checked() -> None:
    args = {**copy.deepcopy(HUB_ARGS), "state_file": "lj_state.json"}
    assert parse_hub("lj_hub", args).state_file == "lj_state.json"
    assert parse_hub("lj_hub", copy.deepcopy(HUB_ARGS)).state_file is None


def test_the_hub_reads_its_state_file_at_start(
    ad: Any, given_that: Any, hass_mocks: Any, tmp_path: Path
) -> None:
    path = tmp_path / "lj.json"
    path.write_text('{"phase_maps": {"evse1": ["C"]}}')
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    hub = ad(Hub, "lj_hub", **{**copy.deepcopy(HUB_ARGS), "state_file": str(path)})
    assert hub.state.get("phase_maps") == {"evse1": ["C"]}
    assert logs(hass_mocks, f"state file {path}: read phase_maps")


def test_a_corrupt_state_file_does_not_stop_the_hub(
    ad: Any, given_that: Any, hass_mocks: Any, tmp_path: Path, time_travel: Any
) -> None:
    path = tmp_path / "lj.json"
    path.write_text("\x00garbage")
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    hub = ad(Hub, "lj_hub", **{**copy.deepcopy(HUB_ARGS), "state_file": str(path)})
    time_travel.fast_forward(5).seconds()
    assert logs(hass_mocks, "is not JSON", "WARNING")
    assert hub.state.get("phase_maps") == {}
    assert hub.last_result is not None  # the cycle runs
