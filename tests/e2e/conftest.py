"""Fixtures for the e2e tier: one Home Assistant per session, AppDaemon per module or test.

A missing HA venv is a failure that names the install command, not a skip: the README's test
command installs it, so its absence means the suite was run wrong. LJ_SKIP_E2E=1 skips instead.
On failure the HA and AppDaemon log tails are attached to the test report.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .ha_client import HAClient
from .ha_target import TargetError
from .lj_apps import apps_config
from .processes import (
    INSTALL_COMMAND,
    REPO,
    AppDaemon,
    HomeAssistant,
    ha_target,
    installed_ha,
)

E2E_DIR = Path(__file__).resolve().parent


RAN_ON = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The Home Assistant the e2e tests will use (shown when pytest starts in tests/e2e)."""
    if os.environ.get("LJ_SKIP_E2E") == "1":
        return ["e2e: skipped (LJ_SKIP_E2E=1)"]
    try:
        return [f"e2e: {ha_target().describe()}"]
    except TargetError as err:
        return [f"e2e: {err}"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The Home Assistant the e2e tests ran on, in the report whatever directory pytest began in."""
    ran_on = config.stash.get(RAN_ON, None)
    if ran_on:
        terminalreporter.write_line(f"e2e ran on {ran_on}")


def _checked_install() -> str:
    """The chosen target, checked against what its venv holds; fails the session, naming the
    install command, when Home Assistant is missing or another release or Python is there."""
    try:
        target = ha_target()
    except TargetError as err:
        pytest.fail(f"{err} (or set LJ_SKIP_E2E=1 to skip the e2e tests)", pytrace=False)
    found = installed_ha(target.venv) if (target.venv / "bin" / "hass").exists() else None
    want_python = ".".join(map(str, target.python_version[:2]))
    if found is None or found[0] != target.release.version or not found[1].startswith(want_python):
        have = f"it holds {found[0]} on Python {found[1]}" if found else "it holds none"
        pytest.fail(
            f"Home Assistant {target.release.version} on Python {want_python} is not installed "
            f"in {target.venv} ({have}). Install it with `{INSTALL_COMMAND}` (./run.sh test "
            "does), or set LJ_SKIP_E2E=1 to skip the e2e tests.",
            pytrace=False,
        )
    return f"Home Assistant {found[0]} on Python {found[1]} ({target.venv}; {target.reason})"


@pytest.fixture(scope="session")
def ha(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HomeAssistant]:
    """A running Home Assistant with the fake OCPP plant, stopped at the end of the session."""
    if os.environ.get("LJ_SKIP_E2E") == "1":
        pytest.skip("LJ_SKIP_E2E=1: end-to-end tests skipped")
    ran_on = _checked_install()
    request.config.stash[RAN_ON] = ran_on
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # else fd capture swallows the line
            reporter.write_line(f"e2e: starting {ran_on}")
    instance = HomeAssistant(tmp_path_factory.mktemp("e2e"))
    try:
        instance.start()
        print(f"\nHome Assistant up on {instance.base_url} in {instance.start_s:.1f} s")
        yield instance
    finally:
        outcome = instance.stop()
        print(f"\nHome Assistant {outcome}")


@pytest.fixture
def ha_client(ha: HomeAssistant) -> HAClient:
    """REST client with the session's long-lived token."""
    assert ha.client is not None
    return ha.client


def start_appdaemon(
    ha: HomeAssistant, name: str, apps: dict[str, Any], packages: dict[str, Path]
) -> AppDaemon:
    """Write the config for `apps`, start AppDaemon; the caller waits for its apps and stops it."""
    appdaemon = AppDaemon(ha.config_dir.parent, ha, name)
    appdaemon.write_config(apps, packages)
    appdaemon.start()
    return appdaemon


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the log tails of every HA / AppDaemon the failed test used."""
    report = yield
    if report.failed:
        funcargs: dict[str, Any] = getattr(item, "funcargs", {})
        for name, value in funcargs.items():
            if isinstance(value, HomeAssistant | AppDaemon):
                report.sections.append((f"e2e logs ({name})", value.logs()))
    return report


def start_load_juggler(ha: HomeAssistant, name: str, timeout_s: float = 60.0) -> AppDaemon:
    """AppDaemon running the Load Juggler package from apps/ with the e2e apps.yaml, both loads
    registered with the hub. The fake charger is reset first so no earlier profile lingers."""
    assert ha.client is not None
    ha.client.call("fake_ocpp", "reset")
    appdaemon = start_appdaemon(
        ha, name, apps_config(), {"load_juggler": REPO / "apps" / "load_juggler"}
    )
    try:
        for load in ("evse", "boiler"):
            appdaemon.wait_log(f"{load}: registered with hub 'lj_hub'", timeout_s)
    except BaseException:
        print(appdaemon.logs())
        appdaemon.stop()
        raise
    return appdaemon
