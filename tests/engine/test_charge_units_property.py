"""Property tests: a charger unit on random sites keeps every invariant.

A snapshot with a unit must decide exactly as the same snapshot written out by hand: the unit
as a circuit over its plugs and, for a sequential unit, every plug but the holder in mode off.
That written-out snapshot is then held to every invariant of `test_invariants` (a unit limit
below the sum of the plugs' maxima, a unit under a circuit), and a sequential unit never has
two plugs on.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from load_juggler.engine.allocate import allocate
from load_juggler.engine.model import ChargeUnit, Circuit, LoadKind, Mode, Snapshot

from .test_invariants import check_invariants, snapshots

TOL = 1e-6


@st.composite
def unit_snapshots(draw) -> tuple[Snapshot, ChargeUnit]:
    snap = draw(snapshots())
    chargers = [n for n, ld in enumerate(snap.loads) if ld.kind is LoadKind.EVSE]
    if len(chargers) < 2:
        snap = replace(
            snap,
            loads=(
                *snap.loads,
                *(
                    replace(snap.loads[0], id=f"x{n}", kind=LoadKind.EVSE, power_w=None)
                    for n in range(2)
                ),
            ),
        )
        chargers = [n for n, ld in enumerate(snap.loads) if ld.kind is LoadKind.EVSE]
    picked = draw(st.lists(st.sampled_from(chargers), min_size=2, max_size=3, unique=True))
    maxima = sum(snap.loads[n].max_a for n in picked)
    unit = ChargeUnit(
        "u0",
        # Mostly below the sum of the plugs' maxima, where the unit binds.
        max_a=draw(st.one_of(st.none(), st.floats(4.0, max(4.0, maxima)))),
        concurrent=draw(st.booleans()),
    )
    circuit = snap.loads[picked[0]].circuit
    loads = list(snap.loads)
    for n in picked:
        loads[n] = replace(loads[n], unit=unit, circuit=circuit)
    holders = {}
    if draw(st.booleans()):
        holders = {"u0": loads[draw(st.sampled_from(picked))].id}
    return replace(snap, loads=tuple(loads), unit_holders=holders), unit


def written_out(snap: Snapshot, unit: ChargeUnit, waiting: set[str]) -> Snapshot:
    """The unit as a plain circuit, its waiting plugs in mode off."""
    plugs = [ld for ld in snap.loads if ld.unit is not None]
    node = Circuit(unit.id, parent=plugs[0].circuit, limit_a=unit.max_a)
    loads = tuple(
        ld
        if ld.unit is None
        else replace(
            ld,
            unit=None,
            circuit=unit.id,
            mode=Mode.OFF if ld.id in waiting else ld.mode,
        )
        for ld in snap.loads
    )
    return replace(snap, loads=loads, circuits=(*snap.circuits, node), unit_holders={})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_snapshots())
def test_a_unit_decides_as_its_circuit_and_keeps_every_invariant(
    case: tuple[Snapshot, ChargeUnit],
) -> None:
    snap, unit = case
    d = allocate(snap)
    plugs = [ld for ld in snap.loads if ld.unit is not None]
    waiting = {ld.id for ld in plugs if d.loads[ld.id].reason.startswith("waiting for unit")}
    on = [ld.id for ld in plugs if d.loads[ld.id].current_a > 0]
    if unit.concurrent:
        assert not waiting
    else:
        assert len(on) <= 1, on
        eligible = [ld for ld in plugs if ld.connected and Mode(ld.mode) is not Mode.OFF]
        # Every eligible plug but the holder waits: the one the controller named (even while
        # it cannot take current, e.g. in its min off time), else the first by rank.
        holder = snap.unit_holders.get("u0")
        if holder is not None:
            assert waiting == {ld.id for ld in eligible} - {holder}
        else:
            assert len(waiting) == max(0, len(eligible) - 1)
    if unit.max_a is not None:
        for phase, used in d.nodes["u0"].allocated_a.items():
            total = sum(d.loads[ld.id].phases_a.get(phase, 0.0) for ld in plugs)
            assert abs(used - total) < TOL
            assert total <= unit.max_a + TOL, (phase, total, unit.max_a)
    plain = written_out(snap, unit, waiting)
    expected = allocate(plain)
    for ld in snap.loads:
        assert abs(d.loads[ld.id].current_a - expected.loads[ld.id].current_a) < TOL, ld.id
    check_invariants(plain, expected)
