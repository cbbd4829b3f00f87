"""What the apps learn or are told at run time and must keep across an AppDaemon restart.

A learned phase map, the phases a car uses in its running session, a live mode override: each is
worth minutes or hours of observation or a user's command, and an AppDaemon restart (an update,
a saved apps.yaml) must not lose it. One small JSON file per hub (`state_file`, under AppDaemon's
config directory) holds it, as sections keyed by topic, each a JSON object that its owner reads
and replaces whole.

A missing file is a first start; an unreadable or corrupt one is logged, kept aside as
`<name>.corrupt` for the user to look at, and the hub starts with nothing learned: losing the
learned state costs some relearning, refusing to start would cost the breakers their guard.

Writes go to a temporary file that replaces the old one, so a crash mid-write leaves the last
good file; a section is only written when it changed, so a steady state costs no disk writes.
The hub's and the loads' threads may both write: one lock guards the content.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The file name used when the hub gives no `state_file`.
DEFAULT_STATE_FILE = "load_juggler_state.json"

#: A log sink: (line, level) with AppDaemon's level names.
LogFn = Callable[[str, str], None]


class StateFile:
    """Sections of JSON data, loaded once at start and saved on every change."""

    def __init__(self, path: Path | None, log: LogFn) -> None:
        """`path` None keeps everything in memory only (tests, a hub without a file)."""
        self.path = path
        self._log = log
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}

    def load(self) -> None:
        """Read the file; a missing or corrupt file leaves the state empty (and says why)."""
        if self.path is None:
            return
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._log(f"state file {self.path} not found: starting with nothing learned", "INFO")
            return
        except OSError as err:
            self._log(f"state file {self.path} unreadable ({err}): ignored", "WARNING")
            return
        try:
            data = json.loads(text)
        except ValueError as err:
            self._set_aside(f"is not JSON ({err})")
            return
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            self._set_aside("does not hold an object of sections")
            return
        with self._lock:
            self._data = data
        self._log(
            f"state file {self.path}: read {', '.join(sorted(data)) or 'no'} section(s)", "INFO"
        )

    def _set_aside(self, why: str) -> None:
        assert self.path is not None
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, aside)
            kept = f"kept as {aside}"
        except OSError as err:
            kept = f"could not keep it aside: {err}"
        self._log(
            f"state file {self.path} {why}: ignored, {kept}; starting with nothing learned",
            "WARNING",
        )

    def get(self, section: str) -> dict[str, Any]:
        """A copy of one section ({} when absent): callers may change it freely."""
        with self._lock:
            return copy.deepcopy(self._data.get(section, {}))

    def put(self, section: str, value: dict[str, Any]) -> None:
        """Replace one section (an empty dict removes it) and save if anything changed.

        Raises TypeError for a value JSON cannot hold: a programming error, caught in tests.
        """
        json.dumps(value)
        with self._lock:
            old = self._data.get(section, {})
            if old == value:
                return
            if value:
                self._data[section] = copy.deepcopy(value)
            else:
                self._data.pop(section, None)
            text = json.dumps(self._data, indent=1, sort_keys=True)
        self._save(text)

    def _save(self, text: str) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as err:
            self._log(f"state file {self.path} not saved ({err}): kept in memory", "WARNING")


def state_path(option: str | None, config_dir: Path | str) -> Path:
    """The hub's `state_file` option as a path: relative ones live under AppDaemon's config
    directory, where a user looks for them and a container keeps them."""
    path = Path(option or DEFAULT_STATE_FILE)
    return path if path.is_absolute() else Path(config_dir) / path
