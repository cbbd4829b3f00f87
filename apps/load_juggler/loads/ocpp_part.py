"""What the parts of an OCPP charger device (status, lines, profiles) have in common."""

from __future__ import annotations

import threading

from ..config import OcppSettings
from .capabilities import DeviceHost


class ConnectorPart:
    """One part of a charger connector's device: HA access, the charger's options, and a lock
    for what the part remembers (the hub's thread and the app's own both use it)."""

    def __init__(self, host: DeviceHost, ocpp: OcppSettings) -> None:
        self._host = host
        self._ocpp = ocpp
        self._lock = threading.Lock()
