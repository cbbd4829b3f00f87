"""The one sum of loads' currents behind the site and every circuit (`engine.node_totals`)."""

from __future__ import annotations

from load_juggler.engine.circuits import CircuitTree
from load_juggler.engine.model import SITE_NODE, Circuit, Load
from load_juggler.engine.node_totals import line_terms, node_totals, uniform_terms

# site -> feeder (garage) -> wallbox; shed hangs directly under the site.
TREE = CircuitTree(
    (
        Circuit("garage", limit_a=32.0),
        Circuit("wallbox", parent="garage", limit_a=20.0),
        Circuit("shed", limit_a=16.0),
    )
)
ABC = ("A", "B", "C")


def test_uniform_terms_count_a_repeated_phase_once_per_line():
    # A 3-phase charger on a 1-phase supply: its 10 A lands three times on phase A.
    charger = Load("car", phases=3, phase_map=("A", "A", "A"))
    assert dict(uniform_terms(charger, 10.0)) == {"A": 30.0}
    # A 2-phase car on a 3-phase charger wired B, C, A uses only B and C.
    two_phase = Load("car2", phases=2, phase_map=("B", "C", "A"))
    assert dict(uniform_terms(two_phase, 8.0)) == {"B": 8.0, "C": 8.0}


def test_line_terms_keep_each_line_on_its_own_site_phase():
    load = Load("car", phases=3, phase_map=("C", "A", "B"))
    assert line_terms(load, (7.0, 8.0, 9.0)) == (("C", 7.0), ("A", 8.0), ("B", 9.0))
    # Only the load's own lines: a 1-phase load ignores extra values.
    single = Load("plug", phases=1, phase_map=("B",))
    assert line_terms(single, (3.0, 4.0, 5.0)) == (("B", 3.0),)


def test_a_load_counts_in_its_circuit_and_every_ancestor():
    car = Load("car", phases=3, phase_map=("A", "B", "C"), circuit="wallbox")
    heater = Load("heater", phases=1, phase_map=("B",), circuit="shed")
    totals = node_totals(
        (
            ("wallbox", uniform_terms(car, 16.0), 11040.0),
            ("shed", uniform_terms(heater, 8.0), 1840.0),
        ),
        TREE,
        ABC,
    )
    assert totals.amps["wallbox"] == {"A": 16.0, "B": 16.0, "C": 16.0}
    assert totals.amps["garage"] == {"A": 16.0, "B": 16.0, "C": 16.0}
    assert totals.amps["shed"] == {"A": 0.0, "B": 8.0, "C": 0.0}
    # The site carries both: 16 A on A and C, 16 + 8 = 24 A on B.
    assert totals.amps[SITE_NODE] == {"A": 16.0, "B": 24.0, "C": 16.0}
    assert totals.watts == {
        SITE_NODE: 12880.0,
        "garage": 11040.0,
        "wallbox": 11040.0,
        "shed": 1840.0,
    }


def test_repeated_phase_and_per_line_draws_add_up_on_one_phase():
    # Lines of 6, 7 and 5 A all on phase A (a charger on a 1-phase supply): 18 A there.
    charger = Load("car", phases=3, phase_map=("A", "A", "A"), circuit="garage")
    totals = node_totals((("garage", line_terms(charger, (6.0, 7.0, 5.0)), 0.0),), TREE, ABC)
    assert totals.amps["garage"] == {"A": 18.0, "B": 0.0, "C": 0.0}
    assert totals.amps[SITE_NODE] == {"A": 18.0, "B": 0.0, "C": 0.0}
    assert totals.amps["wallbox"] == {"A": 0.0, "B": 0.0, "C": 0.0}


def test_a_load_without_circuit_counts_at_the_site_only():
    car = Load("car", phases=1, phase_map=("C",))
    totals = node_totals(((None, uniform_terms(car, 12.5), 2875.0),), TREE, ABC)
    assert totals.amps[SITE_NODE] == {"A": 0.0, "B": 0.0, "C": 12.5}
    assert all(totals.amps[c] == {"A": 0.0, "B": 0.0, "C": 0.0} for c in TREE.circuits)
    assert totals.watts[SITE_NODE] == 2875.0
    assert totals.watts["garage"] == 0.0


def test_phases_the_site_does_not_have_are_left_out():
    # A 1-phase site reports phase A only; a term on B (no such phase here) is dropped.
    totals = node_totals(
        ((None, (("A", 4.0), ("B", 9.0)), 0.0), (None, (("A", 2.0),), 0.0)),
        CircuitTree(()),
        ("A",),
    )
    assert totals.amps == {SITE_NODE: {"A": 6.0}}
