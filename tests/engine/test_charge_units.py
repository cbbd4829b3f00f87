"""Chargers with several plugs (`charge_units`): a shared unit limit and one plug at a time.

Numbers are worked by hand: a 3-phase 230 V site with a 25 A main breaker and no background
unless a test says otherwise.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from load_juggler.engine.charge_units import UnitHolders, as_circuits, waiting_for_unit
from load_juggler.engine.errors import ConfigError
from load_juggler.engine.model import ChargeUnit, Circuit, Load, Mode, Strategy

from .builders import decide, evse, site

SEQ = ChargeUnit("twin", max_a=16.0, concurrent=False)
BOTH = ChargeUnit("twin", max_a=20.0, concurrent=True)


def plugs(unit: ChargeUnit, **kwargs: object) -> tuple[Load, Load]:
    return (
        evse("left", priority=1, unit=unit, **kwargs),  # type: ignore[arg-type]
        evse("right", priority=2, unit=unit, **kwargs),  # type: ignore[arg-type]
    )


# -- concurrent: the unit is a circuit node ---------------------------------------------------


def test_concurrent_plugs_share_the_unit_limit_by_priority() -> None:
    left, right = plugs(BOTH)
    d = decide(site(), left, right)
    # Minimums first (6 + 6 of the unit's 20 A), then the 8 A left to left by priority.
    assert d.loads["left"].current_a == pytest.approx(14.0)
    assert d.loads["left"].reason == "circuit twin phase A"
    assert d.loads["right"].current_a == pytest.approx(6.0)
    assert d.nodes["twin"].allocated_a == pytest.approx({"A": 20.0, "B": 20.0, "C": 20.0})


def test_concurrent_plugs_share_the_unit_limit_equally_when_shared() -> None:
    left, right = plugs(BOTH)
    d = decide(site(distribution=Strategy.SHARED), left, right)
    assert d.loads["left"].current_a == pytest.approx(10.0)
    assert d.loads["right"].current_a == pytest.approx(10.0)


def test_a_unit_limit_below_the_sum_of_plug_maxima_binds_before_the_breaker() -> None:
    unit = ChargeUnit("twin", max_a=24.0, concurrent=True)
    left, right = plugs(unit, max_a=16.0)
    d = decide(site(main_breaker_a=40.0, distribution=Strategy.SHARED), left, right)
    # 32 A of plug maxima on a 24 A unit under a 40 A breaker: 12 A each.
    assert d.loads["left"].current_a == pytest.approx(12.0)
    assert d.loads["right"].current_a == pytest.approx(12.0)


def test_a_unit_under_a_circuit_gets_no_more_than_the_circuit() -> None:
    unit = ChargeUnit("twin", max_a=32.0, concurrent=True)
    left, right = plugs(unit, circuit="garage")
    other = evse("third", priority=3, circuit="garage")
    d = decide(site(), left, right, other, circuits=(Circuit("garage", limit_a=18.0),))
    # Minimums first: 6 + 6 + 6 = 18 A fills the 18 A garage; nothing remains to raise.
    assert [d.loads[i].current_a for i in ("left", "right", "third")] == pytest.approx(
        [6.0, 6.0, 6.0]
    )
    assert d.nodes["twin"].allocated_a["A"] == pytest.approx(12.0)


def test_a_unit_without_a_limit_only_groups_its_plugs() -> None:
    unit = ChargeUnit("twin", max_a=None, concurrent=True)
    left, right = plugs(unit, max_a=10.0)
    d = decide(site(), left, right)
    assert d.loads["left"].current_a == pytest.approx(10.0)
    assert d.loads["right"].current_a == pytest.approx(10.0)


# -- sequential: one plug at a time -----------------------------------------------------------


def test_sequential_unit_feeds_only_its_first_plug_by_rank() -> None:
    left, right = plugs(SEQ)
    d = decide(site(), left, right)
    assert d.loads["left"].current_a == pytest.approx(16.0)
    assert d.loads["right"].current_a == 0.0
    assert d.loads["right"].reason == "waiting for unit: left holds it"


def test_sequential_unit_follows_the_holder_the_controller_chose() -> None:
    left, right = plugs(SEQ)
    d = decide(site(), left, right, unit_holders={"twin": "right"})
    assert d.loads["right"].current_a == pytest.approx(16.0)
    assert d.loads["left"].current_a == 0.0
    assert d.loads["left"].reason == "waiting for unit: right holds it"


def test_sequential_unit_passes_over_a_plug_that_is_off_or_unplugged() -> None:
    left, right = plugs(SEQ)
    d = decide(site(), replace(left, mode=Mode.OFF), right)
    assert d.loads["left"].reason == "mode off"
    assert d.loads["right"].current_a == pytest.approx(16.0)
    d = decide(site(), replace(left, connected=False), right)
    assert d.loads["left"].reason == "not connected"
    assert d.loads["right"].current_a == pytest.approx(16.0)


def test_sequential_unit_prefers_a_car_that_draws_then_urgency() -> None:
    left, right = plugs(SEQ)
    d = decide(site(), replace(left, drawing=False), right)
    assert d.loads["right"].current_a == pytest.approx(16.0)
    assert d.loads["left"].current_a == 0.0
    # A more urgent mode beats a better priority.
    d = decide(site(), replace(left, mode=Mode.SOLAR_ONLY), right, solar_w=0.0)
    assert d.loads["right"].current_a == pytest.approx(16.0)
    assert d.loads["left"].reason == "waiting for unit: right holds it"


def test_sequential_unit_limit_caps_the_plug_that_holds_it() -> None:
    unit = ChargeUnit("twin", max_a=10.0)
    left, right = plugs(unit)
    d = decide(site(), left, right)
    assert d.loads["left"].current_a == pytest.approx(10.0)
    assert d.loads["left"].reason == "circuit twin phase A"


def test_as_circuits_is_idempotent_and_keeps_the_plugs_circuit_as_parent() -> None:
    left, right = plugs(BOTH, circuit="garage")
    from load_juggler.engine.model import Snapshot

    snap = Snapshot(site=site(), loads=(left, right), circuits=(Circuit("garage", limit_a=30.0),))
    once = as_circuits(snap)
    assert once.circuits[-1] == Circuit("twin", parent="garage", limit_a=20.0)
    assert [ld.circuit for ld in once.loads] == ["twin", "twin"]
    assert as_circuits(once) == once
    assert waiting_for_unit(once) == {}


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loads", "circuits", "message"),
    [
        (
            (evse("a", unit=SEQ, circuit="garage"), evse("b", unit=SEQ)),
            (Circuit("garage", limit_a=20.0),),
            "load 'b': key 'circuit'",
        ),
        ((evse("a", unit=SEQ), evse("b", unit=BOTH)), (), "load 'b': key 'unit'"),
        ((evse("a", unit=SEQ),), (Circuit("twin"),), "unit 'twin': key 'id'"),
        ((evse("a", unit=ChargeUnit("twin", max_a=0.0)),), (), "unit 'twin': key 'unit_max_a'"),
        ((evse("twin", unit=SEQ),), (), "unit 'twin': key 'id'"),
    ],
)
def test_bad_units_are_refused_with_one_line(
    loads: tuple[Load, ...], circuits: tuple[Circuit, ...], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        decide(site(), *loads, circuits=circuits)
    assert message in str(err.value)


# -- who holds a sequential unit over time ----------------------------------------------------


def test_the_holder_keeps_the_unit_until_its_car_is_finished_or_unplugged() -> None:
    holders = UnitHolders()
    left, right = plugs(SEQ)
    # right's car came first: it holds the unit although left has the better priority.
    assert holders.choose(0.0, (replace(left, connected=False), right), {}, 300.0) == {
        "twin": "right"
    }
    assert holders.choose(5.0, (left, right), {"right": 0.0}, 300.0) == {"twin": "right"}
    assert holders.choose(900.0, (left, right), {"right": 0.0}, 300.0) == {"twin": "right"}
    # right's car leaves (or rests: finished or idle counts as not connected): left's turn.
    assert holders.choose(905.0, (left, replace(right, connected=False)), {}, 300.0) == {
        "twin": "left"
    }
    # right comes back: left keeps the unit.
    assert holders.choose(910.0, (left, right), {"left": 905.0}, 300.0) == {"twin": "left"}


def test_an_idle_holder_gives_the_unit_to_a_car_that_draws() -> None:
    holders = UnitHolders()
    left, right = plugs(SEQ)
    assert holders.choose(0.0, (left, right), {}, 300.0) == {"twin": "left"}
    idle = replace(left, drawing=False)
    assert holders.choose(5.0, (idle, right), {"left": 0.0}, 300.0) == {"twin": "right"}
    # With no car drawing anywhere the holder stays.
    assert holders.choose(10.0, (idle, replace(right, connected=False)), {}, 300.0) == {
        "twin": "left"
    }


def test_a_more_urgent_mode_takes_the_unit_only_after_the_min_on_time() -> None:
    holders = UnitHolders()
    left, right = plugs(SEQ)
    solar = replace(left, mode=Mode.SOLAR_ONLY)
    assert holders.choose(0.0, (solar, replace(right, connected=False)), {}, 300.0) == {
        "twin": "left"
    }
    # right arrives in continuous (more urgent): left has run 100 s of its 300 s min on time.
    assert holders.choose(100.0, (solar, right), {"left": 0.0}, 300.0) == {"twin": "left"}
    assert holders.choose(300.0, (solar, right), {"left": 0.0}, 300.0) == {"twin": "right"}


def test_a_holder_that_never_started_gives_way_to_a_more_urgent_mode_at_once() -> None:
    holders = UnitHolders()
    left, right = plugs(SEQ)
    solar = replace(left, mode=Mode.SOLAR_ONLY)
    holders.choose(0.0, (solar, replace(right, connected=False)), {}, 300.0)
    assert holders.choose(5.0, (solar, right), {"left": None}, 300.0) == {"twin": "right"}


def test_same_urgency_never_swaps_mid_session() -> None:
    holders = UnitHolders()
    left, right = plugs(SEQ)
    holders.choose(0.0, (replace(left, connected=False), right), {}, 0.0)
    assert holders.choose(5000.0, (left, right), {"right": 0.0}, 0.0) == {"twin": "right"}


def test_concurrent_units_have_no_holder() -> None:
    left, right = plugs(BOTH)
    assert UnitHolders().choose(0.0, (left, right), {}, 0.0) == {}
