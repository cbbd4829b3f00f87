"""The plugs of a charger with several connectors, each a load of its own inside the charger's app.

AppDaemon runs one app per charger (`OcppCharger` with a `connectors:` list). Every connector
must still be everything a single-connector charger app is: its own state and reason entities
(`<app>_<name>`), mode select, session, pause budget, registration with the hub, watchdog and
its own profile on its `conn_id`. So a connector *is* an `OcppCharger` for one connector, built
by the charger's app instead of by AppDaemon: it has no AppDaemon identity of its own and makes
every AppDaemon call through the charger's app (the methods below), so its timers and
listeners are the charger app's and stop with it. Its engine load carries the charger's unit
(`engine.charge_units`): the plugs share `unit_max_a`, and a sequential unit feeds one at a time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..engine.model import ChargeUnit, Load, Site
from .ocpp import OcppCharger


class OcppConnector(OcppCharger):
    """One connector of a charger with several, run inside the charger's app (`ocpp.py`
    builds them; it imports this module when it needs it, so the import stays one way)."""

    def __init__(  # not an AppDaemon app: no Hass.__init__
        self, owner: OcppCharger, name: str, args: dict[str, Any], unit: ChargeUnit, item: str
    ) -> None:
        self._owner = owner
        self._conn_name = name
        self.args = args
        self._unit = unit
        self._item = item

    @property  # type: ignore[override]
    def name(self) -> str:
        return self._conn_name

    @property
    def app_name(self) -> str:
        return self._owner.name

    def config_item(self) -> str | None:
        return self._item

    def sibling_loads(self) -> list[OcppCharger]:
        return self._owner.connector_loads

    def engine_load(self, site: Site, circuit: str | None) -> Load:
        return replace(super().engine_load(site, circuit), unit=self._unit)

    # -- AppDaemon, through the charger's app

    def log(self, msg: str, *args: Any, **kwargs: Any) -> Any:
        return self._owner.log(f"{self._conn_name}: {msg}", *args, **kwargs)

    def get_state(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.get_state(*args, **kwargs)

    def set_state(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.set_state(*args, **kwargs)

    def call_service(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.call_service(*args, **kwargs)

    def entity_exists(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.entity_exists(*args, **kwargs)

    def listen_state(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.listen_state(*args, **kwargs)

    def run_every(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.run_every(*args, **kwargs)

    def get_app(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.get_app(*args, **kwargs)

    def datetime(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.datetime(*args, **kwargs)

    def render_template(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner.render_template(*args, **kwargs)
