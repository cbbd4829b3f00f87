"""The fake charger's profile rules, checked without Home Assistant: the fail-safe e2e test is
only as good as the charger stand-in's expiry logic."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PROFILES_PY = (
    Path(__file__).resolve().parent
    / "ha_config"
    / "custom_components"
    / "fake_ocpp"
    / "profiles.py"
)
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
V = 230.0


def _load() -> ModuleType:
    """Import profiles.py alone: its package __init__ needs Home Assistant, this file does not."""
    spec = importlib.util.spec_from_file_location("fake_ocpp_profiles", PROFILES_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


profiles = _load()


def raw(limit: float = 10, **overrides: Any) -> dict[str, Any]:
    """A TxDefaultProfile in A, Relative, without expiry unless overridden."""
    schedule = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        **overrides.pop("schedule", {}),
    }
    return {
        "chargingProfileId": 1,
        "stackLevel": 1,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingSchedule": schedule,
        **overrides,
    }


def limit_at(store: Any, seconds: float, default: float = 8.0) -> tuple[float, str]:
    return store.limit_a(T0 + timedelta(seconds=seconds), V, default, transaction=True)


def test_relative_profile_ends_after_its_duration() -> None:
    store = profiles.ProfileStore()
    store.install(profiles.parse_profile(raw(schedule={"duration": 30}), 1, T0))
    assert limit_at(store, 29.9) == (10.0, "TxDefaultProfile")
    assert limit_at(store, 30) == (8.0, "default")


def test_absolute_profile_ends_at_valid_to_and_converts_watts() -> None:
    profile = raw(
        6900,
        chargingProfileKind="Absolute",
        validTo="2026-06-01T12:00:20Z",
        schedule={"chargingRateUnit": "W", "startSchedule": "2026-06-01T12:00:00Z"},
    )
    store = profiles.ProfileStore()
    store.install(profiles.parse_profile(profile, 1, T0 + timedelta(seconds=5)))
    assert limit_at(store, -1) == (8.0, "default")  # before startSchedule
    assert limit_at(store, 19)[0] == pytest.approx(10.0)  # 6900 W / (230 V * 3)
    assert limit_at(store, 20) == (8.0, "default")


def test_higher_stack_level_wins_and_station_max_caps() -> None:
    store = profiles.ProfileStore()
    store.install(profiles.parse_profile(raw(12), 1, T0))
    store.install(profiles.parse_profile(raw(16, chargingProfileId=2, stackLevel=5), 1, T0))
    assert limit_at(store, 1) == (16.0, "TxDefaultProfile")
    station = raw(11, chargingProfileId=3, chargingProfilePurpose="ChargePointMaxProfile")
    store.install(profiles.parse_profile(station, 0, T0))
    assert limit_at(store, 1) == (11.0, "ChargePointMaxProfile")


def test_same_id_replaces_and_tx_profiles_end_with_the_transaction() -> None:
    store = profiles.ProfileStore()
    store.install(profiles.parse_profile(raw(12), 1, T0))
    store.install(profiles.parse_profile(raw(7), 1, T0))
    assert limit_at(store, 1) == (7.0, "TxDefaultProfile")
    tx = raw(14, chargingProfileId=9, chargingProfilePurpose="TxProfile", transactionId=5)
    store.install(profiles.parse_profile(tx, 1, T0))
    assert limit_at(store, 1) == (14.0, "TxProfile")
    store.end_transaction()
    assert limit_at(store, 1) == (7.0, "TxDefaultProfile")


@pytest.mark.parametrize(
    ("profile", "connector", "message"),
    [
        (raw(chargingProfilePurpose="TxProfile"), 0, "not allowed on connector 0"),
        (raw(chargingProfileKind="Absolute"), 1, "needs chargingSchedule.startSchedule"),
        (raw(validTo="2026-06-01T12:00:00"), 1, "no time zone"),
        (raw(schedule={"chargingRateUnit": "kW"}), 1, "chargingRateUnit"),
        (raw(schedule={"duration": 0}), 1, "duration must be positive"),
        (raw(transactionId=3), 1, "only allowed in a TxProfile"),
        ({"chargingProfilePurpose": "TxDefaultProfile"}, 1, "chargingProfileKind"),
    ],
)
def test_malformed_profiles_are_rejected(
    profile: dict[str, Any], connector: int, message: str
) -> None:
    with pytest.raises(profiles.ProfileError, match=message):
        profiles.parse_profile(profile, connector, T0)


def test_expired_profile_falls_back_to_the_base_below_it_then_to_the_default() -> None:
    """Like an OCPP 1.6 charge point: the highest valid stack level wins within a purpose, a
    valid TxProfile beats every TxDefaultProfile, and an expired profile drops out."""
    store = profiles.ProfileStore()
    assert limit_at(store, 0, default=32.0) == (32.0, "default")  # no profile: its maximum
    base = raw(8, chargingProfileId=951, stackLevel=4)
    store.install(profiles.parse_profile(base, 1, T0))
    ours = raw(
        16,
        chargingProfileId=901,
        stackLevel=5,
        chargingProfilePurpose="TxProfile",
        transactionId=5,
        schedule={"duration": 30},
    )
    store.install(profiles.parse_profile(ours, 1, T0))
    assert limit_at(store, 29, default=32.0) == (16.0, "TxProfile")
    assert limit_at(store, 30, default=32.0) == (8.0, "TxDefaultProfile")
    assert limit_at(store, 3600, default=32.0) == (8.0, "TxDefaultProfile")  # no end of its own
    # Our TxDefaultProfile one level above the base rules over it while valid.
    store.install(
        profiles.parse_profile(
            raw(11, chargingProfileId=902, stackLevel=5, schedule={"duration": 10}), 1, T0
        )
    )
    assert limit_at(store, 5, default=32.0) == (16.0, "TxProfile")
    store.end_transaction()
    assert limit_at(store, 5, default=32.0) == (11.0, "TxDefaultProfile")
    assert limit_at(store, 10, default=32.0) == (8.0, "TxDefaultProfile")
