"""A water heater's mode as chosen live in an HA `input_select` (`mode_select`), with `Boost`.

The tank's modes are not the chargers': `Boost` heats now to `target_c` and then hands back
the option the select had before it, which this class sets on the select itself
(`input_select/select_option`), so the dashboard shows what is in force again. An
unavailable helper keeps the mode in force; an option that names no heater mode is logged and
ignored.
"""

from __future__ import annotations

import threading
from typing import Any

from appdaemon.plugins.hass.hassapi import Hass

from ..config import LoadSettings
from ..config.kinds.water_heater import ENGINE_MODE, parse_heater_mode
from ..engine.model import Mode
from ..engine.tank_thermostat import HeaterMode
from .device_host import UNAVAILABLE_STATES
from .mode_select import read_select

#: The options a water heater's `input_select` offers, in the order they are set.
HEATER_MODE_WORDS: dict[HeaterMode, str] = {
    HeaterMode.CONTINUOUS: "Continuous",
    HeaterMode.BOOST: "Boost",
    HeaterMode.SOLAR_ONLY: "Solar Only",
    HeaterMode.EXCESS: "Excess",
    HeaterMode.OFF: "Off",
}
HEATER_MODE_OPTIONS: tuple[str, ...] = tuple(HEATER_MODE_WORDS.values())


class HeaterModeSelect:
    """The heater mode in force for water heater app `app` (configured: `configured`)."""

    def __init__(self, app: Hass, settings: LoadSettings, configured: HeaterMode) -> None:
        self._app = app
        self._settings = settings
        self._configured = configured
        self._lock = threading.Lock()
        self._select_mode: HeaterMode | None = None
        self._before_boost: HeaterMode | None = None
        self._changed_s: float | None = None

    @property
    def heater_mode(self) -> HeaterMode:
        with self._lock:
            return self._select_mode or self._configured

    @property
    def live(self) -> tuple[Mode | None, float | None]:
        """As `ModeSelect.live`: the select's engine mode (None without a valid option) and
        when it was last changed by hand (None: not since the app started)."""
        with self._lock:
            mode = self._select_mode
            return (ENGINE_MODE[mode] if mode is not None else None), self._changed_s

    @property
    def mode(self) -> Mode:
        """The engine mode the heater mode starts from (the thermostat refines it)."""
        return ENGINE_MODE[self.heater_mode]

    def setup(self) -> str | None:
        select = self._settings.mode_select
        if not select:
            return None
        found = read_select(self._app, select, HEATER_MODE_OPTIONS, self._configured.value)
        if found is None:
            return select
        state, missing = found
        if missing and self._settings.fix_mode_options:
            self._call("input_select/set_options", select, options=list(HEATER_MODE_OPTIONS))
        self.take(select, state, initial=True)
        return select

    def take(self, select: str, option: Any, *, initial: bool, now_s: float | None = None) -> None:
        if option is None or str(option).strip().lower() in UNAVAILABLE_STATES:
            return
        mode = parse_heater_mode(option)
        if mode is None:
            self._app.log(
                f"{select} has option '{option}', which is not a water heater mode; allowed: "
                f"{', '.join(HEATER_MODE_OPTIONS)}. Keeping mode '{self.heater_mode.value}'",
                level="WARNING",
            )
            return
        with self._lock:
            before = self._select_mode or self._configured
            changed = mode != self._select_mode
            if mode is HeaterMode.BOOST and before is not HeaterMode.BOOST:
                self._before_boost = before
            self._select_mode = mode
            if changed and not initial and now_s is not None:
                self._changed_s = now_s
        if changed and not initial:
            self._app.log(
                f"mode -> {HEATER_MODE_WORDS[mode]} (from {select}); takes effect next cycle"
            )

    def end_boost(self) -> HeaterMode:
        """Boost reached its goal: back to the mode before it (the configured one when the
        boost was already on at start), on the select too."""
        with self._lock:
            back = self._before_boost or self._configured
            if back is HeaterMode.BOOST:
                back = self._configured
            self._select_mode = back
            self._before_boost = None
        select = self._settings.mode_select
        if select:
            self._call("input_select/select_option", select, option=HEATER_MODE_WORDS[back])
        self._app.log(f"boost done: mode -> {HEATER_MODE_WORDS[back]}")
        return back

    def _call(self, service: str, select: str, **data: Any) -> None:
        try:
            result = self._app.call_service(service, entity_id=select, **data)
        except Exception as err:
            self._app.log(f"{service} {select} failed: {err}", level="WARNING")
            return
        if isinstance(result, dict) and result.get("success") is False:
            error = result.get("error") or result.get("ad_status") or result
            self._app.log(f"{service} {select} failed: {error}", level="WARNING")
