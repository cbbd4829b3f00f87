"""`python -m load_juggler.replay`: its output, and the one line it stops with on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from load_juggler.replay import main
from tests.replay.replaying import APPS, DATA, DAY_CSV

WINDOW = ["--from", "2026-06-21T18:00:00Z", "--to", "2026-06-21T19:30:00Z"]


def _args(*extra: str, history: Path = DAY_CSV, apps: Path = APPS) -> list[str]:
    return ["--apps", str(apps), "--history", str(history), *extra]


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_a_missing_entity_stops_with_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "day.csv"
    lines = DAY_CSV.read_text().splitlines(keepends=True)
    history.write_text("".join(line for line in lines if "wallbox_status" not in line))
    assert main(_args(history=history)) == 2
    err = _one_error_line(capsys)
    assert "no history of sensor.wallbox_status_connector" in err
    assert "wallbox: entities.status_connector" in err


def test_grid_attributes_from_a_csv_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = tmp_path / "apps.yaml"
    apps.write_text(
        (DATA / "apps.yaml")
        .read_text()
        .replace(
            "[sensor.grid_current_l1, sensor.grid_current_l2, sensor.grid_current_l3]",
            "sensor.grid_current_l1",
        )
    )
    assert main(_args(apps=apps)) == 2
    err = _one_error_line(capsys)
    assert "sensor.grid_current_l1 has no attribute L1" in err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--from", "yesterday"], "--from: 'yesterday' is not an ISO time"),
        (["--from", "2026-06-21T19:00:00Z", "--to", "2026-06-21T18:00:00Z"], "is empty"),
    ],
)
def test_a_bad_period_is_one_line(
    extra: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(*extra)) == 2
    assert words in _one_error_line(capsys)


def test_a_missing_history_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(history=tmp_path / "home-assistant_v2.db")) == 2
    assert "home-assistant_v2.db: not found" in _one_error_line(capsys)


def test_summary_shows_recorded_against_load_juggler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_args(*WINDOW)) == 0
    out = capsys.readouterr().out
    assert "recorded vs Load Juggler" in out
    # 18:10-19:00 on phase A, recorded; none replayed.
    row = next(line for line in out.splitlines() if "overload site.A (s)" in line)
    assert row.split()[-2:] == ["3000", "0"]


def test_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "replay.png"
    assert main(_args(*WINDOW, "--json", "--plot", str(plot))) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recorded"]["overload_s"]["site.A"] == 3000.0
    assert report["metrics"]["overload_s"]["site.A"] == 0.0
    # 90 minutes of 5 s cycles.
    assert len(report["steps"]) == 90 * 12
    assert report["history"]["sensor.wallbox_status_connector"]["records"] >= 1
    assert plot.stat().st_size > 10_000


def test_import_cost_at_the_recorded_price(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """18:00-20:00 with no solar, 0.20 per kWh until 19:00 and 0.40 after.
    Recorded: 18:00-18:10 house 12+1+1 A = 3220 W; 18:10-19:00 with the car 28+17+17 A =
    14 260 W; 19:00-20:00 17+17+17 A = 11 730 W:
    (3220 x 10/60 + 14 260 x 50/60) Wh x 0.20 + 11 730 Wh x 0.40 = 2.484 + 4.692 = 7.176.
    Replayed: the car comes at 18:09 and gets 13 A per line until 19:00 (12+1+1 + 39 A =
    12 190 W), then 16 A as recorded: (3220 x 9/60 + 12 190 x 51/60) x 0.20 + 4.692 = 6.861,
    a little less while the car ramps up from 6 A."""
    history = tmp_path / "day.csv"
    history.write_text(
        DAY_CSV.read_text()
        + "sensor.price,0.2,2026-06-21T00:00:00.000Z\n"
        + "sensor.price,0.4,2026-06-21T19:00:00.000Z\n"
    )
    window = ["--from", "2026-06-21T18:00:00Z", "--to", "2026-06-21T20:00:00Z"]
    assert main(_args(*window, "--price-entity", "sensor.price", "--json", history=history)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cost"]["recorded"] == pytest.approx(7.176, abs=0.005)
    assert report["cost"]["replayed"] == pytest.approx(6.861, abs=0.03)
    assert main(_args(*window, "--price-entity", "sensor.price", history=history)) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "import cost" in line)
    recorded, replayed = row.split()[-2:]
    assert recorded == "7.18"
    assert float(replayed) == pytest.approx(6.861, abs=0.03)  # less the ramp from 6 A


def test_a_price_entity_missing_from_the_history_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_args("--price-entity", "sensor.price")) == 2
    assert "no history of sensor.price (--price-entity)" in _one_error_line(capsys)
