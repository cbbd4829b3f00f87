"""OCPP 1.6 charging profiles as a charger keeps them, without any Home Assistant import.

The fake charger must behave like a real one where Load Juggler's fail-safe depends on it: a
profile stops limiting when its schedule `duration` has run out (counted from receipt for a
`Relative` profile, from `startSchedule` for an `Absolute` one) or when `validTo` has passed, and
the charger then falls back to lower stack levels and finally to its own default current. Kept free
of Home Assistant imports so the main test venv can check it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")
KINDS = ("Absolute", "Relative")
UNITS = ("A", "W")
DEFAULT_PHASES = 3  # OCPP: numberPhases absent on an AC charger means 3


class ProfileError(ValueError):
    """A profile the charger would answer with `Rejected`."""


@dataclass(frozen=True)
class Period:
    """One `chargingSchedulePeriod`: from `start_s` on, at most `limit` in the schedule's unit."""

    start_s: float
    limit: float
    phases: int


@dataclass(frozen=True)
class Profile:
    """A charging profile installed on one connector (0 = the whole station)."""

    connector_id: int
    profile_id: int
    stack_level: int
    purpose: str
    kind: str
    unit: str
    start: datetime
    duration_s: float | None
    valid_from: datetime | None
    valid_to: datetime | None
    periods: tuple[Period, ...]
    transaction_id: int | None = None

    def limit_a(self, now: datetime, voltage: float) -> float | None:
        """The per-phase current this profile allows at `now`, or None when it does not apply."""
        if self.valid_from is not None and now < self.valid_from:
            return None
        if self.valid_to is not None and now >= self.valid_to:
            return None
        elapsed = (now - self.start).total_seconds()
        if elapsed < 0:
            return None
        if self.duration_s is not None and elapsed >= self.duration_s:
            return None
        current = None
        for period in self.periods:
            if period.start_s <= elapsed:
                current = period
        if current is None:
            return None
        if self.unit == "A":
            return current.limit
        return current.limit / (voltage * current.phases)

    def summary(self, now: datetime, voltage: float) -> dict[str, Any]:
        """A JSON-friendly view for the diagnostic entity."""
        limit = self.limit_a(now, voltage)
        return {
            "connector_id": self.connector_id,
            "id": self.profile_id,
            "stack_level": self.stack_level,
            "purpose": self.purpose,
            "kind": self.kind,
            "limit": self.periods[0].limit,
            "unit": self.unit,
            "active": limit is not None,
            "ends": _iso(self.ends()),
        }

    def ends(self) -> datetime | None:
        """When the profile stops limiting for good (None: never on its own)."""
        candidates = []
        if self.duration_s is not None:
            candidates.append(self.start + timedelta(seconds=self.duration_s))
        if self.valid_to is not None:
            candidates.append(self.valid_to)
        return min(candidates) if candidates else None


