"""An EV charger of the Home Assistant OCPP integration (lbbrhzn/ocpp) as a Load Juggler load.

Per-device knowledge only: which HA entities tell what the charger does, and how a limit is
sent. The limit goes out as an `ocpp.set_charge_rate` `custom_profile`: a TxDefaultProfile (a
TxProfile while a transaction runs) that expires by itself after `validity_s`, refreshed before
that. Never the integration's plain `limit_amps` path, which writes a persistent
ChargePointMaxProfile: if AppDaemon dies, our limit must not stay on the charger forever, and a
station-wide profile ignores `conn_id`. A pause is a 0 A (0 W) profile; the transaction stays open.

A car whose session ended (`Finishing`) is `finished`, a connected charger without a running
transaction (`SuspendedEV` with no transaction id, or the id of the session that ended) is
`idle`: both get 0 A and free their minimum for other loads until the car asks again
(`Preparing`, `Charging`, `SuspendedEVSE`, or a new transaction id).

Below ours sits a persistent fail-safe `TxDefaultProfile` (`failsafe_a`, one stack level lower,
its own profile id, no end): when ours lapses the charger falls back to it, not to its hardware
maximum. It is installed at start, after the charger reconnects, and every hour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..config import LoadSettings, parse_ocpp
from ..engine.control_types import Command, LoadReading, LoadState, Rest
from ..engine.model import LOAD_PHASES
from .base import UNAVAILABLE_STATES, CycleContext, LoadApp
from .entities import to_float

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
#: Statuses of a connector whose car is in a session or asks for one.
SESSION_STATUSES = frozenset({"preparing", "charging", "suspendedev", "suspendedevse"})
#: The status in which a connected car ended its session.
FINISHING = "finishing"
#: The status in which a connected car may be without a session (checked by transaction id).
SUSPENDED_EV = "suspendedev"
#: The fail-safe profile is installed again this often even when nothing changed.
FAILSAFE_REFRESH_S = 3600.0


def status_key(raw: Any) -> str | None:
    """`Charging `, `charging`, `SuspendedEv` -> `charging`, `suspendedev`; None when unknown."""
    if raw is None:
        return None
    key = re.sub(r"\s+", "", str(raw)).lower()
    return None if key in UNAVAILABLE_STATES else key


def iso_utc(moment: datetime) -> str:
    """`2026-06-01T12:00:00Z`: whole seconds, as OCPP chargers parse most reliably."""
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_charging_profile(
    *,
    limit: float,
    unit: str,
    now_utc: datetime,
    validity_s: float,
    kind: str,
    stack_level: int,
    profile_id: int,
    transaction_id: int | None,
) -> dict[str, Any]:
    """An OCPP 1.6 csChargingProfiles dict that ends on its own after `validity_s`.

    `kind` "relative": the schedule lasts `duration` from the charger's start point.
    `kind` "absolute": starts now (UTC) and the profile is valid until now + validity.
    """
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "duration": int(validity_s),
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    profile: dict[str, Any] = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxProfile" if transaction_id is not None else "TxDefaultProfile",
        "chargingProfileKind": "Absolute" if kind == "absolute" else "Relative",
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    if kind == "absolute":
        schedule["startSchedule"] = iso_utc(now_utc)
        profile["validTo"] = iso_utc(now_utc + timedelta(seconds=validity_s))
    profile["chargingSchedule"] = schedule
    return profile


def failsafe_profile(
    *, limit: float, unit: str, stack_level: int, profile_id: int
) -> dict[str, Any]:
    """The persistent base profile: a TxDefaultProfile without duration or validTo.

    `Relative` so the charger's clock does not matter; without `duration` its one period lasts
    for good. It limits only while no higher profile (ours) is valid.
    """
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


class OcppCharger(LoadApp):
    """One connector of an HA OCPP charger; apps.yaml: `charger: <cpid>` + the common load keys."""

    KIND = "ocpp"

    def parse_args(self, args: dict[str, Any]) -> LoadSettings:
        common, self.ocpp = parse_ocpp(self.name, args)
        self._unit: str | None = None if self.ocpp.rate_unit == "auto" else self.ocpp.rate_unit
        self._desired_a: float | None = None
        self._sent_a: float | None = None  # last limit the charger accepted (amps)
        self._sent_at_s: float = 0.0
        self._sent_tx: int | None = None  # transaction of the last TxProfile (None: TxDefault)
        self._sent_phases: int | None = None  # phases the last W limit was computed for
        self._idle_since_s: float | None = None
        self._offered_a: float | None = None
        self._status: str | None = None
        self._status_key: str | None = None
        self._stale_tx: int | None = None  # an id seen while no session ran: never a TxProfile
        self._no_session = False  # the connector last said no session runs
        # (known, id) of the transaction sensor when the no-session status began: None before.
        self._ended_tx: tuple[bool, int | None] | None = None
        self._warned_statuses: set[str] = set()
        # Watts per amp assume one phase until a draw on more phases is measured: a 1-phase car
        # on a 3-phase charger must never be offered three times its current.
        self._active_phases = 1
        self._last_line: dict[int, tuple[float, float]] = {}  # line -> (amps, when read)
        self._offline = False
        self._failsafe_at_s: float | None = None
        self._failsafe_key: tuple[str | None, int | None] | None = None
        self._failsafe_due = True
        return common

    def setup_device(self) -> None:
        e = self.ocpp.entities
        missing = [eid for eid in (*e.current_import, e.status_connector) if not self._exists(eid)]
        if missing:
            self.log(
                f"charger '{self.ocpp.charger}': entity {', '.join(missing)} not found; check "
                "'charger' (the OCPP charge point id used in its entity ids) or override it under "
                "'entities:'. Until it appears the charger counts as unavailable",
                level="WARNING",
            )

    def _exists(self, entity_id: str) -> bool:
        try:
            return bool(self.entity_exists(entity_id))
        except Exception:
            return False

    # -- reading

    def _observe_status(self) -> tuple[str | None, Any]:
        """The connector status (normalised key, raw); notes a reconnect for the fail-safe, and
        the transaction id a session ended with."""
        raw = self._state(self.ocpp.entities.status_connector)
        key = status_key(raw)
        offline = key is None or key in UNAVAILABLE_STATUSES
        tx_seen = self._read_tx()
        with self._lock:
            if key in NO_SESSION_STATUSES:
                if not self._no_session:
                    self._ended_tx = tx_seen
                self._no_session = True
            elif key in SESSION_STATUSES:
                self._no_session = False
            self._status = None if key is None else str(raw).strip()
            self._status_key = key
            if offline:
                self._offline = True
            elif self._offline:
                self._offline = False
                self._failsafe_due = True  # a charger back from offline may have lost profiles
            if key in NO_SESSION_STATUSES:
                self._active_phases = 1  # the next car may be a 1-phase one
        return key, raw

    def read_device(self, ctx: CycleContext) -> LoadReading:
        key, raw = self._observe_status()
        draw = self._read_currents(ctx)
        power_w = self.read_power_w(self.ocpp.entities.power_active_import, "kW")
        offered_a = self._read_offered_a(ctx.voltage_v)
        with self._lock:  # device_attributes() may read these from this app's own thread
            self._offered_a = offered_a
            if draw is not None and key not in NO_SESSION_STATUSES:
                active = sum(1 for a in draw if a is not None and a > 1.0)
                self._active_phases = active or self._active_phases
        if key is None or key in UNAVAILABLE_STATUSES:
            return LoadReading(connected=False, drawing=False, draw_a=draw, available=False)
        rest = self._rest(key)
        if rest is not None:
            self._idle_since_s = None
            return LoadReading(
                connected=True, drawing=False, draw_a=draw, available=True, rest=rest
            )
        known = CONNECTOR_STATUS.get(key)
        if known is None:
            self._warn_unknown_status(str(raw))
            connected, drawing = True, None
        elif key == FINISHING:
            connected, drawing = True, None  # a new session already: goes by power like Preparing
        else:
            connected, drawing = known
        if drawing is None:
            drawing = self._drawing_by_power(power_w, ctx.now_s)
        else:
            self._idle_since_s = None
        return LoadReading(connected=connected, drawing=drawing, draw_a=draw, available=True)

    def _rest(self, key: str) -> Rest | None:
        """`finished` in Finishing, `idle` in SuspendedEV without a session; else None.

        Finishing with a new transaction id is a new session (the status lags): not resting.
        SuspendedEV is idle only when the transaction sensor says for sure that no session
        runs: no id (0), or the id it showed when the connector last said no session ran (the
        integration keeps it after StopTransaction). An unknown sensor proves nothing, so the
        car keeps its offer.
        """
        known, tx = self._read_tx()
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

    def _read_tx(self) -> tuple[bool, int | None]:
        """(known, id) of the transaction sensor: only a whole number > 0 is an id, and a
        non-number (unknown, unavailable) is not known."""
        value = to_float(self._state(self.ocpp.entities.transaction_id))
        if value is None:
            return False, None
        return True, int(value) if value > 0 and value.is_integer() else None

    def _warn_unknown_status(self, raw: str) -> None:
        """Once per status value: an unknown status is read as a connected car, drawing by power."""
        with self._lock:
            first = raw not in self._warned_statuses
            self._warned_statuses.add(raw)
        if first:
            self.log(
                f"connector status '{raw}' of {self.ocpp.entities.status_connector} is not an "
                f"OCPP 1.6 status ({', '.join(CONNECTOR_STATUS_NAMES)}, Faulted, Unavailable); "
                "treating it as a connected car that draws while it takes "
                f">= {self.ocpp.idle_power_w:g} W",
                level="WARNING",
            )

    def _drawing_by_power(self, power_w: float | None, now_s: float) -> bool:
        """SuspendedEV/Preparing: drawing while power flows and `idle_timeout_s` after it stops."""
        if power_w is not None and power_w >= self.ocpp.idle_power_w:
            self._idle_since_s = None
            return True
        if self._idle_since_s is None:
            self._idle_since_s = now_s
        return now_s - self._idle_since_s < self.ocpp.idle_timeout_s

    def _read_currents(self, ctx: CycleContext) -> tuple[float | None, ...] | None:
        """Per load phase (L1..), each line holding its last valid value for the stale timeout."""
        return self._hold_lines(self._read_lines(ctx.voltage_v), ctx)

    def _read_lines(self, voltage_v: float) -> list[float | None]:
        """This cycle's per-line currents: one entity's L1/L2/L3 attributes, or one entity each."""
        phases = self.settings.phases if self.settings else 3
        entities = self.ocpp.entities.current_import
        if len(entities) > 1:
            return [self.read_current_a(eid, voltage_v) for eid in entities[:phases]]
        eid = entities[0]
        full = self._full(eid)
        if full is None:
            return [None] * phases
        attrs = full.get("attributes") or {}
        listed = [attrs.get(p) for p in LOAD_PHASES[:phases]]
        if any(to_float(v) is not None for v in listed):
            # The charger reports some lines: a line it leaves out carries nothing.
            per_line = [
                self.current_from(eid, full, v, voltage_v) if to_float(v) is not None else 0.0
                for v in listed
            ]
            if all(v is not None for v in per_line):
                return per_line
            return [None] * phases  # unit refused
        value = self.current_from(eid, full, full.get("state"), voltage_v)
        if value is None:
            return [None] * phases
        lines = self._lines_in_use(value, voltage_v, phases)
        return [value if line < lines else 0.0 for line in range(phases)]

    def _lines_in_use(self, amps: float, voltage_v: float, phases: int) -> int:
        """How many lines carry `amps` when the charger reports no per-line currents.

        The integration's state is then the average of the lines in use, and the active power
        their sum: power / (voltage x average) is the number of lines. Without a usable power
        reading one line (L1, where a one-phase car draws) is assumed: subtracting a 1-phase
        car's 16 A from lines it does not use would hide 16 A of house load on each of them,
        and a watt profile would give it three times its current.
        """
        if phases <= 1 or amps < 0.5:
            return 1
        power_w = self.read_power_w(self.ocpp.entities.power_active_import, "kW")
        if power_w is None or power_w <= 0:
            return 1
        return max(1, min(phases, round(power_w / (voltage_v * amps))))

    def _hold_lines(
        self, fresh: list[float | None], ctx: CycleContext
    ) -> tuple[float | None, ...] | None:
        """A line that reads unknown keeps its last valid value for `ctx.stale_timeout_s`.

        Without it one missed MeterValues made the car's draw unknown, the grid's share of it
        looked like house load, and the car was cut (and kept off by the min-off timer). The held
        value is capped at the limit last sent: a car that was cut since cannot draw more, and a
        lower draw is the cautious side (it leaves more of the grid reading to the house).
        """
        with self._lock:
            cap = self._sent_a
            out: list[float | None] = []
            for line, amps in enumerate(fresh):
                if amps is not None:
                    self._last_line[line] = (amps, ctx.now_s)
                    out.append(amps)
                    continue
                last = self._last_line.get(line)
                if last is None or ctx.now_s - last[1] >= ctx.stale_timeout_s:
                    out.append(None)
                else:
                    out.append(last[0] if cap is None else min(last[0], cap))
        return None if all(v is None for v in out) else tuple(out)

    def _read_offered_a(self, site_voltage_v: float) -> float | None:
        e = self.ocpp.entities
        offered = self.read_current_a(e.current_offered, self._voltage_v(site_voltage_v))
        if offered is not None:
            return offered
        power_w = self.read_power_w(e.power_offered, "kW")
        if power_w is None:
            return None
        # Offered power is the charger's, on all of its configured phases.
        phases = self.settings.phases if self.settings else 3
        return round(power_w / (self._voltage_v(site_voltage_v) * phases), 1)

    def _voltage_v(self, site_voltage_v: float) -> float:
        volts = self.read_voltage_v(self.ocpp.entities.voltage)
        return volts if volts is not None and 100.0 <= volts <= 480.0 else site_voltage_v

    def _phases_for_watts(self) -> int:
        with self._lock:
            return self._active_phases

    def _transaction_id(self) -> int | None:
        """The running transaction for a TxProfile, or None (a TxDefaultProfile is sent).

        Only a whole number > 0 is an id. The integration keeps the last id after
        StopTransaction, so an id seen while the connector said no session ran (Available,
        Finishing, Reserved) is remembered as stale and never used: a TxProfile for it would be
        rejected, silently on OCPP 1.6. A new session shows a new id.
        """
        known, tx = self._read_tx()
        with self._lock:
            key = self._status_key
            if key is None or key in UNAVAILABLE_STATUSES:
                return tx if tx != self._stale_tx else None
            if key == FINISHING and self._new_session(known, tx):
                return tx  # StartTransaction came before the status left Finishing
            if key in NO_SESSION_STATUSES:
                if tx is not None:
                    self._stale_tx = tx
                return None
            return None if tx == self._stale_tx else tx

    # -- applying

    def apply_device(self, command: Command, ctx: CycleContext) -> None:
        target_a = round(command.current_a, 1) if command.on else 0.0
        transaction_id = self._transaction_id()
        with self._lock:
            if command.write or self._desired_a is None:
                self._desired_a = target_a
            desired = self._desired_a
            due = (
                self._sent_a is None
                or desired != self._sent_a
                or transaction_id != self._sent_tx
                or self._watt_phases() != self._sent_phases
                or ctx.now_s - self._sent_at_s >= self.ocpp.refresh_s
            )
        if not due:
            return

        def build(unit: str, limit: float) -> dict[str, Any]:
            return build_charging_profile(
                limit=limit,
                unit=unit,
                now_utc=ctx.now_utc,
                validity_s=self.ocpp.validity_s,
                kind=self.ocpp.profile_validity,
                stack_level=self.ocpp.stack_level,
                profile_id=self.ocpp.profile_id,
                transaction_id=transaction_id,
            )

        if self._send(desired, ctx, build):
            with self._lock:
                changed = desired != self._sent_a
                self._sent_a = desired
                self._sent_at_s = ctx.now_s
                self._sent_tx = transaction_id
                self._sent_phases = self._watt_phases()
            if changed:
                self.log(f"limit -> {desired:g} A ({command.reason})", level="DEBUG")

    def device_tick(self, ctx: CycleContext) -> None:
        """With or without a hub: notice a reconnect and keep the fail-safe profile installed.

        Only this timer (every WATCHDOG_S, and once at start) writes the fail-safe profile, so a
        charger that refuses it is retried once per tick, not once per tick and hub cycle.
        """
        self._observe_status()
        self._ensure_failsafe(ctx)

    def _ensure_failsafe(self, ctx: CycleContext) -> None:
        """Install the fail-safe base profile at start, after a reconnect, every hour, and
        when what it must say changes (unit learned, W for more phases).

        Called from `device_tick` only, i.e. from this app's thread alone, so the `_failsafe_*`
        fields have one writer; the hub's thread may send our limit profile meanwhile."""
        with self._lock:
            key = self._failsafe_wanted_key()
            due = (
                self._failsafe_due
                or self._failsafe_at_s is None
                or key != self._failsafe_key
                or ctx.now_s - self._failsafe_at_s >= FAILSAFE_REFRESH_S
            )
        if not due:
            return

        def build(unit: str, limit: float) -> dict[str, Any]:
            return failsafe_profile(
                limit=limit,
                unit=unit,
                stack_level=self.ocpp.failsafe_stack_level,
                profile_id=self.ocpp.failsafe_profile_id,
            )

        if self._send(self.ocpp.failsafe_a, ctx, build, "fail-safe profile"):
            with self._lock:
                self._failsafe_at_s = ctx.now_s
                self._failsafe_due = False
                self._failsafe_key = self._failsafe_wanted_key()
            self.log(
                f"fail-safe profile installed: {self.ocpp.failsafe_a:g} A at stack level "
                f"{self.ocpp.failsafe_stack_level} (id {self.ocpp.failsafe_profile_id}), "
                "in force whenever our expiring profile is not",
                level="DEBUG",
            )

    def _failsafe_wanted_key(self) -> tuple[str | None, int | None]:
        """(unit, phases) the installed fail-safe must match; phases matter only for W."""
        return self._unit, self._watt_phases()

    def _watt_phases(self) -> int | None:
        """The phase count a W limit stands for (None while sending amps): a change re-sends."""
        return self._active_phases if self._unit == "W" else None

    def _send(
        self,
        amps: float,
        ctx: CycleContext,
        build: Callable[[str, float], dict[str, Any]],
        what: str = "ocpp/set_charge_rate",
    ) -> bool:
        """Send one profile; in `auto` unit mode try A, then W, and remember what worked."""
        units = [self._unit] if self._unit else ["A", "W"]
        detail = ""
        for unit in units:
            if unit == "A":
                limit: float = amps
            else:
                limit = float(
                    round(amps * self._voltage_v(ctx.voltage_v) * self._phases_for_watts())
                )
            ok, detail = self.call_device(
                "ocpp/set_charge_rate",
                devid=self.ocpp.devid,
                conn_id=self.ocpp.conn_id,
                custom_profile=build(unit, limit),
            )
            if ok:
                if self._unit is None:
                    self._unit = unit
                    self.log(f"charger accepts charging rate unit {unit}; using it from now on")
                self.service_ok("ocpp/set_charge_rate")
                return True
            if self._unit is None and unit == "A":
                self.log(f"{what} in A failed ({detail}); trying W", level="DEBUG")
        self.service_failed(f"ocpp/set_charge_rate for charger '{self.ocpp.devid}'", detail)
        return False

    def safe_command(self, ctx: CycleContext, reason: str) -> Command:
        """Without a hub: a charging car at min_a or failsafe_a, whichever is lower; else 0 A."""
        assert self.settings is not None
        reading = self.reading(ctx)
        amps = 0.0
        if reading.available and reading.connected and reading.drawing:
            amps = min(self.settings.min_a, self.ocpp.failsafe_a)
        return Command(
            load_id=self.name,
            current_a=amps,
            on=amps > 0,
            write=True,
            state=LoadState.STALE_FALLBACK,
            reason=reason,
        )

    def device_attributes(self) -> dict[str, Any]:
        with self._lock:
            return {
                "charger": self.ocpp.charger,
                "conn_id": self.ocpp.conn_id,
                "connector_status": self._status,
                "offered_a": self._offered_a,
                "last_sent_a": self._sent_a,
                "rate_unit": self._unit or "auto",
                "failsafe_a": self.ocpp.failsafe_a,
                "failsafe_installed": self._failsafe_at_s is not None and not self._failsafe_due,
            }

    @property
    def last_sent_a(self) -> float | None:
        """The last limit the charger accepted (None before the first success)."""
        with self._lock:
            return self._sent_a
