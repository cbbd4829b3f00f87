"""An EV charger of the Home Assistant OCPP integration (lbbrhzn/ocpp) as a Load Juggler load.

Per-device knowledge only: which HA entities tell what the charger does, and how a limit is
sent. The limit goes out as an `ocpp.set_charge_rate` `custom_profile`: a TxDefaultProfile (a
TxProfile while a transaction runs) that expires by itself after `validity_s`, refreshed before
that. Never the integration's plain `limit_amps` path, which writes a persistent
ChargePointMaxProfile: if AppDaemon dies, our limit must not stay on the charger forever, and a
station-wide profile ignores `conn_id`. A pause is a 0 A (0 W) profile; the transaction stays open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..config import LoadSettings, parse_ocpp
from ..engine.control_types import Command, LoadReading
from ..engine.model import LOAD_PHASES
from .base import UNAVAILABLE_STATES, CycleContext, LoadApp
from .entities import to_float

#: Connector status -> (connected, drawing-by-status). None: decided by measured power.
CONNECTOR_STATUS: dict[str, tuple[bool, bool | None]] = {
    "Available": (False, False),
    "Preparing": (True, None),
    "Charging": (True, True),
    "SuspendedEV": (True, None),
    # Suspended by the charger, typically because we offered 0 A: the car still wants current.
    "SuspendedEVSE": (True, True),
    "Finishing": (True, False),
    "Reserved": (False, False),
}
UNAVAILABLE_STATUSES = frozenset({"Faulted", "Unavailable"})


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


class OcppCharger(LoadApp):
    """One connector of an HA OCPP charger; apps.yaml: `charger: <cpid>` + the common load keys."""

    KIND = "ocpp"

    def parse_args(self, args: dict[str, Any]) -> LoadSettings:
        common, self.ocpp = parse_ocpp(self.name, args)
        self._unit: str | None = None if self.ocpp.rate_unit == "auto" else self.ocpp.rate_unit
        self._desired_a: float | None = None
        self._sent_a: float | None = None  # last limit the charger accepted (amps)
        self._sent_at_s: float = 0.0
        self._sent_purpose: str | None = None
        self._idle_since_s: float | None = None
        self._offered_a: float | None = None
        self._status: str | None = None
        self._active_phases = common.phases
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

    def read_device(self, ctx: CycleContext) -> LoadReading:
        e = self.ocpp.entities
        status = self._state(e.status_connector)
        status = (
            None if status is None or str(status).lower() in UNAVAILABLE_STATES else str(status)
        )
        draw = self._read_currents()
        power_w = self._read_power_w(e.power_active_import)
        offered_a = self._read_offered_a(ctx.voltage_v)
        with self._lock:  # device_attributes() may read these from this app's own thread
            self._offered_a = offered_a
            self._status = status
            if draw is not None:
                active = sum(1 for a in draw if a is not None and a > 1.0)
                self._active_phases = active or self._active_phases
        if status is None or status in UNAVAILABLE_STATUSES or status not in CONNECTOR_STATUS:
            if status is not None and status not in UNAVAILABLE_STATUSES:
                self.log(f"unknown connector status '{status}'", level="DEBUG")
            return LoadReading(connected=False, drawing=False, draw_a=draw, available=False)
        connected, drawing = CONNECTOR_STATUS[status]
        if drawing is None:
            drawing = self._drawing_by_power(power_w, ctx.now_s)
        else:
            self._idle_since_s = None
        return LoadReading(connected=connected, drawing=drawing, draw_a=draw, available=True)

    def _drawing_by_power(self, power_w: float | None, now_s: float) -> bool:
        """SuspendedEV/Preparing: drawing while power flows and `idle_timeout_s` after it stops."""
        if power_w is not None and power_w >= self.ocpp.idle_power_w:
            self._idle_since_s = None
            return True
        if self._idle_since_s is None:
            self._idle_since_s = now_s
        return now_s - self._idle_since_s < self.ocpp.idle_timeout_s

    def _read_currents(self) -> tuple[float | None, ...] | None:
        """Per load phase (L1..): from one entity's L1/L2/L3 attributes, or one entity per phase."""
        phases = self.settings.phases if self.settings else 3
        entities = self.ocpp.entities.current_import
        if len(entities) > 1:
            return tuple(to_float(self._state(eid)) for eid in entities[:phases])
        full = self._state(entities[0], attribute="all")
        if not isinstance(full, dict):
            return None
        attrs = full.get("attributes") or {}
        per_phase = [to_float(attrs.get(p)) for p in LOAD_PHASES[:phases]]
        if any(v is not None for v in per_phase):
            return tuple(v if v is not None else 0.0 for v in per_phase)
        value = to_float(full.get("state"))
        return None if value is None else tuple(value for _ in range(phases))

    def _read_power_w(self, entity_id: str) -> float | None:
        """HA OCPP power sensors are kW; a `W` unit attribute is honoured."""
        full = self._state(entity_id, attribute="all")
        if not isinstance(full, dict):
            return None
        value = to_float(full.get("state"))
        if value is None:
            return None
        unit = str((full.get("attributes") or {}).get("unit_of_measurement") or "kW")
        return value if unit == "W" else value * 1000.0

    def _read_offered_a(self, site_voltage_v: float) -> float | None:
        offered = to_float(self._state(self.ocpp.entities.current_offered))
        if offered is not None:
            return offered
        power_w = self._read_power_w(self.ocpp.entities.power_offered)
        if power_w is None:
            return None
        return round(power_w / (self._voltage_v(site_voltage_v) * self._phases_for_watts()), 1)

    def _voltage_v(self, site_voltage_v: float) -> float:
        volts = to_float(self._state(self.ocpp.entities.voltage))
        return volts if volts is not None and 100.0 <= volts <= 480.0 else site_voltage_v

    def _phases_for_watts(self) -> int:
        with self._lock:
            return self._active_phases

    def _transaction_id(self) -> int | None:
        value = to_float(self._state(self.ocpp.entities.transaction_id))
        if value is None or value <= 0 or not value.is_integer():
            return None
        return int(value)

    # -- applying

    def apply_device(self, command: Command, ctx: CycleContext) -> None:
        target_a = round(command.current_a, 1) if command.on else 0.0
        transaction_id = self._transaction_id()
        purpose = "TxProfile" if transaction_id is not None else "TxDefaultProfile"
        with self._lock:
            if command.write or self._desired_a is None:
                self._desired_a = target_a
            desired = self._desired_a
            due = (
                self._sent_a is None
                or desired != self._sent_a
                or purpose != self._sent_purpose
                or ctx.now_s - self._sent_at_s >= self.ocpp.refresh_s
            )
        if not due:
            return
        if self._send(desired, ctx, transaction_id):
            with self._lock:
                changed = desired != self._sent_a
                self._sent_a = desired
                self._sent_at_s = ctx.now_s
                self._sent_purpose = purpose
            if changed:
                self.log(f"limit -> {desired:g} A ({command.reason})", level="DEBUG")

    def _send(self, amps: float, ctx: CycleContext, transaction_id: int | None) -> bool:
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
            profile = build_charging_profile(
                limit=limit,
                unit=unit,
                now_utc=ctx.now_utc,
                validity_s=self.ocpp.validity_s,
                kind=self.ocpp.profile_validity,
                stack_level=self.ocpp.stack_level,
                profile_id=self.ocpp.profile_id,
                transaction_id=transaction_id,
            )
            ok, detail = self.call_device(
                "ocpp/set_charge_rate",
                devid=self.ocpp.devid,
                conn_id=self.ocpp.conn_id,
                custom_profile=profile,
            )
            if ok:
                if self._unit is None:
                    self._unit = unit
                    self.log(f"charger accepts charging rate unit {unit}; using it from now on")
                self.service_ok("ocpp/set_charge_rate")
                return True
            if self._unit is None and unit == "A":
                self.log(f"profile in A failed ({detail}); trying W", level="DEBUG")
        self.service_failed(f"ocpp/set_charge_rate for charger '{self.ocpp.devid}'", detail)
        return False

    def device_attributes(self) -> dict[str, Any]:
        with self._lock:
            return {
                "charger": self.ocpp.charger,
                "conn_id": self.ocpp.conn_id,
                "connector_status": self._status,
                "offered_a": self._offered_a,
                "last_sent_a": self._sent_a,
                "rate_unit": self._unit or "auto",
            }

    @property
    def last_sent_a(self) -> float | None:
        """The last limit the charger accepted (None before the first success)."""
        with self._lock:
            return self._sent_a
