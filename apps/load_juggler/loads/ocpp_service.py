"""Calling `ocpp.set_charge_rate` the way the installed integration accepts it.

Releases of the HA OCPP integration before 0.8.0 (0.5.x, the last that load on HA 2024.3) have
no `devid` in the service schema and refuse the whole call ("extra keys not allowed @
data['devid']"): no limit would ever reach the charger. Without `devid` the integration sends
to its first charger, so the call goes out without it only when the hub drives a single
charger; with several the limit could reach the wrong one, and the user is told to upgrade.
What was found is kept for the app's life (an integration does not change under it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from ..config import OcppSettings
from .capabilities import DeviceHost

SERVICE = "ocpp/set_charge_rate"
#: The first release whose `set_charge_rate` takes `devid`.
DEVID_SINCE = "0.8.0"
_DEVID_REFUSED = re.compile(r"(extra keys not allowed|not allowed|invalid|schema).*devid", re.I)


_STATUS_ENTITY = re.compile(r"^sensor\.(?P<cpid>.+?)(?:_connector_\d+)?_status_connector$")


def ha_charger_ids(sensors: Any) -> set[str]:
    """The charger ids the OCPP integration publishes in HA: one per
    `sensor.<cpid>_status_connector` (`sensor.<cpid>_connector_<n>_status_connector` for a
    charger with several plugs counts as `<cpid>`). `sensors` is `get_state("sensor")`."""
    if not isinstance(sensors, dict):
        return set()
    found = set()
    for entity_id in sensors:
        match = _STATUS_ENTITY.match(str(entity_id))
        if match:
            found.add(match.group("cpid"))
    return found


def refuses_devid(detail: str) -> bool:
    """True for a schema error that names `devid` (an integration older than 0.8.0)."""
    return bool(_DEVID_REFUSED.search(detail))


class ChargeRateService:
    """`ocpp.set_charge_rate` for one connector, with or without `devid` as the integration takes.

    `single_charger()` tells whether the hub drives this charger only and Home Assistant shows
    no other OCPP charger (then the integration's first charger is this one).
    """

    def __init__(
        self, host: DeviceHost, ocpp: OcppSettings, single_charger: Callable[[], bool]
    ) -> None:
        self._host = host
        self._ocpp = ocpp
        self._single_charger = single_charger
        self._lock = threading.Lock()
        self._with_devid = True
        self._told_upgrade = False

    @property
    def with_devid(self) -> bool:
        """False once the integration refused `devid` and sending without it is allowed."""
        with self._lock:
            return self._with_devid

    def call(self, profile: dict[str, Any]) -> tuple[bool, str]:
        """Send `profile` as a custom profile to this connector; (ok, detail)."""
        data: dict[str, Any] = {"conn_id": self._ocpp.conn_id, "custom_profile": profile}
        with self._lock:
            with_devid = self._with_devid
        if not with_devid:
            if not self._single_charger():  # a second charger came: no longer safe
                self._tell_upgrade("found earlier")
                return False, ("the integration refuses 'devid' and there are several chargers")
            return self._host.call(SERVICE, **data)
        ok, detail = self._host.call(SERVICE, devid=self._ocpp.devid, **data)
        if ok or not refuses_devid(detail):
            return ok, detail
        if not self._single_charger():
            self._tell_upgrade(detail)
            return False, detail
        with self._lock:
            self._with_devid = False
        self._host.log(
            f"{SERVICE} refuses 'devid' ({detail}): the HA OCPP integration is older than "
            f"{DEVID_SINCE}. This hub drives one charger ('{self._ocpp.charger}'), which such a "
            "version addresses without it: sending without 'devid' from now on. Upgrade the "
            f"integration ({DEVID_SINCE} or newer) before adding a second charger",
            level="WARNING",
        )
        return self._host.call(SERVICE, **data)

    def _tell_upgrade(self, detail: str) -> None:
        """One ERROR: without `devid` the limit would reach the integration's first charger."""
        with self._lock:
            first = not self._told_upgrade
            self._told_upgrade = True
        if first:
            self._host.log(
                f"{SERVICE} refuses 'devid' ({detail}): the HA OCPP integration is older than "
                f"{DEVID_SINCE}, which sends a call without 'devid' to its first charger, and this "
                "hub drives several chargers or Home Assistant shows several OCPP chargers: no "
                f"limit can reach charger '{self._ocpp.charger}'. "
                f"Upgrade the HA OCPP integration to {DEVID_SINCE} or newer",
                level="ERROR",
            )
