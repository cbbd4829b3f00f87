"""Run-time wiring checks (pure): export that nothing explains, members that name no load."""

from __future__ import annotations

from load_juggler.site_checks import MissingMember, PhantomExport, missing_members


def test_phantom_export_needs_every_phase_exporting_for_a_minute() -> None:
    check = PhantomExport(invert=False, has_solar=False, has_battery=True)
    assert check.update(0, (-3.0, -2.5, -4.0), None, 0.0) is None
    assert check.update(30, (-3.0, -1.0, -4.0), None, 0.0) is None  # phase B not exporting: reset
    assert check.update(35, (-3.0, -2.5, -4.0), None, 0.0) is None
    assert check.update(90, (-3.0, -2.5, -4.0), None, -20.0) is None  # 55 s so far
    line = check.update(95, (-3.0, -2.5, -4.0), None, -20.0)
    assert line == (
        "the grid reads as export (-3/-2.5/-4 A) for 60 s with no solar sensor (if this site has "
        "no PV) and no battery discharge, which is impossible: your meter reports export as "
        "positive: set sensors.grid_invert: true. Until then headroom is computed from a wrong "
        "sign"
    )
    assert check.update(100, (-3.0, -2.5, -4.0), None, 0.0) is None  # once per episode


def test_phantom_export_is_explained_by_solar_or_battery() -> None:
    check = PhantomExport(invert=True, has_solar=True, has_battery=True)
    for t in range(0, 200, 5):
        assert check.update(t, (-5.0,), 49.0 if t < 100 else 51.0, -60.0) is None
    for t in range(0, 200, 5):
        assert check.update(t, (-5.0,), 3000.0, 0.0) is None
    check = PhantomExport(invert=True, has_solar=True, has_battery=False)
    assert check.update(0, (-5.0,), None, None) is None  # solar unknown: not "no solar"
    assert check.update(100, (-5.0,), None, None) is None


def test_missing_members_name_the_closest_registered_app() -> None:
    members = {"garage": ("evse_1", "evse2"), "shed": ("heater",)}
    assert missing_members(members, ["evse1", "evse2", "boiler"]) == [
        MissingMember("garage", "evse_1", "evse1"),
        MissingMember("shed", "heater", None),
    ]
    assert MissingMember("shed", "heater", None).line("lj_hub") == (
        "app 'lj_hub': key 'circuits.shed.members' = 'heater' names no registered load app (no "
        "registered load app has a similar name); loads without a circuit get nothing until "
        "every member is placed"
    )
