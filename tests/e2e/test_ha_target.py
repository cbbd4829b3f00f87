"""Which Home Assistant the e2e tests pick, checked without starting one: PYTHON_HA wins, then
LJ_HA_VERSION, then a 3.13 from pyenv (2025.4.4), else 3.11/3.12 (2024.3.3)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from .ha_target import REPO, HATarget, TargetError, Version, choose
from .processes import installed_ha


class Machine:
    """A made-up machine: a pyenv tree with the given versions, and Pythons elsewhere."""

    def __init__(self, root: Path, pyenv: list[str], others: dict[str, Version] | None = None):
        self.root = root / "pyenv"
        self.versions: dict[Path, Version] = {}
        self.path: dict[str, str] = {}
        for name in pyenv:
            numbers = name.rstrip("t").split(".")
            python = self.root / "versions" / name / "bin" / f"python{numbers[0]}.{numbers[1]}"
            python.parent.mkdir(parents=True)
            python.touch()
            if name.replace(".", "").isdigit():
                self.versions[python] = (int(numbers[0]), int(numbers[1]), int(numbers[2]))
        for command, version in (others or {}).items():
            python = root / "bin" / command
            self.versions[python] = version
            self.path[command] = str(python)

    def choose(self, **env: str) -> HATarget:
        return choose(env, [self.root], self.path.get, self.versions.get)


def test_pyenv_313_picks_2025_with_the_newest_patch(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.11.7", "3.12.1", "3.13.0", "3.13.2", "3.13.3t"])
    target = machine.choose()
    assert target.release.version == "2025.4.4"
    assert target.python == machine.root / "versions" / "3.13.2" / "bin" / "python3.13"
    assert target.python_version == (3, 13, 2)
    assert target.venv == REPO / ".venv-ha-2025"
    assert target.reason == "pyenv 3.13"
    assert target.describe().startswith("Home Assistant 2025.4.4 on Python 3.13.2 (")


def test_without_313_the_311_runs_2024(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.10.13", "3.11.7", "3.12.1"])
    target = machine.choose()
    assert target.release.version == "2024.3.3"
    assert target.python_version == (3, 11, 7)
    assert target.venv == REPO / ".venv-ha"
    assert target.release.requirements == "requirements-e2e.txt"


def test_python313_on_path_counts_without_pyenv(tmp_path: Path) -> None:
    machine = Machine(tmp_path, [], {"python3.13": (3, 13, 1), "python3": (3, 11, 2)})
    target = machine.choose()
    assert (target.release.version, target.reason) == ("2025.4.4", "python3.13 on PATH")


def test_python3_serves_2024_when_it_is_312(tmp_path: Path) -> None:
    machine = Machine(tmp_path, [], {"python3": (3, 12, 3)})
    target = machine.choose()
    assert (target.release.version, target.reason) == ("2024.3.3", "python3 on PATH")


def test_python_ha_wins_over_pyenv(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.13.0"], {"py311": (3, 11, 9)})
    target = machine.choose(PYTHON_HA=machine.path["py311"])
    assert target.release.version == "2024.3.3"
    assert target.python == Path(machine.path["py311"])
    assert target.reason == "PYTHON_HA"


def test_python_ha_313_gives_2025(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.11.7"], {"py313": (3, 13, 0)})
    assert machine.choose(PYTHON_HA=machine.path["py313"]).release.version == "2025.4.4"


def test_python_ha_of_no_supported_version_is_refused(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.13.0"], {"py310": (3, 10, 13)})
    with pytest.raises(TargetError) as err:
        machine.choose(PYTHON_HA=machine.path["py310"])
    message = str(err.value)
    assert f"PYTHON_HA={machine.path['py310']} is Python 3.10.13" in message
    assert "2025.4.4 needs 3.13" in message and "2024.3.3 needs 3.11 or 3.12" in message


def test_python_ha_that_does_not_run_is_refused(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.13.0"])
    with pytest.raises(TargetError, match="PYTHON_HA=/nowhere/python does not run"):
        machine.choose(PYTHON_HA="/nowhere/python")


def test_lj_ha_version_forces_2024_on_a_313_machine(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.11.7", "3.13.0"])
    target = machine.choose(LJ_HA_VERSION="2024.3.3")
    assert target.release.version == "2024.3.3"
    assert target.python_version == (3, 11, 7)
    assert target.reason == "LJ_HA_VERSION, pyenv 3.11"


def test_lj_ha_version_2025_without_313_fails(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.11.7"])
    with pytest.raises(TargetError, match=r"2025\.4\.4 needs 3\.13.*PYTHON_HA"):
        machine.choose(LJ_HA_VERSION="2025.4.4")


def test_lj_ha_version_unknown_is_refused(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.13.0"])
    with pytest.raises(TargetError, match=r"LJ_HA_VERSION='2023\.1' .*2025\.4\.4, 2024\.3\.3"):
        machine.choose(LJ_HA_VERSION="2023.1")


def test_lj_ha_version_and_python_ha_must_agree(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.13.0"], {"py311": (3, 11, 7)})
    with pytest.raises(TargetError, match=r"is Python 3\.11\.7; Home Assistant 2025\.4\.4 needs"):
        machine.choose(LJ_HA_VERSION="2025.4.4", PYTHON_HA=machine.path["py311"])


def test_no_python_at_all_names_the_way_out(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.10.13"])
    with pytest.raises(TargetError, match="install one with pyenv or set PYTHON_HA"):
        machine.choose()


def test_lj_e2e_ha_venv_overrides_the_release_venv(tmp_path: Path) -> None:
    machine = Machine(tmp_path, ["3.13.0"])
    assert machine.choose(LJ_E2E_HA_VENV="elsewhere").venv == REPO / "elsewhere"
    assert machine.choose(LJ_E2E_HA_VENV=str(tmp_path)).venv == tmp_path


def test_shell_lines_are_what_setup_ha_evals() -> None:
    """The real script entry point with this interpreter (3.11) as PYTHON_HA."""
    env = {**os.environ, "PYTHON_HA": sys.executable}
    env.pop("LJ_HA_VERSION", None)
    env.pop("LJ_E2E_HA_VENV", None)
    out = subprocess.run(
        [sys.executable, str(REPO / "tests" / "e2e" / "ha_target.py"), "--shell"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout
    values = dict(shlex.split(line)[0].split("=", 1) for line in out.splitlines())
    assert values["LJ_HA_VERSION"] == "2024.3.3"
    assert values["LJ_HA_PYTHON"] == sys.executable
    assert values["LJ_HA_VENV"] == str(REPO / ".venv-ha")
    assert values["LJ_HA_REQUIREMENTS"] == str(REPO / "requirements-e2e.txt")
    assert values["LJ_HA_DESCRIBE"].endswith("chosen by PYTHON_HA)")


def test_installed_ha_reads_the_venv(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.13" / "site-packages"
    (site / "homeassistant-2025.4.4.dist-info").mkdir(parents=True)
    (site / "homeassistant_frontend-20250404.0.dist-info").mkdir()
    (tmp_path / "pyvenv.cfg").write_text("home = /x/bin\nversion = 3.13.0\n")
    assert installed_ha(tmp_path) == ("2025.4.4", "3.13.0")
    assert installed_ha(tmp_path / "missing") is None
