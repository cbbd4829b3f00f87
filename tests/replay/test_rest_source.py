"""`--ha-url`: the history from a running Home Assistant's REST API replays like the CSV.

A local HTTP server answers `/api/history/period/<start>` the way Home Assistant does (one list
per asked entity, starting with its state at `start`, attributes included) from the made-up day.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from load_juggler.replay import main
from tests.replay.recorder_db import csv_rows
from tests.replay.replaying import APPS, DAY_CSV

TOKEN = "test-token"
FROM, TO = "2026-06-21T17:30:00Z", "2026-06-21T20:00:00Z"


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat()


def _history(entities: list[str], start_s: float, end_s: float) -> list[list[dict[str, Any]]]:
    out = []
    for entity in entities:
        rows = [r for r in csv_rows(DAY_CSV) if r[0] == entity and r[2] <= end_s]
        before = [r for r in rows if r[2] < start_s][-1:]
        states = before + [r for r in rows if r[2] >= start_s]
        if states:
            out.append(
                [
                    {
                        "entity_id": e,
                        "state": s,
                        "attributes": {},
                        "last_changed": _iso(t),
                        "last_updated": _iso(t),
                    }
                    for e, s, t, _ in states
                ]
            )
    return out


class _HomeAssistant(BaseHTTPRequestHandler):
    requests: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        self.requests.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401, "Unauthorized")
            self.end_headers()
            return
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        start = urllib.parse.unquote(url.path.rsplit("/", 1)[-1])
        start_s = datetime.fromisoformat(start).timestamp()
        end_s = datetime.fromisoformat(query["end_time"][0]).timestamp()
        body = json.dumps(_history(query["filter_entity_id"][0].split(","), start_s, end_s))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ha_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HomeAssistant)
    _HomeAssistant.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _decisions(report: dict[str, Any]) -> dict[str, Any]:
    report["metrics"] = {k: v for k, v in report["metrics"].items() if not k.startswith("cycle_")}
    return report


def test_rest_history_replays_like_the_csv(
    ha_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HA_TOKEN", TOKEN)
    window = ["--from", FROM, "--to", TO, "--json", "--apps", str(APPS)]
    assert main([*window, "--ha-url", ha_url]) == 0
    from_rest = json.loads(capsys.readouterr().out)
    assert main([*window, "--history", str(DAY_CSV)]) == 0
    from_csv = json.loads(capsys.readouterr().out)
    assert _decisions(from_rest) == _decisions(from_csv)
    assert from_rest["recorded"]["overload_s"]["site.A"] == 3000.0
    ((path, auth),) = _HomeAssistant.requests
    assert auth == f"Bearer {TOKEN}"
    assert path.startswith("/api/history/period/2026-06-21T17%3A30%3A00%2B00%3A00?")
    asked = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["filter_entity_id"][0]
    assert "sensor.wallbox_status_connector" in asked.split(",")


def test_a_refused_token_is_one_line(
    ha_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HA_TOKEN", "wrong")
    assert main(["--apps", str(APPS), "--ha-url", ha_url, "--from", FROM, "--to", TO]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --ha-url {ha_url}: HTTP 401 Unauthorized (check HA_TOKEN)\n"


def test_no_token_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("HA_TOKEN", raising=False)
    url = "http://127.0.0.1:9"
    assert main(["--apps", str(APPS), "--ha-url", url, "--from", FROM]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --ha-url {url}: set HA_TOKEN to a long-lived access token")
    assert err.count("\n") == 1
