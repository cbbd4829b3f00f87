"""One reader for every node meter (`engine.node_meters`): the grid meter and circuit meters
are checked per phase and filtered as background the same way."""

from __future__ import annotations

from load_juggler.engine.node_meters import NodeMeters, PhaseRead
from load_juggler.engine.sample_memory import WarnOnce

ABC = ("A", "B", "C")


def _within_50_a(amps: float, managed_a: float) -> bool:
    return -50.0 <= amps <= 50.0 + managed_a


def test_a_phase_without_a_valid_sample_is_held_and_the_meter_is_blind() -> None:
    meters = NodeMeters(1.0, WarnOnce(), WarnOnce())
    measured: dict[tuple[str, str], float | None] = {}
    warnings: list[str] = []

    def read(raw: object, draw_a: dict[str, float]) -> PhaseRead:
        label = "circuit garage"

        def allowed(managed_a: float) -> str:
            return f"-50..{50 + managed_a:g} A"

        return meters.read_phases(
            "garage", label, raw, ABC, _within_50_a, allowed, draw_a, measured, warnings
        )

    # 10 A on A of which 6 A is a managed load's: 4 A of background there.
    assert read((10.0, 4.0, 2.0), {"A": 6.0}) == PhaseRead(fresh=True, held=False)
    assert meters.background("garage", ABC) == (4.0, 4.0, 2.0)

    # A drops out, B reads a glitch: both held, C follows; the meter is blind, not fresh.
    assert read([None, 99.0, 3.0], {"A": 6.0}) == PhaseRead(fresh=False, held=True)
    assert measured == {("garage", "A"): None, ("garage", "B"): None, ("garage", "C"): 3.0}
    assert warnings == [
        "circuit garage phase B reading 99.0 A is implausible (allowed -50..50 A): "
        "treated as unavailable, last good value held"
    ]
    assert meters.background("garage", ABC) == (4.0, 4.0, 3.0)

    # While blind, a managed draw that no longer counts (6 -> 2 A) moves to the background:
    # the last valid 10 A minus 2 A, so the blind meter never leaves more room than before.
    read(None, {"A": 2.0})
    assert meters.background("garage", ABC) == (8.0, 4.0, 3.0)
    assert len(warnings) == 1  # the glitch episode warned once


def test_an_import_the_managed_loads_explain_is_a_measurement() -> None:
    """The bound is handed each phase's managed draw: 70 A with 30 A of managed draw behind it
    is 40 A of background (a cloud took the sun that carried the loads), not a glitch."""
    meters = NodeMeters(1.0, WarnOnce(), WarnOnce())
    measured: dict[tuple[str, str], float | None] = {}
    warnings: list[str] = []
    read = meters.read_phases(
        "site", "grid", (70.0, 70.0, 2.0), ABC, _within_50_a, str, {"A": 30.0}, measured, warnings
    )
    assert read == PhaseRead(fresh=False, held=False)
    assert measured == {("site", "A"): 70.0, ("site", "B"): None, ("site", "C"): 2.0}
    assert len(warnings) == 1 and "phase B reading 70.0 A" in warnings[0]


def test_a_meter_never_read_is_not_blind_and_has_no_background() -> None:
    meters = NodeMeters(1.0, WarnOnce(), WarnOnce())
    measured: dict[tuple[str, str], float | None] = {}
    first = meters.read_phases("site", "grid", (), ABC, _within_50_a, str, {}, measured, [])
    assert first == PhaseRead(fresh=False, held=False)
    assert meters.background("site", ABC) is None
    # Two phases only: not fresh, and no background until every phase has one.
    meters.read_phases("site", "grid", (1.0, 2.0), ABC, _within_50_a, str, {}, measured, [])
    assert meters.background("site", ABC) is None
