"""Start and stop the real Home Assistant and AppDaemon processes the e2e tests run against.

Each runs in its own process group with its output in files, so a test can attach the logs to a
failure and teardown can take down everything a process started. Stopping is bounded: a polite
signal first (HA: SIGTERM, AppDaemon: SIGINT, which both handle as a clean shutdown), SIGKILL to
the whole group after a deadline.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from .ha_client import HAClient, http_is_up, long_lived_token, wait_for
from .ha_target import HATarget, choose_here

REPO = Path(__file__).resolve().parents[2]
HA_CONFIG_TEMPLATE = Path(__file__).resolve().parent / "ha_config"
INSTALL_COMMAND = "bash tests/e2e/setup_ha.sh"
HA_USER = "loadjuggler"
HA_PASSWORD = "e2e-only-password"  # a throw-away instance on loopback, deleted after the run
# The same place on earth and time zone in HA and AppDaemon, so both agree on local time.
LOCATION = {"latitude": 46.05, "longitude": 14.5, "elevation": 300, "time_zone": "Europe/Ljubljana"}


@functools.cache
def ha_target() -> HATarget:
    """The Home Assistant release, Python and venv of this run, chosen as setup_ha.sh chooses
    them (tests/e2e/ha_target.py); TargetError when the machine has no Python for any."""
    return choose_here()


def ha_venv() -> Path:
    """Where setup_ha.sh puts the chosen Home Assistant (LJ_E2E_HA_VENV overrides)."""
    return ha_target().venv


def installed_ha(venv: Path) -> tuple[str, str] | None:
    """(Home Assistant version, Python version) installed in `venv`, read from its files, or
    None when it holds no Home Assistant."""
    dists = sorted(venv.glob("lib/python*/site-packages/homeassistant-*.dist-info"))
    config = venv / "pyvenv.cfg"
    if not dists or not config.exists():
        return None
    ha_version = dists[-1].name.removeprefix("homeassistant-").removesuffix(".dist-info")
    python = ""
    for line in config.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            python = value.strip()
    return ha_version, python


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 80) -> str:
    """The end of a log file, for failure messages."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or f"({path} is empty)"


def _stop_group(process: subprocess.Popen[bytes], first: signal.Signals, grace_s: float) -> str:
    """Signal the process, wait up to `grace_s`, then SIGKILL its whole process group."""
    if process.poll() is not None:
        return f"had already exited with {process.returncode}"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, first)
    try:
        code = process.wait(timeout=grace_s)
        outcome = f"stopped by {first.name} with {code}"
    except subprocess.TimeoutExpired:
        outcome = f"ignored {first.name} for {grace_s:.0f} s, killed"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything the process left behind in its group
    process.wait(timeout=10)
    return outcome


class HomeAssistant:
    """A throw-away Home Assistant on 127.0.0.1 with the fake OCPP plant."""

    def __init__(self, workdir: Path) -> None:
        self.config_dir = workdir / "ha"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.config_dir / "home-assistant.log"
        self.stdout_path = workdir / "ha-stdout.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.client: HAClient | None = None
        self.start_s = 0.0
        self.stop_outcome = ""

    @property
    def hass(self) -> Path:
        """The hass entry point of the dedicated venv."""
        return ha_venv() / "bin" / "hass"

    @property
    def auth_script(self) -> list[str]:
        """`hass --script auth` for this config dir (user management without a running HA)."""
        return [str(self.hass), "--script", "auth", "-c", str(self.config_dir)]

    def logs(self) -> str:
        """HA's log tail (and its stdout/stderr), for failure reports."""
        return (
            f"--- Home Assistant log ({self.log_path}) ---\n{tail(self.log_path)}\n"
            f"--- Home Assistant stdout/stderr ---\n{tail(self.stdout_path, 15)}"
        )

    def start(self, timeout_s: float = 120.0) -> HAClient:
        """Copy the config, create the user, start HA, make a long-lived token and wait until
        HA runs and the plant's entities exist."""
        if not self.hass.exists():
            raise RuntimeError(
                f"Home Assistant for the e2e tests is not installed ({self.hass} missing); "
                f"install it with: {INSTALL_COMMAND}   (or set LJ_SKIP_E2E=1 to skip these tests)"
            )
        shutil.copytree(
            HA_CONFIG_TEMPLATE,
            self.config_dir,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        self._mark_onboarded()
        env = {**os.environ, "LJ_E2E_HA_PORT": str(self.port)}
        created = subprocess.run(
            [*self.auth_script, "add", HA_USER, HA_PASSWORD],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(
                f"`hass --script auth add` failed ({created.returncode}):\n"
                f"{created.stdout}\n{created.stderr}"
            )
        began = time.monotonic()
        with self.stdout_path.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    str(self.hass),
                    "-c",
                    str(self.config_dir),
                    "--skip-pip",
                    "--log-no-color",
                    "--log-file",
                    str(self.log_path),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        wait_for(
            lambda: self._alive() and http_is_up(self.base_url),
            timeout_s,
            "Home Assistant's HTTP server",
            interval=0.5,
            describe=self.logs,
        )
        self.token = long_lived_token(self.base_url, HA_USER, HA_PASSWORD, "appdaemon")
        client = HAClient(self.base_url, self.token)
        wait_for(
            lambda: self._alive() and client.get("/api/config").get("state") == "RUNNING",
            timeout_s - (time.monotonic() - began),
            "Home Assistant to reach RUNNING",
            interval=0.5,
            describe=self.logs,
        )
        config = client.get("/api/config")
        needed = {"fake_ocpp", "input_number", "input_select", "input_boolean", "template"}
        missing = sorted(needed - set(config.get("components", [])))
        if config.get("recovery_mode") or missing:
            raise AssertionError(
                "Home Assistant started without some of its integrations (recovery mode: "
                f"{config.get('recovery_mode')}, missing: {missing}); a requirement missing "
                f"from {ha_target().release.requirements}?\n{self.logs()}"
            )
        wait_for(
            lambda: client.state("sensor.charger_current_import") is not None,
            30,
            "the fake OCPP entities",
            describe=self.logs,
        )
        self.start_s = time.monotonic() - began
        self.client = client
        return client

    def _mark_onboarded(self) -> None:
        """Store onboarding as done, as after a user's first visit. While it is not, Home
        Assistant 2025.4 sets up the onboarding views, which import the cloud integration, and
        with it the camera's TurboJPEG loader, whose missing system library is an ERROR in the
        log. Nobody onboards a throw-away instance; its user comes from `hass --script auth`."""
        storage = self.config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        onboarding = {
            "version": 4,
            "minor_version": 1,
            "key": "onboarding",
            "data": {"done": ["user", "core_config", "analytics", "integration"]},
        }
        (storage / "onboarding").write_text(json.dumps(onboarding))

    def error_lines(self) -> list[str]:
        """ERROR and CRITICAL lines of HA's log: the test setup itself must cause none."""
        if not self.log_path.exists():
            return []
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if " ERROR (" in line or " CRITICAL (" in line
        ]

    def _alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"Home Assistant exited with {self.process.returncode}\n{self.logs()}"
            )
        return True

    def stop(self, grace_s: float = 30.0) -> str:
        """SIGTERM (HA's clean stop), SIGKILL the group after `grace_s`."""
        if self.process is not None:
            self.stop_outcome = _stop_group(self.process, signal.SIGTERM, grace_s)
        return self.stop_outcome


