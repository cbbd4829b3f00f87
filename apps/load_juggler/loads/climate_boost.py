"""A climate boost as a Load Juggler load: a `climate.*` setpoint moved on green power.

The engine sees a switched load of `expected_power_w` in the app's mode; while the controller
has it on, the setpoint is boosted (`engine/climate_boost.py`: which way, how far, when it ends,
the user's changes). The device reads the entity's hvac mode (its state) and setpoint (its
`temperature` attribute), calls `climate.set_temperature`, and keeps the boost in progress in
the hub's state file (section `climate_boost`, keyed by app name): after a restart mid-boost
the base setpoint still comes back.

While no boost is possible (hvac mode off or auto, no room within the comfort limits, resting
after `max_boost_s` or a user's change) the load reports `idle`: nothing is reserved for it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from ..config.kinds.climate_boost import ClimateBoostSettings, parse_climate_boost
from ..config.load_config import LoadSettings
from ..engine.climate_boost import Boost, ClimateBoostLogic, Side, side_of
from ..engine.control_types import Command, LoadReading, LoadState, Rest
from ..engine.site_view import SiteView
from ..state_file import StateFile
from .base import LoadApp
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .device_host import DRY_RUN_DETAIL, UNAVAILABLE_STATES

#: The hub state file's section holding every climate boost in progress, by app name.
STATE_SECTION = "climate_boost"
SERVICE = "climate/set_temperature"


def _setpoint(full: dict[str, Any]) -> float | None:
    attrs = full.get("attributes")
    raw = attrs.get("temperature") if isinstance(attrs, dict) else None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class ClimateBoostDevice:
    """One `climate.*` entity and an optional power sensor."""

    def __init__(
        self,
        host: DeviceHost,
        settings: LoadSettings,
        cfg: ClimateBoostSettings,
        store: Callable[[], StateFile | None],
    ) -> None:
        self._host = host
        self._settings = settings
        self._cfg = cfg
        self._store = store
        self._lock = threading.Lock()
        self._logic = ClimateBoostLogic(cfg.rules)
        self._loaded = False  # the state file's boost was looked at
        self._side: Side | None = None
        self._setpoint_c: float | None = None
        self._hvac: str | None = None
        self._power_w: float | None = None
        self._view: SiteView | None = None  # the last cycle's, for ending a rest
        self._reason = ""

    # -- ChecksEntities

    def check_entities(self) -> None:
        if not self._host.exists(self._cfg.climate):
            self._host.log(
                f"climate {self._cfg.climate} not found; the load counts as unavailable until "
                "it appears",
                level="WARNING",
            )

    # -- the state file

    def _load(self) -> None:
        """Take up a boost a previous run left in the state file (once the hub is known)."""
        if self._loaded:
            return
        store = self._store()
        if store is None:
            return
        self._loaded = True
        stored = Boost.from_dict(store.get(STATE_SECTION).get(self._host.name))
        if stored is not None and self._logic.boost is None:
            self._logic.boost = stored
            self._host.log(
                f"boost from before the restart taken up: base {stored.base_c:g} C, "
                f"boosted {stored.boosted_c:g} C"
            )

    def _save(self) -> None:
        store = self._store()
        if store is None:
            return
        section = store.get(STATE_SECTION)
        boost = self._logic.boost
        if boost is None:
            section.pop(self._host.name, None)
        else:
            section[self._host.name] = boost.as_dict()
        store.put(STATE_SECTION, section)

    # -- ReadsState

    def _look(self) -> bool:
        """Read the entity's hvac mode and setpoint (under the lock); False when unknown."""
        full = self._host.full(self._cfg.climate)
        hvac = None if full is None else full.get("state")
        if full is None or str(hvac).strip().lower() in UNAVAILABLE_STATES:
            self._hvac, self._side, self._setpoint_c = None, None, None
            return False
        self._hvac = str(hvac)
        self._side = side_of(hvac)
        self._setpoint_c = _setpoint(full)
        return True

    def read(self, ctx: CycleContext) -> LoadReading:
        s = self._settings
        power_w = self._host.power_w(self._cfg.power_sensor, "W")
        with self._lock:
            self._power_w = power_w
            if not self._look():
                return LoadReading(connected=False, drawing=False, draw_a=None, available=False)
            self._load()
            why = self._logic.rest(self._side, self._setpoint_c, self._view)
        draw: tuple[float | None, ...] | None = None
        if power_w is not None:
            per_phase = max(0.0, power_w) / (ctx.voltage_v * s.phases)
            draw = tuple(round(per_phase, 3) for _ in range(s.phases))
        rest = Rest(LoadState.IDLE, why) if why is not None else None
        return LoadReading(connected=True, drawing=True, draw_a=draw, available=True, rest=rest)

    # -- AppliesCommand

    def apply(self, command: Command, ctx: CycleContext) -> None:
        with self._lock:
            self._view = ctx.site
            # Look again: without a hub (the watchdog's safe state) no reading came before.
            if not self._look():
                return  # unreadable: nothing to move, nothing to restore safely
            self._load()
            step = self._logic.step(ctx.now_s, bool(command.on), self._side, self._setpoint_c)
            self._reason = step.reason
            pending = self._logic.pending_c
            self._save()
        if pending is None:
            return
        entity = self._cfg.climate
        ok, detail = self._host.call(SERVICE, entity_id=entity, temperature=pending)
        if not ok:
            self._host.call_failed(f"{SERVICE} {entity}", detail)  # sent again next cycle
            return
        with self._lock:
            if self._logic.pending_c == pending:
                self._logic.written()
        self._host.call_ok(SERVICE)
        if detail != DRY_RUN_DETAIL:
            self._host.log(f"{entity} setpoint {pending:g} C: {step.reason}")

    # -- PublishesState

    def attributes(self) -> dict[str, Any]:
        with self._lock:
            boost = self._logic.boost
            return {
                "climate": self._cfg.climate,
                "hvac_mode": self._hvac,
                "setpoint_c": self._setpoint_c,
                "boosting": boost is not None,
                "base_c": boost.base_c if boost is not None else self._setpoint_c,
                "boosted_c": boost.boosted_c if boost is not None else None,
                "boost_reason": self._reason,
                "power_w": self._power_w,
            }

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        return ()


class ClimateBoostLoad(LoadApp):
    """apps.yaml: `climate`, `expected_power_w`; see README "Climate boost"."""

    KIND = "climate_boost"

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, ClimateBoostDevice]:
        common, self.climate_cfg = parse_climate_boost(self.name, args)
        return common, ClimateBoostDevice(self.host, common, self.climate_cfg, self._hub_state)

    def _hub_state(self) -> StateFile | None:
        link = getattr(self, "_link", None)
        return link.hub_state() if link is not None else None
