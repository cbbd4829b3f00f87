"""Bad input to the simulator exits 2 with one exact line, before any run (issue 15).

Timeline entries are named by their place in the file and checked in time order on top of the
entries before them; messages use the file's keys, never the engine's internal names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import BatteryConfig, Site
from load_juggler.engine.validate import validate
from load_juggler.sim.example import example_scenario
from load_juggler.sim.scenario import in_file_terms
from load_juggler.simulate import main

from .running import DATA, REPO
from .test_simulate_cli import GOOD, cli


def write(tmp_path: Path, data: Any, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def with_battery(timeline: list[dict[str, Any]]) -> dict[str, Any]:
    data = json.loads(json.dumps(GOOD))
    data["duration_s"] = 600
    data["site"]["battery"] = {"soc": 50, "min_soc": 20, "target_soc": 80}
    data["timeline"] = timeline
    return data


TIMELINE_ERRORS = [
    pytest.param(
        [{"t": 10, "site": {"solar_w": 100}}, {"t": 20, "site": {"battery": {"target_soc": 99}}}],
        "timeline[1].site.battery: key 'target_soc' = 99 is invalid: must be <= full_soc (98)",
        id="target-over-full",
    ),
    pytest.param(
        # In time order entry 1 (t=100) comes first; entry 0 then conflicts with it.
        [
            {"t": 200, "site": {"battery": {"min_soc": 50}}},
            {"t": 100, "site": {"battery": {"target_soc": 40}}},
        ],
        "timeline[0].site.battery: key 'min_soc' = 50 is invalid: must be <= target_soc (40)",
        id="conflict-with-an-earlier-entry",
    ),
    pytest.param(
        [{"t": 10}, {"t": 20}, {"t": 30, "loads": {"evse1": {"max_a": 99}}}],
        "timeline[2].loads.evse1: key 'max_a' = 99 is invalid: must be a number > 0 and <= 80",
        id="load-value",
    ),
    pytest.param(
        [{"t": 10, "loads": {"evse1": {"colour": "red"}}}],
        "timeline[0].loads.evse1: key 'colour' = 'red' is invalid: unknown key; allowed: id, "
        "type, mode, priority, min_a, max_a, phases, phase_map, draws, circuit, power_w, "
        "connected, meter_interval_s, obeys, stuck_a, manual_on, draw_limit_a, min_power_w, "
        "max_power_w, step_w, stages, steps, min_on_s, min_off_s, auto_remap, wired_phase_map, "
        "car_phases, car_lines",
        id="unknown-load-key",
    ),
    pytest.param(
        [{"t": 10, "site": {"voltage": 400}}],
        "timeline[0].site: key 'voltage' = 400 is invalid: must be the nominal phase-to-neutral "
        "voltage: 180..260 (230 V grids) or 90..140 (120 V grids); did you mean 230? (phase to "
        "neutral, not line to line)",
        id="site-value",
    ),
]


@pytest.mark.parametrize(("timeline", "message"), TIMELINE_ERRORS)
def test_a_bad_timeline_entry_is_named_with_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], timeline: list[Any], message: str
) -> None:
    path = write(tmp_path, with_battery(timeline))
    assert one_error_line(capsys, [str(path)]) == f"error: {path}: {message}"


def test_the_engine_check_after_a_change_names_the_entry_and_the_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The site becomes 1-phase while evse1 stays a 3-phase [A, B, C] load: only the engine's
    # check of the whole site after entry 0 finds it (its wording is the engine's).
    path = write(tmp_path, with_battery([{"t": 10, "site": {"phases": 1, "house_a": 1.0}}]))
    line = one_error_line(capsys, [str(path)])
    assert line.startswith(f"error: {path}: timeline[0].loads.evse1: key 'phase"), line


def test_engine_names_are_shown_as_the_file_spells_them() -> None:
    site = Site(battery=BatteryConfig(target_soc_pct=99.0, full_soc_pct=98.0))
    with pytest.raises(ConfigError) as err:
        validate(site, (), ())
    assert "target_soc_pct" in str(err.value)  # what the engine says ...
    assert str(in_file_terms(err.value)) == (  # ... and what the author reads
        "site.battery: key 'target_soc' = 99.0 is invalid: must be <= full_soc (98.0)"
    )
    voltage = ConfigError("site", "voltage_v", 0.0, "must be > 0")
    assert str(in_file_terms(voltage)) == "site: key 'voltage' = 0.0 is invalid: must be > 0"


@pytest.mark.parametrize(("t", "shown"), [(60, "60"), (57.5, "57.5"), (3600, "3600")])
def test_a_timeline_event_after_the_last_step_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], t: float, shown: str
) -> None:
    # duration_s 60 in steps of 5 s: the last step is at 55 s.
    data = {**GOOD, "timeline": [{"t": 10}, {"t": t, "site": {"solar_w": 1000}}]}
    path = write(tmp_path, data)
    assert one_error_line(capsys, [str(path)]) == (
        f"error: {path}: timeline[1]: key 't' = {shown} is invalid: must be <= 55, the last "
        "step before duration_s (60); a later change would never happen"
    )


def test_an_event_at_the_last_step_still_happens(tmp_path: Path) -> None:
    done = cli(write(tmp_path, {**GOOD, "timeline": [{"t": 55, "site": {"solar_w": 0}}]}))
    assert done.returncode == 0, done.stderr


def test_a_latin_1_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    text = "# café\n" + yaml.safe_dump(GOOD)
    path.write_bytes(text.encode("latin-1"))
    done = cli(path)
    assert done.returncode == 2
    # "# caf" is 5 bytes: the Latin-1 e-acute is byte 0xe9 at offset 5.
    assert done.stderr == (
        f"error: {path}: not UTF-8 text (byte 0xe9 at offset 5); save the file as UTF-8\n"
    )
    assert done.stdout == ""


def test_a_directory_as_scenario_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert one_error_line(capsys, [str(tmp_path)]) == (
        f"error: {tmp_path}: is a directory, not the scenario file"
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/run.png", "--plot {p}: directory {d}/missing does not exist"),
        (".", "--plot {p}: is a directory; give a file name such as run.png"),
        ("run.xyz", "--plot {p}: unknown image format '.xyz'; use one of "),
    ],
)
def test_a_bad_plot_path_fails_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    plot = tmp_path / target
    line = one_error_line(capsys, [str(DATA / "solar-day.yaml"), "--plot", str(plot)])
    assert line.startswith("error: " + message.format(p=plot, d=tmp_path))
    assert not list(tmp_path.iterdir())  # nothing written, nothing left behind


def test_a_plot_path_the_process_may_not_write_fails_before_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # /sys refuses new files even to root, so this holds whoever runs the tests.
    plot = Path("/sys/load-juggler-test.png")
    if not Path("/sys").is_dir():
        pytest.skip("no /sys here")
    line = one_error_line(capsys, [str(DATA / "solar-day.yaml"), "--plot", str(plot)])
    assert line == f"error: --plot {plot}: cannot write: Permission denied"


def test_a_writable_plot_path_is_checked_without_leaving_a_file_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, {**GOOD, "step_s": 0}, "bad.yaml")
    plot = tmp_path / "run.png"
    line = one_error_line(capsys, [str(bad), "--plot", str(plot)])
    assert line.startswith(f"error: {bad}: scenario: key 'step_s' = 0")
    assert not plot.exists()


@pytest.mark.parametrize(
    ("top", "message"),
    [
        (
            {"duration_s": 366 * 86400},
            "scenario: key 'duration_s' = 31622400 is invalid: must be <= 31536000 (one year)",
        ),
        (
            {"duration_s": 30 * 86400, "step_s": 1},
            "scenario: key 'step_s' = 1 is invalid: makes 2592000 steps over duration_s 2592000; "
            "at most 1000000 (raise step_s or shorten duration_s)",
        ),
    ],
)
def test_a_run_too_long_to_wait_for_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], top: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, {**GOOD, **top})
    assert one_error_line(capsys, [str(path)]) == f"error: {path}: {message}"


# ---------------------------------------------------------------------------------- --example

EXAMPLE = REPO / "apps.yaml.example"


def apps(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    change(data)
    return write(tmp_path, data, "apps.yaml")


EXAMPLE_ERRORS = [
    pytest.param(
        lambda d: (
            d["lj_hub"]["circuits"].update(carport={"limit_a": 16, "members": ["boiler"]})
            or d["boiler"].update(circuit="garage")
        ),
        "app 'boiler': key 'circuit' = 'garage' is invalid: contradicts hub 'lj_hub', whose "
        "circuit 'carport' lists it in members",
        id="circuit-contradicts-members",
    ),
    pytest.param(
        lambda d: d["evse_left"].update(circuit="attic"),
        "app 'evse_left': key 'circuit' = 'attic' is invalid: must name a circuit of hub "
        "'lj_hub': garage",
        id="unknown-circuit",
    ),
    pytest.param(
        lambda d: d["evse_right"].update(hub="lj_hbu"),
        "app 'evse_right': key 'hub' = 'lj_hbu' is invalid: names no hub app; the hub of this "
        "file is 'lj_hub'",
        id="misspelled-hub",
    ),
    pytest.param(
        lambda d: d["boiler"].update(module="load_juggler.loads.swich"),
        "app 'boiler': key 'module' = 'load_juggler.loads.swich' is invalid: no such Load "
        "Juggler module; did you mean 'load_juggler.loads.switch'? modules: load_juggler.hub, "
        "load_juggler.loads.ocpp, load_juggler.loads.switch, load_juggler.loads.sg_ready, "
        "load_juggler.loads.climate_boost, load_juggler.loads.power, load_juggler.loads.staged, "
        "load_juggler.loads.water_heater",
        id="misspelled-module",
    ),
    pytest.param(
        lambda d: d["evse_left"].update({"class": "OcppCharge"}),
        "app 'evse_left': key 'class' = 'OcppCharge' is invalid: load_juggler.loads.ocpp "
        "defines class OcppCharger",
        id="misspelled-class",
    ),
]


@pytest.mark.parametrize(("change", "message"), EXAMPLE_ERRORS)
def test_example_refuses_what_the_apps_would_and_says_which_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, message: str
) -> None:
    path = apps(tmp_path, change)
    assert one_error_line(capsys, ["--example", str(path)]) == f"error: {path}: {message}"


def test_example_ignores_apps_that_are_not_load_jugglers(tmp_path: Path) -> None:
    other = {"module": "hello", "class": "HelloWorld"}
    path = apps(tmp_path, lambda d: d.update(hello=other))
    scenario, _ = example_scenario(path)
    assert {spec.load.id for spec in scenario.loads} == {
        "evse_left",
        "evse_right",
        "boiler",
        "diverter",
        "heater",
    }


def test_example_with_a_directory_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert one_error_line(capsys, ["--example", str(tmp_path)]) == (
        f"error: {tmp_path}: is a directory, not the apps.yaml file"
    )
