"""Distribution strategies within one tier.

Common setup: 32 A breaker, 2 A house -> 30 A for four 3-phase cars with max 11, 12, 13, 14.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.model import Circuit, Mode

from .builders import currents, decide, evse, one_phase, plug, reasons, site

FOUR_CARS = [evse(f"car{i}", priority=i, max_a=10.0 + i) for i in range(1, 5)]


def four_cars(strategy: str):
    return decide(
        site(main_breaker_a=32.0, distribution=strategy), *FOUR_CARS, grid_a=(2.0, 2.0, 2.0)
    )


def test_priority_mins_first_then_remainder_in_order():
    # mins 4 x 6 = 24, remainder 6: car1 +5 (to max 11), car2 +1.
    d = four_cars("priority")
    assert currents(d) == {"car1": 11.0, "car2": 7.0, "car3": 6.0, "car4": 6.0}
    assert reasons(d)["car1"] == "max current"
    assert reasons(d)["car2"] == "site phase A"


def test_shared_splits_30a_equally():
    d = four_cars("shared")
    assert currents(d) == {"car1": 7.5, "car2": 7.5, "car3": 7.5, "car4": 7.5}


def test_optimized_sequential_to_max_skips_load_below_min():
    # 11 + 12 = 23, 7 left for car3, car4 can't reach 6.
    d = four_cars("optimized")
    assert currents(d) == {"car1": 11.0, "car2": 12.0, "car3": 7.0, "car4": 0.0}
    assert reasons(d)["car4"] == "below min current (site phase A)"


def test_optimized_leftover_flows_past_a_skipped_load():
    # 10 A free: car1 (min 12) can't start, car2 takes 10.
    d = decide(
        site(main_breaker_a=12.0, distribution="optimized"),
        evse("car1", priority=1, min_a=12.0),
        evse("car2", priority=2),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"car1": 0.0, "car2": 10.0}


def test_strict_next_load_waits_until_previous_is_at_max():
    d = four_cars("strict")
    assert currents(d) == {"car1": 11.0, "car2": 12.0, "car3": 7.0, "car4": 0.0}
    assert reasons(d)["car4"] == "strict: waiting for car3"


def test_strict_waits_even_when_a_later_load_would_fit():
    # car1 (min 12) can't start on 10 A free, so car2 waits for it although 10 A would fit.
    d = decide(
        site(main_breaker_a=12.0, distribution="strict"),
        evse("car1", priority=1, min_a=12.0),
        evse("car2", priority=2),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"car1": 0.0, "car2": 0.0}
    assert reasons(d) == {
        "car1": "below min current (site phase A)",
        "car2": "strict: waiting for car1",
    }


def test_strict_skips_off_disconnected_and_idle_loads():
    d = decide(
        site(distribution="strict"),
        evse("off", priority=1, mode=Mode.OFF),
        evse("gone", priority=2, connected=False),
        evse("idle", priority=3, drawing=False),
        evse("car", priority=4, max_a=10.0),
        evse("next", priority=5, max_a=10.0),
    )
    # car 10 (max) -> next 10 (max) -> idle offered 6 at the end: 26 > 25 -> 0.
    assert currents(d) == {"off": 0.0, "gone": 0.0, "idle": 0.0, "car": 10.0, "next": 10.0}
    assert reasons(d)["idle"] == "not drawing: below min current (site phase A)"


def test_strict_applies_within_a_tier_lower_tier_still_served():
    # continuous car1 stuck at 16 - 6 = 10 A (site phase A), car2 waits for it; surplus
    # (20 + 20 - 6) x 230 = 7820 W, minus car1's 2300 = 5520 W: the excess plug (2300 W on B)
    # still runs.
    d = decide(
        site(main_breaker_a=16.0, distribution="strict"),
        one_phase("car1", phase="A", priority=1),
        one_phase("car2", phase="A", priority=2),
        plug("boiler", 2300.0, phase="B", mode=Mode.EXCESS),
        grid_a=(6.0, -20.0, -20.0),
    )
    assert currents(d)["car1"] == 10.0
    assert reasons(d)["car2"] == "strict: waiting for car1"
    assert currents(d)["boiler"] == pytest.approx(10.0)


def test_shared_caps_each_load_at_its_max_and_refills_the_rest():
    # 30 A: mins 6+6+6, remainder 12 -> small reaches 7 at +1, the others share 11 -> 11.5 each.
    d = decide(
        site(main_breaker_a=32.0, distribution="shared"),
        evse("small", max_a=7.0),
        evse("big1"),
        evse("big2"),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"small": 7.0, "big1": 11.5, "big2": 11.5}


def test_shared_circuit_bound_loads_freeze_while_others_keep_rising():
    # Mins: 6 each (phase A: g1 + g2 + o1 = 18). Equal raises: the 14 A garage is full at +1
    # (g1 = g2 = 7); o1 keeps rising to 25 - 14 = 11 on phase A, o2 likewise on phase B.
    d = decide(
        site(distribution="shared"),
        evse("g1", circuit="garage"),
        evse("g2", circuit="garage"),
        one_phase("o1", phase="A"),
        one_phase("o2", phase="B"),
        circuits=(Circuit("garage", limit_a=14.0),),
    )
    c = currents(d)
    assert c["g1"] == 7.0 and c["g2"] == 7.0
    assert c["o1"] == 11.0 and c["o2"] == 11.0
    assert reasons(d)["g1"] == "circuit garage phase A"


def test_shared_rounding_leftover_is_topped_up_in_order():
    # 20 A for three loads: 6.667 each floors to 6.6 (19.8); the 0.2 A left goes to the first.
    d = decide(
        site(main_breaker_a=20.0, distribution="shared"),
        evse("a", priority=1),
        evse("b", priority=2),
        evse("c", priority=3),
    )
    c = currents(d)
    assert sum(c.values()) == pytest.approx(20.0)
    assert c["a"] == pytest.approx(6.8)
    assert c["b"] == pytest.approx(6.6) and c["c"] == pytest.approx(6.6)


def test_shared_solar_only_tier_shares_the_pool():
    # 6900 W pool for two 3-phase solar_only cars: mins 12 A = 8280 W > pool -> only one starts.
    # With 10350 W (15 A): both start at 6, the remaining 3 A split -> 7.5 each.
    d = decide(
        site(distribution="shared"),
        evse("a", mode=Mode.SOLAR_ONLY),
        evse("b", mode=Mode.SOLAR_ONLY),
        grid_a=(-15.0, -15.0, -15.0),
    )
    assert currents(d) == {"a": 7.5, "b": 7.5}
    assert reasons(d)["a"] == "solar surplus"


def test_priority_ties_broken_by_id():
    d = decide(
        site(distribution="optimized"),
        evse("zeta", priority=3),
        evse("alpha", priority=3),
        grid_a=(4.0, 4.0, 4.0),
    )
    assert currents(d) == {"zeta": 0.0, "alpha": 16.0}


def test_strict_idle_load_gets_no_offer_behind_a_drawing_load_below_max():
    # carA is held to 11 A by site phase A, below its 32 A max; once drawing, carB (phase B, lots
    # of room) and the plug would wait for it, so an offer now would start them only to cut
    # them in the next cycle. A non-drawing load ranked before carA is still offered its min.
    d = decide(
        site(distribution="strict"),
        one_phase("early", phase="C", priority=1, drawing=False),
        one_phase("carA", phase="A", priority=2, max_a=32.0),
        one_phase("carB", phase="B", priority=3, max_a=32.0, drawing=False),
        plug("heat", 1000.0, phase="C", priority=4, drawing=False),
        grid_a=(14.0, 3.0, 8.0),
    )
    assert currents(d)["carA"] == 11.0
    assert currents(d)["carB"] == 0.0
    assert currents(d)["heat"] == 0.0
    assert currents(d)["early"] == 6.0
    assert reasons(d)["carB"] == "not drawing: strict: waiting for carA"
    assert reasons(d)["heat"] == "not drawing: strict: waiting for carA"
    assert reasons(d)["early"] == "not drawing: min offered"


def test_strict_idle_load_in_another_tier_is_not_held_by_that_tier():
    d = decide(
        site(distribution="strict"),
        one_phase("carA", phase="A", priority=1, max_a=32.0),
        one_phase(
            "carB", phase="B", priority=2, max_a=32.0, mode=Mode.SOLAR_PRIORITY, drawing=False
        ),
        grid_a=(14.0, 3.0, 8.0),
    )
    assert currents(d) == {"carA": 11.0, "carB": 6.0}
    assert reasons(d)["carB"] == "not drawing: min offered"


@pytest.mark.parametrize("strategy", ["optimized", "strict"])
def test_optimized_and_strict_pick_who_runs_then_less_urgent_minimums_come_first(strategy):
    # 20 A breaker, 2 A house: 18 A. Within the continuous mode the strategy runs c1 first to
    # its 16 A max, which leaves 2 A < c2's 6 A min: c2 does not run. Then the
    # solar_priority car's 6 A min comes before c1's extra: c1 gets 18 - 6 = 12 A.
    d = decide(
        site(main_breaker_a=20.0, distribution=strategy),
        evse("c1", priority=1),
        evse("c2", priority=2),
        evse("sp", mode=Mode.SOLAR_PRIORITY),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"c1": 12.0, "c2": 0.0, "sp": 6.0}
    assert reasons(d)["c1"] == "site phase A"
    expected_c2 = (
        "below min current (site phase A)" if strategy == "optimized" else "strict: waiting for c1"
    )
    assert reasons(d)["c2"] == expected_c2


def test_priority_gives_every_tier_its_minimum_before_any_extra():
    # Same site under priority: mins c1 6, c2 6, sp 6 = 18 A: nothing is left for extras.
    d = decide(
        site(main_breaker_a=20.0),
        evse("c1", priority=1),
        evse("c2", priority=2),
        evse("sp", mode=Mode.SOLAR_PRIORITY),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"c1": 6.0, "c2": 6.0, "sp": 6.0}


def test_optimized_starts_a_skipped_load_in_what_the_earlier_loads_did_not_keep():
    # 1-phase 10 A breaker, 2300 W export (10 A, all green): 20 A on the phase. One
    # solar_priority tier: sp1, then `held` (held at its min 6 A by a time rule), then sp2.
    # Optimized fills the tier in order: sp1 6 A + 4 A green extra = 10, held 6 -> 16, sp2's
    # 6 A does not fit in the 4 A left, so it is skipped. The held min is served before
    # sp1's extra, which is then gone (green 10 A - 6 - 6 < 0): sp1 6 + held 6 = 12 A, and
    # sp2's min fits in the 8 A left: 6 / 6 / 6, on 18 A of the 20.
    d = decide(
        site(phases=1, main_breaker_a=10.0, distribution="optimized"),
        one_phase("sp1", mode=Mode.SOLAR_PRIORITY, priority=1),
        one_phase("held", mode=Mode.SOLAR_PRIORITY, priority=2, max_a=6.0, held=True),
        one_phase("sp2", mode=Mode.SOLAR_PRIORITY, priority=3),
        grid_a=(-10.0,),
    )
    assert currents(d) == {"sp1": 6.0, "held": 6.0, "sp2": 6.0}


def test_optimized_a_late_started_held_min_comes_before_a_green_extra():
    # 3-phase 10 A breaker, net metering, 11 A exported on B (2530 W green). The continuous
    # car on A (min 0) takes 10 A (2300 W), leaving 230 W (1 A) of green. Optimized fills the
    # solar_priority tier in order: sp on B (min 0) up to 11 A while the car is at its min 0,
    # so the held 10.04 A plug on B does not fit (21 A of room) and is skipped; sp is then
    # released to its green 1 A and the plug starts at the end. The held plug's min comes
    # before sp's extra: the 1 A is no longer green and sp must drop to 0.
    d = decide(
        site(phases=3, main_breaker_a=10.0, distribution="optimized"),
        one_phase("car", "A", max_a=10.0, min_a=0.0),
        one_phase("sp", "B", mode=Mode.SOLAR_PRIORITY, priority=1, min_a=0.0),
        plug("held", 2310.0, phase="B", mode=Mode.SOLAR_PRIORITY, priority=2, held=True),
        grid_a=(0.0, -11.0, 0.0),
    )
    assert currents(d) == {"car": 10.0, "sp": 0.0, "held": 10.043478}
