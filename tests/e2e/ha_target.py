"""Which Home Assistant the end-to-end tests run on, with which Python, in which venv.

Home Assistant 2025.4.4 needs Python 3.13; 2024.3.3 (the last the integration's 0.5.x loads on)
runs on 3.11 or 3.12. A machine with a 3.13 tests the newer one, any other the older one, so the
choice is made here once, for setup_ha.sh (`python3 tests/e2e/ha_target.py --shell`) and for the
pytest fixtures alike:

1. `PYTHON_HA` (a path to a python) wins; its version picks the Home Assistant release.
2. `LJ_HA_VERSION` (2025.4.4 or 2024.3.3) forces a release; its Python is searched as below.
3. Otherwise a 3.13 from pyenv (`$PYENV_ROOT`, `pyenv root`, ~/.pyenv: versions/3.13.*) or
   `python3.13` on PATH gives 2025.4.4; else a 3.11 (then 3.12) found the same way, or `python3`
   when it is one, gives 2024.3.3.

Each release has its own venv (`.venv-ha-2025`, `.venv-ha`), so switching never reinstalls;
`LJ_E2E_HA_VENV` points at another one. Standard library only: setup_ha.sh runs this before any
venv exists.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

Version = tuple[int, int, int]


@dataclass(frozen=True)
class HARelease:
    """A Home Assistant release the e2e tests support: its Pythons, venv and pinned install."""

    version: str
    pythons: tuple[tuple[int, int], ...]
    venv: str
    requirements: str

    def runs_on(self, python: Version) -> bool:
        """Whether this release installs on that Python (major, minor)."""
        return python[:2] in self.pythons

    def pythons_text(self) -> str:
        """'3.11 or 3.12', for error messages."""
        return " or ".join(f"{major}.{minor}" for major, minor in self.pythons)


HA_2025 = HARelease("2025.4.4", ((3, 13),), ".venv-ha-2025", "tests/e2e/requirements-ha-2025.txt")
HA_2024 = HARelease("2024.3.3", ((3, 11), (3, 12)), ".venv-ha", "requirements-e2e.txt")
# Newest first: the automatic choice takes the first release the machine has a Python for.
RELEASES = (HA_2025, HA_2024)


class TargetError(Exception):
    """No Home Assistant can be chosen: one line naming the variable, its value and what works."""


@dataclass(frozen=True)
class HATarget:
    """The chosen release, the Python that builds its venv, and why it was chosen."""

    release: HARelease
    python: Path
    python_version: Version
    venv: Path
    reason: str

    def describe(self) -> str:
        """The one line printed at the start of an e2e run and in the pytest header."""
        dotted = ".".join(map(str, self.python_version))
        return (
            f"Home Assistant {self.release.version} on Python {dotted} "
            f"({self.python}; venv {self.venv}; chosen by {self.reason})"
        )

    def shell(self) -> str:
        """Shell assignments for setup_ha.sh (`eval`)."""
        values = {
            "LJ_HA_VERSION": self.release.version,
            "LJ_HA_PYTHON": str(self.python),
            "LJ_HA_PYTHON_VERSION": ".".join(map(str, self.python_version)),
            "LJ_HA_VENV": str(self.venv),
            "LJ_HA_REQUIREMENTS": str(REPO / self.release.requirements),
            "LJ_HA_DESCRIBE": self.describe(),
        }
        return "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())


def python_version(python: Path) -> Version | None:
    """The version of the interpreter at `python`, None when it does not run."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def pyenv_roots(env: Mapping[str, str]) -> list[Path]:
    """Where pyenv keeps its Pythons: $PYENV_ROOT, `pyenv root`, ~/.pyenv (first wins)."""
    roots: list[Path] = []
    if env.get("PYENV_ROOT"):
        roots.append(Path(env["PYENV_ROOT"]))
    pyenv = shutil.which("pyenv", path=env.get("PATH"))
    if pyenv:
        try:
            out = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=20, check=False
            )
            if out.returncode == 0 and out.stdout.strip():
                roots.append(Path(out.stdout.strip()))
        except (OSError, subprocess.TimeoutExpired):
            pass
    roots.append(Path(env.get("HOME", str(Path.home()))) / ".pyenv")
    unique: list[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def pyenv_pythons(roots: Sequence[Path], major: int, minor: int) -> list[Path]:
    """`versions/<major>.<minor>.<patch>/bin/python<major>.<minor>` under the roots, newest
    patch first (free-threaded `t` builds and `-dev` trees are left out)."""
    pattern = re.compile(rf"^{major}\.{minor}\.(\d+)$")
    found: list[tuple[int, Path]] = []
    for root in roots:
        versions = root / "versions"
        if not versions.is_dir():
            continue
        for entry in versions.iterdir():
            match = pattern.match(entry.name)
            python = entry / "bin" / f"python{major}.{minor}"
            if match and python.exists():
                found.append((int(match.group(1)), python))
    found.sort(key=lambda item: -item[0])
    return [python for _, python in found]


def find_python(
    release: HARelease,
    roots: Sequence[Path],
    which: Callable[[str], str | None],
    version_of: Callable[[Path], Version | None],
) -> tuple[Path, Version, str] | None:
    """The first Python the release runs on: pyenv's, then `pythonX.Y` on PATH, then
    `python3`; with where it was found."""
    candidates: list[tuple[Path, str]] = []
    for major, minor in release.pythons:
        candidates += [(p, f"pyenv {major}.{minor}") for p in pyenv_pythons(roots, major, minor)]
        on_path = which(f"python{major}.{minor}")
        if on_path:
            candidates.append((Path(on_path), f"python{major}.{minor} on PATH"))
    python3 = which("python3")
    if python3:
        candidates.append((Path(python3), "python3 on PATH"))
    for python, where in candidates:
        version = version_of(python)
        if version is not None and release.runs_on(version):
            return python, version, where
    return None


def choose(
    env: Mapping[str, str],
    roots: Sequence[Path],
    which: Callable[[str], str | None],
    version_of: Callable[[Path], Version | None],
) -> HATarget:
    """Apply the rules of the module docstring; TargetError when none can be met."""
    forced_name = env.get("LJ_HA_VERSION", "").strip()
    forced: HARelease | None = None
    if forced_name:
        matches = [r for r in RELEASES if r.version == forced_name]
        if not matches:
            allowed = ", ".join(r.version for r in RELEASES)
            raise TargetError(f"LJ_HA_VERSION={forced_name!r} is not supported; use {allowed}")
        forced = matches[0]

    chosen: tuple[HARelease, Path, Version, str] | None = None
    if env.get("PYTHON_HA"):
        python = Path(env["PYTHON_HA"])
        version = version_of(python)
        if version is None:
            raise TargetError(f"PYTHON_HA={python} does not run as a Python interpreter")
        candidates = [forced] if forced else list(RELEASES)
        fits = [r for r in candidates if r is not None and r.runs_on(version)]
        if not fits:
            needs = "; ".join(f"{r.version} needs {r.pythons_text()}" for r in candidates if r)
            dotted = ".".join(map(str, version))
            raise TargetError(f"PYTHON_HA={python} is Python {dotted}; Home Assistant {needs}")
        chosen = (fits[0], python, version, "PYTHON_HA")
    else:
        for release in [forced] if forced else RELEASES:
            assert release is not None
            found = find_python(release, roots, which, version_of)
            if found:
                python, version, where = found
                why = f"LJ_HA_VERSION, {where}" if forced else where
                chosen = (release, python, version, why)
                break
        if chosen is None:
            wanted = [forced] if forced else list(RELEASES)
            needs = "; ".join(f"{r.version} needs {r.pythons_text()}" for r in wanted if r)
            raise TargetError(
                f"no Python for the e2e Home Assistant ({needs}): install one with pyenv "
                "or set PYTHON_HA=/path/to/python"
            )

    release, python, version, reason = chosen
    configured = env.get("LJ_E2E_HA_VENV")
    venv = Path(configured) if configured else Path(release.venv)
    if not venv.is_absolute():
        venv = REPO / venv
    return HATarget(release, python, version, venv, reason)


def choose_here() -> HATarget:
    """The choice for this process's environment and machine."""
    env = dict(os.environ)
    return choose(
        env,
        pyenv_roots(env),
        lambda name: shutil.which(name, path=env.get("PATH")),
        python_version,
    )


def main(argv: Sequence[str]) -> int:
    """`--shell`: assignments for setup_ha.sh; otherwise the one-line description."""
    try:
        target = choose_here()
    except TargetError as err:
        print(f"ha_target: {err}", file=sys.stderr)
        return 1
    print(target.shell() if "--shell" in argv else target.describe(), end="")
    if "--shell" not in argv:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
