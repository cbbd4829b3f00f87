"""Registration checks (pure): profile timing at its boundaries, minimums that never fit."""

from __future__ import annotations

from typing import Any

import pytest

from load_juggler.config import parse_hub, parse_ocpp, parse_switch
from load_juggler.load_checks import LoadFacts, rating_warnings, refusal

HUB = parse_hub(
    "h",
    {
        "site": {"main_breaker_a": 25, "voltage": 230},
        "sensors": {"grid_current": "sensor.grid"},
        "circuits": {"panel": {"limit_a": 32}, "garage": {"limit_a": 16, "parent": "panel"}},
    },
)


def charger(validity_s: float, refresh_s: float) -> LoadFacts:
    common, ocpp = parse_ocpp(
        "evse", {"hub": "h", "charger": "cp1", "validity_s": validity_s, "refresh_s": refresh_s}
    )
    return LoadFacts(
        "evse", common, "charger cp1", "charger", "cp1", ocpp.validity_s, ocpp.refresh_s
    )


@pytest.mark.parametrize(
    ("validity_s", "refresh_s", "period_s", "refused"),
    [
        (40, 20, 20, True),  # 40 = 20 + 20: expires as the next write is due
        (41, 20, 20, False),
        (60, 30, 30, True),  # 60 = 30 + 30: expires as the next write is due
        (60, 29, 30, False),
        (50, 10, 30, True),  # 50 < 2 x 30
    ],
)
def test_profile_validity_boundaries(
    validity_s: float, refresh_s: float, period_s: float, refused: bool
) -> None:
    assert (refusal(charger(validity_s, refresh_s), [], period_s) is not None) is refused


def switch(name: str, power_w: float, **extra: Any) -> LoadFacts:
    common, _ = parse_switch(name, {"hub": "h", "switch": "switch.x", "power_w": power_w, **extra})
    return LoadFacts(name, common)


def test_a_plug_bigger_than_the_main_breaker_is_warned_about() -> None:
    assert rating_warnings(switch("sauna", 7000), HUB, None) == [
        "app 'sauna': its minimum (30.4 A on site phase A = 30.4 A) can never fit under "
        "the main breaker (25 A): it will never be started"
    ]
    assert rating_warnings(switch("kettle", 2300), HUB, None) == []


def test_a_parent_circuit_limits_too() -> None:
    common, _ = parse_ocpp("evse", {"hub": "h", "charger": "cp1", "min_a": 20, "max_a": 32})
    facts = LoadFacts("evse", common)
    assert rating_warnings(facts, HUB, "garage") == [
        "app 'evse': its minimum (20 A on site phase A = 20 A) can never fit under circuit "
        "'garage' (16 A): it will never be started"
    ]
    assert rating_warnings(facts, HUB, "panel") == []
