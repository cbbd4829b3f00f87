"""A load's mode as chosen live in an HA `input_select` helper (`mode_select`).

The helper must be one the user created in HA: an `input_select` made by `set_state` cannot be
changed from the UI. Its option wins over the configured `mode` while it names a mode; an
unavailable helper (HA restarting) keeps the mode in force.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from ..config import MODE_OPTIONS, MODE_WORDS, LoadSettings, parse_mode
from ..engine.model import Mode
from .device_host import UNAVAILABLE_STATES


class ModeSelect:
    """The mode in force for load app `app`."""

    def __init__(self, app: Hass, settings: LoadSettings) -> None:
        self._app = app
        self._settings = settings
        self._lock = threading.Lock()
        self._select_mode: Mode | None = None
        self._changed_s: float | None = None

    @property
    def live(self) -> tuple[Mode | None, float | None]:
        """(the select's mode, None without a valid option; when it was last changed by hand,
        None when not since the app started)."""
        with self._lock:
            return self._select_mode, self._changed_s

    @property
    def mode(self) -> Mode:
        """The select's option if valid, else the configured mode."""
        with self._lock:
            return self._select_mode or self._settings.mode

    def setup(self) -> str | None:
        """Check the helper and take its option; the entity to listen to (None: no helper)."""
        settings = self._settings
        select = settings.mode_select
        if not select:
            return None
        found = read_select(self._app, select, MODE_OPTIONS, settings.mode.value)
        if found is None:
            return select
        state, missing = found
        if missing:
            if settings.fix_mode_options:
                self._fix_options(select)
            else:
                self._app.log(
                    f"add them to {select}, or set 'fix_mode_options: true' to let this app "
                    "set the options",
                    level="WARNING",
                )
        self.take(select, state, initial=True)
        return select

    def _fix_options(self, select: str) -> None:
        try:
            result = self._app.call_service(
                "input_select/set_options", entity_id=select, options=list(MODE_OPTIONS)
            )
        except Exception as err:
            self._app.log(f"could not set the options of {select}: {err}", level="WARNING")
            return
        if isinstance(result, dict) and result.get("success") is False:
            error = result.get("error") or result.get("ad_status") or result
            self._app.log(f"could not set the options of {select}: {error}", level="WARNING")
            return
        self._app.log(f"set the options of {select} to {', '.join(MODE_OPTIONS)}")

    def take(self, select: str, option: Any, *, initial: bool, now_s: float | None = None) -> None:
        """Follow the helper's option `option`; a word that is no mode is logged and ignored.
        A change after start (`initial` False) is a change by hand at `now_s`."""
        if option is None or str(option).strip().lower() in UNAVAILABLE_STATES:
            return  # HA restarting: keep the mode we have
        mode = parse_mode(option)
        if mode is None:
            self._app.log(
                f"{select} has option '{option}', which is not a mode; allowed: "
                f"{', '.join(MODE_OPTIONS)}. Keeping mode '{self.mode.value}'",
                level="WARNING",
            )
            return
        with self._lock:
            changed = mode != self._select_mode
            self._select_mode = mode
            if changed and not initial and now_s is not None:
                self._changed_s = now_s
        if changed and not initial:
            self._app.log(f"mode -> {MODE_WORDS[mode]} (from {select}); takes effect next cycle")


def read_select(
    app: Hass, select: str, options: Sequence[str], fallback: str
) -> tuple[Any, list[str]] | None:
    """The helper's state and the `options` it lacks, each problem logged once at WARNING;
    None (the app keeps its `fallback` mode) when the helper does not exist."""
    try:
        full = app.get_state(select, attribute="all")
    except Exception:
        full = None
    if not full:
        app.log(
            f"mode_select {select} does not exist; create an input_select helper with the "
            f"options {', '.join(options)}. Using mode '{fallback}' until then",
            level="WARNING",
        )
        return None
    have = list((full.get("attributes") or {}).get("options") or [])
    missing = [o for o in options if o not in have]
    if missing:
        app.log(
            f"mode_select {select} lacks the option(s) {', '.join(missing)} "
            f"(it has: {', '.join(map(str, have)) or 'none'})",
            level="WARNING",
        )
    return full.get("state"), missing
