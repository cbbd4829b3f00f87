"""Just enough of Home Assistant's REST and websocket APIs for the tests, on loopback only.

Standard library HTTP keeps the client free of extra pins; the websocket is needed once, to turn a
login into the long-lived token AppDaemon is configured with (aiohttp comes with AppDaemon).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")


class HAError(RuntimeError):
    """An HTTP error from Home Assistant, with its status and body."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def _request(
    method: str,
    url: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Any:
    headers = {}
    data = None
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read().decode()
    except urllib.error.HTTPError as err:
        raise HAError(method, url, err.code, err.read().decode(errors="replace")) from err
    return json.loads(raw) if raw else None


def http_is_up(base_url: str) -> bool:
    """True once HA's HTTP server answers at all (a 4xx counts: only the socket matters)."""
    try:
        _request("GET", f"{base_url}/auth/providers", timeout=2.0)
    except HAError:
        return True
    except (OSError, ValueError):
        return False
    return True


def login(base_url: str, username: str, password: str) -> str:
    """Run HA's login flow for a user of the homeassistant auth provider; return an access
    token."""
    client_id = f"{base_url}/"
    flow = _request(
        "POST",
        f"{base_url}/auth/login_flow",
        json_body={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    step = _request(
        "POST",
        f"{base_url}/auth/login_flow/{flow['flow_id']}",
        json_body={"client_id": client_id, "username": username, "password": password},
    )
    if step.get("type") != "create_entry":
        raise RuntimeError(f"login flow did not finish: {step}")
    tokens = _request(
        "POST",
        f"{base_url}/auth/token",
        form={"grant_type": "authorization_code", "code": step["result"], "client_id": client_id},
    )
    return str(tokens["access_token"])


async def _long_lived(base_url: str, access_token: str, client_name: str) -> str:
    ws_url = base_url.replace("http://", "ws://", 1) + "/api/websocket"
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.ws_connect(ws_url) as ws:
        hello = await ws.receive_json()
        if hello.get("type") != "auth_required":
            raise RuntimeError(f"unexpected websocket greeting: {hello}")
        await ws.send_json({"type": "auth", "access_token": access_token})
        auth = await ws.receive_json()
        if auth.get("type") != "auth_ok":
            raise RuntimeError(f"websocket auth failed: {auth}")
        await ws.send_json(
            {
                "id": 1,
                "type": "auth/long_lived_access_token",
                "client_name": client_name,
                "lifespan": 30,
            }
        )
        result = await ws.receive_json()
        if not result.get("success"):
            raise RuntimeError(f"long-lived token refused: {result}")
        return str(result["result"])


def long_lived_token(base_url: str, username: str, password: str, client_name: str) -> str:
    """Log in and exchange the short access token for a long-lived one, as a user does in the
    UI for AppDaemon."""
    return asyncio.run(_long_lived(base_url, login(base_url, username, password), client_name))


class HAClient:
    """REST calls the tests make, authenticated with a long-lived token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def get(self, path: str) -> Any:
        """GET an API path such as `/api/config`."""
        return _request("GET", f"{self.base_url}{path}", token=self.token)

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """The full state object, or None when HA does not know the entity."""
        try:
            return self.get(f"/api/states/{entity_id}")
        except HAError as err:
            if err.status == 404:
                return None
            raise

    def value(self, entity_id: str) -> str | None:
        """Just the state string."""
        state = self.state(entity_id)
        return None if state is None else str(state["state"])

    def number(self, entity_id: str) -> float | None:
        """The state as a float; None when missing, unavailable or not numeric."""
        value = self.value(entity_id)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def states(self) -> list[dict[str, Any]]:
        """Every state HA holds."""
        return list(self.get("/api/states"))

    def call(self, domain: str, service: str, **data: Any) -> Any:
        """Call a service; HTTP 400 (schema refused) raises HAError."""
        return _request(
            "POST",
            f"{self.base_url}/api/services/{domain}/{service}",
            token=self.token,
            json_body=data,
        )

    def set_number(self, entity_id: str, value: float) -> None:
        """Move an input_number, as a user or an automation would."""
        self.call("input_number", "set_value", entity_id=entity_id, value=value)

    def select(self, entity_id: str, option: str) -> None:
        """Pick an input_select option."""
        self.call("input_select", "select_option", entity_id=entity_id, option=option)

    def switch(self, entity_id: str, on: bool) -> None:
        """Turn an input_boolean or switch on or off."""
        domain = entity_id.split(".", 1)[0]
        self.call(domain, "turn_on" if on else "turn_off", entity_id=entity_id)


def wait_for(
    probe: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.25,
    describe: Callable[[], str] | None = None,
) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` (and `describe()`) after
    `timeout` seconds. Every wait in these tests is bounded this way."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            detail = f"; {describe()}" if describe is not None else f"; last value {last!r}"
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)