def parse_time(value: Any, field: str) -> datetime:
    """Parse an OCPP dateTime (ISO 8601, `Z` allowed); naive values are rejected."""
    if not isinstance(value, str):
        raise ProfileError(f"{field} must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ProfileError(f"{field} is not an ISO 8601 time: {value!r}") from err
    if parsed.tzinfo is None:
        raise ProfileError(f"{field} has no time zone: {value!r}")
    return parsed


def _number(raw: dict[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def parse_profile(raw: Any, connector_id: int, now: datetime) -> Profile:
    """Validate a `csChargingProfiles` object (camelCase, as HA OCPP forwards it) like a charger.

    `now` is the receipt time, the start of a `Relative` schedule.
    """
    if not isinstance(raw, dict):
        raise ProfileError(f"profile must be an object, got {type(raw).__name__}")
    purpose = raw.get("chargingProfilePurpose")
    if purpose not in PURPOSES:
        raise ProfileError(f"chargingProfilePurpose must be one of {PURPOSES}, got {purpose!r}")
    kind = raw.get("chargingProfileKind")
    if kind not in KINDS:
        raise ProfileError(f"chargingProfileKind must be one of {KINDS}, got {kind!r}")
    if purpose == "ChargePointMaxProfile" and connector_id != 0:
        raise ProfileError("ChargePointMaxProfile is only allowed on connector 0")
    if purpose == "TxProfile" and connector_id == 0:
        raise ProfileError("TxProfile is not allowed on connector 0")
    schedule = raw.get("chargingSchedule")
    if not isinstance(schedule, dict):
        raise ProfileError("chargingSchedule is missing")
    unit = schedule.get("chargingRateUnit")
    if unit not in UNITS:
        raise ProfileError(f"chargingRateUnit must be A or W, got {unit!r}")
    raw_periods = schedule.get("chargingSchedulePeriod")
    if not isinstance(raw_periods, list) or not raw_periods:
        raise ProfileError("chargingSchedulePeriod must be a non-empty list")
    periods = []
    for index, item in enumerate(raw_periods):
        where = f"chargingSchedulePeriod[{index}]"
        if not isinstance(item, dict):
            raise ProfileError(f"{where} must be an object")
        limit = _number(item, "limit", where)
        if limit < 0:
            raise ProfileError(f"{where}.limit must not be negative")
        phases = int(item.get("numberPhases", DEFAULT_PHASES))
        if phases not in (1, 2, 3):
            raise ProfileError(f"{where}.numberPhases must be 1..3")
        periods.append(Period(_number(item, "startPeriod", where), limit, phases))
    if periods[0].start_s != 0:
        raise ProfileError("the first period must start at 0")
    if kind == "Absolute":
        if "startSchedule" not in schedule:
            raise ProfileError("an Absolute profile needs chargingSchedule.startSchedule")
        start = parse_time(schedule["startSchedule"], "startSchedule")
    else:
        start = now
    duration = schedule.get("duration")
    if duration is not None:
        duration = _number(schedule, "duration", "chargingSchedule")
        if duration <= 0:
            raise ProfileError("chargingSchedule.duration must be positive")
    valid_from = raw.get("validFrom")
    valid_to = raw.get("validTo")
    transaction_id = raw.get("transactionId")
    if transaction_id is not None:
        if purpose != "TxProfile":
            raise ProfileError("transactionId is only allowed in a TxProfile")
        transaction_id = int(_number(raw, "transactionId", "profile"))
    return Profile(
        connector_id=connector_id,
        profile_id=int(_number(raw, "chargingProfileId", "profile")),
        stack_level=int(_number(raw, "stackLevel", "profile")),
        purpose=purpose,
        kind=kind,
        unit=unit,
        start=start,
        duration_s=duration,
        valid_from=None if valid_from is None else parse_time(valid_from, "validFrom"),
        valid_to=None if valid_to is None else parse_time(valid_to, "validTo"),
        periods=tuple(periods),
        transaction_id=transaction_id,
    )


class ProfileStore:
    """The profiles one connector's charger holds, and the limit they add up to on it."""

    def __init__(self) -> None:
        self.profiles: list[Profile] = []

    def install(self, profile: Profile) -> None:
        """OCPP 1.6: a profile with the same id, or same stack level + purpose, is replaced."""
        self.profiles = [
            old
            for old in self.profiles
            if old.profile_id != profile.profile_id
            and not (
                old.stack_level == profile.stack_level
                and old.purpose == profile.purpose
                and old.connector_id == profile.connector_id
            )
        ]
        self.profiles.append(profile)

    def clear(self) -> None:
        """`ClearChargingProfile` without filters removes everything."""
        self.profiles = []

    def end_transaction(self) -> None:
        """A TxProfile lives only as long as its transaction."""
        self.profiles = [p for p in self.profiles if p.purpose != "TxProfile"]

    def _top(
        self, purpose: str, connectors: tuple[int, ...], now: datetime, voltage: float
    ) -> float | None:
        active = [
            (profile.stack_level, limit)
            for profile in self.profiles
            if profile.purpose == purpose and profile.connector_id in connectors
            for limit in [profile.limit_a(now, voltage)]
            if limit is not None
        ]
        return max(active)[1] if active else None

    def limit_a(
        self,
        now: datetime,
        voltage: float,
        default_a: float,
        transaction: bool,
        connector: int = 1,
    ) -> tuple[float, str]:
        """The composite per-phase limit of `connector` and what set it."""
        source = "default"
        limit = default_a
        tx = self._top("TxProfile", (connector,), now, voltage) if transaction else None
        if tx is not None:
            limit, source = tx, "TxProfile"
        else:
            tx_default = self._top("TxDefaultProfile", (connector,), now, voltage)
            if tx_default is None:
                tx_default = self._top("TxDefaultProfile", (0,), now, voltage)
            if tx_default is not None:
                limit, source = tx_default, "TxDefaultProfile"
        station = self._top("ChargePointMaxProfile", (0,), now, voltage)
        if station is not None and station < limit:
            limit, source = station, "ChargePointMaxProfile"
        return limit, source


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
