"""Writing an OCPP charger's limit: our expiring profile, the fail-safe base profile, the unit.

The limit goes out as an `ocpp.set_charge_rate` `custom_profile`: a TxDefaultProfile (a
TxProfile while a transaction runs) that expires by itself after `validity_s`, refreshed before
that. Never the integration's plain `limit_amps` path, which writes a persistent
ChargePointMaxProfile: if AppDaemon dies, our limit must not stay on the charger forever, and a
station-wide profile ignores `conn_id`. A pause is a 0 A (0 W) profile; the transaction stays open.

Below ours sits a persistent fail-safe `TxDefaultProfile` (`failsafe_a`, one stack level lower,
its own profile id, no end): when ours lapses the charger falls back to it, not to its hardware
maximum. It is installed at start, after the charger reconnects, and every hour.

With `rate_unit: auto` A is tried first, then W, and what the charger accepted is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from ..config import OcppSettings
from .capabilities import CycleContext, DeviceHost
from .ocpp_lines import LineCurrents
from .ocpp_part import ConnectorPart
from .ocpp_service import ChargeRateService

#: The fail-safe profile is installed again this often even when nothing changed.
FAILSAFE_REFRESH_S = 3600.0

#: A profile for (unit=..., limit=...): a partial of `build_charging_profile` or
#: `failsafe_profile`.
BuildProfile = Callable[..., dict[str, Any]]


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


class ProfileWriter(ConnectorPart):
    """What was sent to one charger connector, and when it must be sent again.

    `voltage_v(site_voltage_v)` is the charger's voltage for a W limit; `lines` tells on how
    many phases the car draws (a W limit covers those).
    """

    def __init__(
        self,
        host: DeviceHost,
        ocpp: OcppSettings,
        lines: LineCurrents,
        voltage_v: Callable[[float], float],
        service: ChargeRateService,
    ) -> None:
        super().__init__(host, ocpp)
        self._service = service
        self._lines = lines
        self._voltage_v = voltage_v
        self._unit: str | None = None if ocpp.rate_unit == "auto" else ocpp.rate_unit
        self._desired_a: float | None = None
        self._sent_a: float | None = None  # last limit the charger accepted (amps)
        self._sent_at_s: float = 0.0
        self._changed_at_s: float = 0.0  # when the limit, transaction or unit last changed
        self._unit_changed = False  # the unit changed since the last send: send again
        self._trial_from: str | None = None  # the unit before the one on trial
        self._sent_tx: int | None = None  # transaction of the last TxProfile (None: TxDefault)
        self._sent_phases: int | None = None  # phases the last W limit was computed for
        self._failsafe_at_s: float | None = None
        self._failsafe_key: tuple[str | None, int | None] | None = None
        self._failsafe_due = True

    @property
    def last_sent_a(self) -> float | None:
        """The last limit the charger accepted (None before the first success)."""
        with self._lock:
            return self._sent_a

    @property
    def in_force(self) -> tuple[float | None, float]:
        """(the limit last accepted, since when that limit, transaction and unit stand):
        what the charger should follow, and from when."""
        with self._lock:
            return self._sent_a, self._changed_at_s

    @property
    def unit(self) -> str | None:
        """The unit limits go out in (None: not known yet in `auto`)."""
        with self._lock:
            return self._unit

    def try_unit(self, unit: str) -> None:
        """Send in `unit` from the next cycle on, on trial (the charger ignored the one in use):
        a refusal goes back to the unit in use at once, within the same send."""
        with self._lock:
            if self._unit != unit:
                self._trial_from = self._unit
            self._unit = unit
            self._unit_changed = True  # due at once

    def end_trial(self, keep: bool) -> str | None:
        """Keep the unit on trial, or go back to the one before; the unit now in use."""
        with self._lock:
            if self._trial_from is not None and not keep:
                self._unit = self._trial_from
                self._unit_changed = True
            self._trial_from = None
            return self._unit

    def resend_for_transaction(self, transaction_id: int | None, ctx: CycleContext) -> bool:
        """A transaction started, changed or ended: send the limit in force now, in a profile
        for it, not at the next refresh; False when nothing was sent yet or it is current."""
        with self._lock:
            desired = self._desired_a
            current = self._sent_a is not None and transaction_id == self._sent_tx
        if desired is None or current:
            return False
        what = "no transaction" if transaction_id is None else f"transaction {transaction_id}"
        self.write_limit(desired, False, transaction_id, ctx, f"{what}: limit sent at once")
        return True

    def attributes(self) -> dict[str, Any]:
        with self._lock:
            return {
                "last_sent_a": self._sent_a,
                "rate_unit": self._unit or "auto",
                "failsafe_installed": self._failsafe_at_s is not None and not self._failsafe_due,
            }

    def reconnected(self) -> None:
        """A charger back from offline may have lost its profiles: install the fail-safe again."""
        with self._lock:
            self._failsafe_due = True

    # -- our expiring limit

    def write_limit(
        self, target_a: float, write: bool, transaction_id: int | None, ctx: CycleContext, why: str
    ) -> None:
        """Send `target_a` (kept as wanted only when `write`) if it differs from what the
        charger has, or its profile is due for refresh."""
        with self._lock:
            if write or self._desired_a is None:
                self._desired_a = target_a
            desired = self._desired_a
            due = (
                self._sent_a is None
                or desired != self._sent_a
                or self._unit_changed
                or transaction_id != self._sent_tx
                or self._watt_phases() != self._sent_phases
                or ctx.now_s - self._sent_at_s >= self._ocpp.refresh_s
            )
        if not due:
            return
        build = partial(
            build_charging_profile,
            now_utc=ctx.now_utc,
            validity_s=self._ocpp.validity_s,
            kind=self._ocpp.profile_validity,
            stack_level=self._ocpp.stack_level,
            profile_id=self._ocpp.profile_id,
            transaction_id=transaction_id,
        )
        if self._send(desired, ctx, build):
            with self._lock:
                changed = desired != self._sent_a
                if changed or self._unit_changed or transaction_id != self._sent_tx:
                    self._changed_at_s = ctx.now_s
                self._unit_changed = False
                self._sent_a = desired
                self._sent_at_s = ctx.now_s
                self._sent_tx = transaction_id
                self._sent_phases = self._watt_phases()
            if changed:
                self._host.log(f"limit -> {desired:g} A ({why})", level="DEBUG")

    # -- the fail-safe base profile

    def ensure_failsafe(self, ctx: CycleContext) -> None:
        """Install the fail-safe base profile at start, after a reconnect, every hour, and
        when what it must say changes (unit learned, W for more phases).

        Called from the device's upkeep only, i.e. from the app's thread alone, so the
        `_failsafe_*` fields have one writer; the hub's thread may send our limit meanwhile."""
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
        ocpp = self._ocpp
        failsafe = partial(
            failsafe_profile,
            stack_level=ocpp.failsafe_stack_level,
            profile_id=ocpp.failsafe_profile_id,
        )
        if self._send(ocpp.failsafe_a, ctx, failsafe, "fail-safe profile"):
            with self._lock:
                self._failsafe_at_s = ctx.now_s
                self._failsafe_due = False
                self._failsafe_key = self._failsafe_wanted_key()
            self._host.log(
                f"fail-safe profile installed: {ocpp.failsafe_a:g} A at stack level "
                f"{ocpp.failsafe_stack_level} (id {ocpp.failsafe_profile_id}), "
                "in force whenever our expiring profile is not",
                level="DEBUG",
            )

    def _failsafe_wanted_key(self) -> tuple[str | None, int | None]:
        """(unit, phases) the installed fail-safe must match; phases matter only for W."""
        return self._unit, self._watt_phases()

    def _watt_phases(self) -> int | None:
        """The phase count a W limit stands for (None while sending amps): a change re-sends."""
        return self._lines.active_phases if self._unit == "W" else None

    # -- sending, in the unit the charger takes

    def _send(
        self,
        amps: float,
        ctx: CycleContext,
        build: BuildProfile,
        what: str = "ocpp/set_charge_rate",
    ) -> bool:
        """Send one profile; in `auto` unit mode try A, then W, and remember what worked."""
        host = self._host
        with self._lock:
            unit_now = self._unit
            trial_from = self._trial_from
        units = [unit_now] if unit_now else ["A", "W"]
        if trial_from is not None:
            units.append(trial_from)  # the unit on trial is refused: back to the one that worked
        detail = refused = ""
        for unit in units:
            if unit == "A":
                limit: float = amps
            else:
                limit = float(
                    round(amps * self._voltage_v(ctx.voltage_v) * self._lines.active_phases)
                )
            ok, detail = self._service.call(build(unit=unit, limit=limit))
            if ok:
                if trial_from is not None and unit == trial_from:
                    with self._lock:
                        self._unit, self._trial_from = trial_from, None
                    self._host.log(f"charger refuses unit {unit_now} ({refused}); back to {unit}")
                if unit_now is None:
                    with self._lock:
                        self._unit = unit
                    self._host.log(
                        f"charger accepts charging rate unit {unit}; using it from now on"
                    )
                host.call_ok("ocpp/set_charge_rate")
                return True
            refused = detail
            if unit_now is None and unit == "A":
                self._host.log(f"{what} in A failed ({detail}); trying W", level="DEBUG")
        host.call_failed(f"ocpp/set_charge_rate for charger '{self._ocpp.devid}'", detail)
        return False
