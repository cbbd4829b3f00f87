"""What an OCPP charger's connector status and transaction sensor say about the car.

A car whose session ended (`Finishing`) is `finished`, a connected charger without a running
transaction (`SuspendedEV` with no transaction id, or the id of the session that ended) is
`idle`: both get 0 A and free their minimum for other loads until the car asks again
(`Preparing`, `Charging`, `SuspendedEVSE`, or a new transaction id).

The integration keeps the last transaction id after StopTransaction, so an id seen while the
connector said no session ran is never used for a TxProfile: the charger would reject it. A
TxProfile goes out only in a session (Charging, SuspendedEV, SuspendedEVSE) for an id that
appeared since the connector last entered Preparing; everything else gets a TxDefaultProfile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..config import OcppSettings
from ..engine.control_types import LoadState, Rest
from .capabilities import DeviceHost
from .device_host import UNAVAILABLE_STATES
from .entities import to_float
from .ocpp_part import ConnectorPart

#: Connector status (normalised: lower case, no spaces) -> (connected, drawing-by-status).
#: None: decided by measured power.
CONNECTOR_STATUS: dict[str, tuple[bool, bool | None]] = {
    "available": (False, False),
    "preparing": (True, None),
    "charging": (True, True),
    "suspendedev": (True, None),
    # Suspended by the charger, typically because we offered 0 A: the car still wants current.
    "suspendedevse": (True, True),
    "finishing": (True, False),
    "reserved": (False, False),
}
UNAVAILABLE_STATUSES = frozenset({"faulted", "unavailable"})
#: OCPP 1.6 statuses in which no transaction runs: the integration's `transaction_id` sensor
#: still shows the last one after StopTransaction, and a TxProfile for it would be rejected.
NO_SESSION_STATUSES = frozenset({"available", "finishing", "reserved"})
CONNECTOR_STATUS_NAMES = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEV",
    "SuspendedEVSE",
    "Finishing",
    "Reserved",
)
#: Statuses in which a transaction runs: the only ones a TxProfile is sent in (OCPP 1.6: a
#: TxProfile needs a running transaction, else the charger rejects it).
TX_STATUSES = frozenset({"charging", "suspendedev", "suspendedevse"})
#: Statuses in which the charger may report current: elsewhere (Available, Preparing,
#: Finishing, offline, unknown) the integration keeps the last L1/L2/L3 attributes, stale.
FLOWING_STATUSES = TX_STATUSES
#: The status a new session starts from: the id the transaction sensor shows on entering it
#: belongs to an older session.
PREPARING = "preparing"
#: Statuses of a connector whose car is in a session or asks for one.
SESSION_STATUSES = frozenset({"preparing", "charging", "suspendedev", "suspendedevse"})
#: The status in which a connected car ended its session.
FINISHING = "finishing"
#: The status in which a connected car may be without a session (checked by transaction id).
SUSPENDED_EV = "suspendedev"


def status_key(raw: Any) -> str | None:
    """`Charging `, `charging`, `SuspendedEv` -> `charging`, `suspendedev`; None when unknown."""
    if raw is None:
        return None
    key = re.sub(r"\s+", "", str(raw)).lower()
    return None if key in UNAVAILABLE_STATES else key


def is_offline(key: str | None) -> bool:
    """True for a status that says the charger cannot be used (unknown, Faulted, Unavailable)."""
    return key is None or key in UNAVAILABLE_STATUSES


@dataclass(frozen=True)
class StatusSeen:
    """One look at the connector: its key (None: unknown), the raw state, and whether the
    charger just came back from offline (it may have lost its profiles)."""

    key: str | None
    raw: Any
    reconnected: bool


class ConnectorStatus(ConnectorPart):
    """The connector status and transaction id of one charger connector, as last read."""

    def __init__(self, host: DeviceHost, ocpp: OcppSettings) -> None:
        super().__init__(host, ocpp)
        self._status: str | None = None
        self._key: str | None = None
        self._stale_tx: int | None = None  # an id seen while no session ran: never a TxProfile
        self._no_session = False  # the connector last said no session runs
        # (known, id) of the transaction sensor when the no-session status began: None before.
        self._ended_tx: tuple[bool, int | None] | None = None
        self._offline = False
        self._warned: set[str] = set()

    @property
    def text(self) -> str | None:
        """The status as the charger spells it (None when unknown), for the state entity."""
        with self._lock:
            return self._status

    def observe(self) -> StatusSeen:
        """Read the status; notes a reconnect and the transaction id a session ended with."""
        raw = self._host.state(self._ocpp.entities.status_connector)
        key = status_key(raw)
        offline = is_offline(key)
        tx_seen = self.read_tx()
        reconnected = False
        with self._lock:
            if key in NO_SESSION_STATUSES:
                entering = not self._no_session
                if entering:
                    self._ended_tx = tx_seen
                self._no_session = True
                # The id shown as the session ended is stale; in Finishing a new id is a new
                # session (StartTransaction before the status changed), so only on entering.
                if tx_seen[1] is not None and (entering or key != FINISHING):
                    self._stale_tx = tx_seen[1]
            elif key == PREPARING and self._key != PREPARING and tx_seen[1] is not None:
                self._stale_tx = tx_seen[1]  # a new session starts: the id shown is an old one
            elif key in SESSION_STATUSES:
                self._no_session = False
            self._status = None if key is None else str(raw).strip()
            self._key = key
            if offline:
                self._offline = True
            elif self._offline:
                self._offline = False
                reconnected = True
        return StatusSeen(key, raw, reconnected)

    def rest(self, key: str) -> Rest | None:
        """`finished` in Finishing, `idle` in SuspendedEV without a session; else None.

        Finishing with a new transaction id is a new session (the status lags): not resting.
        SuspendedEV is idle only when the transaction sensor says for sure that no session
        runs: no id (0), or the id it showed when the connector last said no session ran (the
        integration keeps it after StopTransaction). An unknown sensor proves nothing, so the
        car keeps its offer.
        """
        known, tx = self.read_tx()
        with self._lock:
            new_session = self._new_session(known, tx)
            ended = self._ended_tx is not None and self._ended_tx == (True, tx)
        if key == FINISHING and not new_session:
            return Rest(
                LoadState.FINISHED,
                "car finished its session (connector Finishing): 0 A until it asks again",
            )
        if key == SUSPENDED_EV and known and (tx is None or ended):
            what = "no transaction" if tx is None else f"transaction {tx} has ended"
            return Rest(
                LoadState.IDLE,
                f"connected, no session (connector SuspendedEV, {what}): 0 A until the car asks",
            )
        return None

    def _new_session(self, known: bool, tx: int | None) -> bool:
        """True when the transaction sensor shows an id other than the one the session ended
        with (call with the lock held)."""
        ended = self._ended_tx
        return known and tx is not None and ended is not None and ended[0] and tx != ended[1]

    def read_tx(self) -> tuple[bool, int | None]:
        """(known, id) of the transaction sensor: only a whole number > 0 is an id, and a
        non-number (unknown, unavailable) is not known."""
        value = to_float(self._host.state(self._ocpp.entities.transaction_id))
        if value is None:
            return False, None
        return True, int(value) if value > 0 and value.is_integer() else None

    def transaction_id(self) -> int | None:
        """The running transaction for a TxProfile, or None (a TxDefaultProfile is sent).

        Only a whole number > 0 is an id, and only in a session status (Charging, SuspendedEV,
        SuspendedEVSE): OCPP 1.6 chargers reject a TxProfile without a running transaction,
        silently through the integration. The integration keeps the last id after
        StopTransaction, so an id seen while the connector said no session ran (Available,
        Finishing, Reserved) or shown when it entered Preparing is remembered as stale and never
        used. A new session shows a new id.
        """
        _known, tx = self.read_tx()
        with self._lock:
            if self._key not in TX_STATUSES or tx == self._stale_tx:
                return None
            return tx

    def current_may_flow(self) -> bool:
        """True in a status in which the charger's current readings are live (see
        FLOWING_STATUSES); the integration keeps stale per-line attributes elsewhere."""
        with self._lock:
            return self._key in FLOWING_STATUSES

    def warn_unknown(self, raw: str) -> None:
        """Once per status value: an unknown status is read as a connected car, drawing by power."""
        with self._lock:
            first = raw not in self._warned
            self._warned.add(raw)
        if first:
            self._host.log(
                f"connector status '{raw}' of {self._ocpp.entities.status_connector} is not an "
                f"OCPP 1.6 status ({', '.join(CONNECTOR_STATUS_NAMES)}, Faulted, Unavailable); "
                "treating it as a connected car that draws while it takes "
                f">= {self._ocpp.idle_power_w:g} W",
                level="WARNING",
            )