class AppDaemon:
    """`appdaemon -c DIR` connected to the test Home Assistant, running the given apps."""

    def __init__(self, workdir: Path, ha: HomeAssistant, name: str) -> None:
        self.dir = workdir / name
        self.app_dir = self.dir / "apps"
        self.main_log = self.dir / "main.log"
        self.error_log = self.dir / "error.log"
        self.stdout_path = self.dir / "stdout.log"
        self.ha = ha
        self.process: subprocess.Popen[bytes] | None = None
        self.stop_outcome = ""

    def logs(self) -> str:
        """AppDaemon's main and error log tails, for failure reports."""
        return (
            f"--- AppDaemon main log ({self.main_log}) ---\n{tail(self.main_log)}\n"
            f"--- AppDaemon error log ({self.error_log}) ---\n{tail(self.error_log)}\n"
            f"--- AppDaemon stdout/stderr ---\n{tail(self.stdout_path, 30)}"
        )

    def write_config(self, apps: dict[str, Any], packages: dict[str, Path]) -> None:
        """appdaemon.yaml pointing at the test HA, apps.yaml with `apps`, and the Python code
        (name -> source file or package dir) copied into app_dir: AppDaemon imports what it finds
        there, and a copy keeps its __pycache__ out of the source tree."""
        self.app_dir.mkdir(parents=True)
        for name, source in packages.items():
            if source.is_dir():
                shutil.copytree(
                    source,
                    self.app_dir / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
            else:
                shutil.copy2(source, self.app_dir / name)
        config = {
            "appdaemon": {
                **LOCATION,
                "app_dir": str(self.app_dir),
                "production_mode": True,
                "plugins": {
                    "HASS": {
                        "type": "hass",
                        "ha_url": self.ha.base_url,
                        "token": self.ha.token,
                    }
                },
            },
            "logs": {
                "main_log": {"filename": str(self.main_log)},
                "error_log": {"filename": str(self.error_log)},
            },
        }
        (self.dir / "appdaemon.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        (self.app_dir / "apps.yaml").write_text(yaml.safe_dump(apps, sort_keys=False))

    def start(self) -> None:
        """Start the AppDaemon of this venv; readiness is up to the caller (it knows its apps)."""
        with self.stdout_path.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "appdaemon", "-c", str(self.dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.dir,
                start_new_session=True,
            )

    def alive(self) -> bool:
        """False once the process has exited."""
        return self.process is not None and self.process.poll() is None

    def wait_log(self, text: str, timeout_s: float) -> None:
        """Wait for `text` in the main log; fail early if AppDaemon died."""

        def seen() -> bool:
            if not self.alive():
                raise AssertionError(f"AppDaemon exited early\n{self.logs()}")
            return self.main_log.exists() and text in self.main_log.read_text(errors="replace")

        wait_for(seen, timeout_s, f"{text!r} in AppDaemon's main log", describe=self.logs)

    def error_lines(self) -> list[str]:
        """Lines of the error log (AppDaemon writes app exceptions there)."""
        if not self.error_log.exists():
            return []
        return [line for line in self.error_log.read_text(errors="replace").splitlines() if line]

    def stop(self, grace_s: float = 20.0) -> str:
        """SIGINT (AppDaemon's clean stop: apps' terminate() run), SIGKILL after `grace_s`."""
        if self.process is not None:
            self.stop_outcome = _stop_group(self.process, signal.SIGINT, grace_s)
        return self.stop_outcome
