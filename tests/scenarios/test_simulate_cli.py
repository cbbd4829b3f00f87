"""The command line as other tools use it: exit codes, one-line errors, the JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .running import DATA, REPO, SHARED_SCENARIOS, total_overload_s


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "apps")}
    return subprocess.run(
        [sys.executable, "-m", "load_juggler.simulate", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


GOOD: dict[str, Any] = {
    "name": "bad-file-base",
    "duration_s": 60,
    "site": {"main_breaker_a": 25, "house_a": [1.0, 1.0, 1.0]},
    "circuits": [{"id": "garage", "limit_a": 20, "members": ["evse1"]}],
    "loads": [{"id": "evse1", "type": "evse", "mode": "continuous", "min_a": 6, "max_a": 16}],
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(GOOD))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


BAD_FILES = [
    pytest.param(_with(("site", "breaker"), 25), "site: key 'breaker'", id="unknown-site-key"),
    pytest.param(_with(("colour",), "red"), "scenario: key 'colour'", id="unknown-top-key"),
    pytest.param(
        _with(("loads", 0, "max_a"), "sixteen"), "load 'evse1': key 'max_a'", id="wrong-type"
    ),
    pytest.param(_with(("loads", 0, "min_a"), 20), "load 'evse1': key 'min_a'", id="min-over-max"),
    pytest.param(_with(("site", "phases"), 2), "site: key 'phases'", id="bad-phases"),
    pytest.param(_with(("loads", 0, "mode"), "turbo"), "load 'evse1': key 'mode'", id="bad-mode"),
    pytest.param(
        _with(("timeline",), [{"t": 10, "loads": {"evse9": {"mode": "off"}}}]),
        "timeline[0]: key 'loads' = 'evse9'",
        id="unknown-load-in-timeline",
    ),
    pytest.param(
        _with(("timeline",), [{"t": 10, "faults": {"grid": "broken"}}]),
        "timeline[0].faults: key 'grid'",
        id="bad-fault",
    ),
    pytest.param(
        _with(("circuits", 0, "members"), ["nobody"]),
        "circuit 'garage': key 'members'",
        id="unknown-member",
    ),
    pytest.param(
        _with(("circuits", 0, "parent"), "attic"),
        "circuit 'garage': key 'parent'",
        id="unknown-parent",
    ),
    pytest.param(_with(("step_s",), 0), "scenario: key 'step_s'", id="zero-step"),
]


@pytest.mark.parametrize(("data", "expected"), BAD_FILES)
def test_a_bad_scenario_exits_2_with_one_line_naming_the_key(
    tmp_path: Path, data: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    done = cli(path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]


def test_a_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    done = cli(tmp_path / "nowhere.yaml")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {tmp_path / 'nowhere.yaml'}: scenario file not found"
    ]


def test_a_yaml_syntax_error_exits_2_with_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsite:\n  phases: [3\nloads: []\n")
    done = cli(path)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: YAML syntax error at line ")


def test_json_output_follows_the_contract() -> None:
    done = cli(DATA / "garage-circuit.yaml", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"final", "metrics", "steps"}
    assert set(out["metrics"]) == {
        "overload_s", "overload_episodes", "peak_a", "import_wh", "export_wh", "energy_wh",
        "start_stops", "cycle_ms_p50", "cycle_ms_max", "phase_remaps", "notifications",
    }  # fmt: skip
    assert out["metrics"]["phase_remaps"] == {"evse1": [], "evse2": []}
    assert out["metrics"]["notifications"] == []
    assert out["metrics"]["overload_episodes"] == {
        f"{node}.{phase}": [] for node in ("site", "garage") for phase in "ABC"
    }
    assert out["final"]["evse1"] == {"allocated_a": 10.0, "on": True}
    assert len(out["steps"]) == 180  # 900 s in steps of 5 s
    assert out["steps"][0] == {
        "t": 0.0,
        "grid_a": [2.0, 2.0, 2.0],
        "loads": {"evse1": 6.0, "evse2": 6.0},
    }
    assert out["metrics"]["energy_wh"]["evse1"] == pytest.approx(1705.833, abs=0.01)
    assert 0 < out["metrics"]["cycle_ms_p50"] <= out["metrics"]["cycle_ms_max"]


def test_summary_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "solar.png"
    done = cli(DATA / "solar-day.yaml", "--plot", plot)
    assert done.returncode == 0, done.stderr
    assert "overload: none" in done.stdout
    assert "car" in done.stdout and "starts 2" in done.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.stat().st_size > 20_000


SHARED = sorted(SHARED_SCENARIOS.glob("*.yaml")) if SHARED_SCENARIOS.is_dir() else []


@pytest.mark.skipif(not SHARED, reason=f"no shared scenarios at {SHARED_SCENARIOS}")
@pytest.mark.parametrize("path", SHARED, ids=[p.stem for p in SHARED])
def test_every_shared_scenario_runs_without_overload(path: Path) -> None:
    done = cli(path, "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)["metrics"]
    assert total_overload_s(metrics) == 0.0
    assert metrics["overload_s"]  # at least the site's phases were measured


EXAMPLE = REPO / "apps.yaml.example"


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="no apps.yaml.example")
def test_the_demo_simulates_a_day_for_the_example_apps_yaml(tmp_path: Path) -> None:
    done = cli("--example", EXAMPLE, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["steps"]) == 14 * 3600 // 5  # 06:00-20:00 at the hub's 5 s period
    assert total_overload_s(out["metrics"]) == 0.0
    assert set(out["final"]) >= {"evse_left"}


def test_the_cli_wants_a_scenario_or_an_example() -> None:
    assert cli().returncode == 2
