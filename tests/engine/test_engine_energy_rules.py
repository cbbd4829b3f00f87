"""DESIGN.md "Where the energy may come from": its worked examples and the rules behind them.

Every number is worked by hand in the comment above it. 230 V: one line-amp is 230 W, a
3-phase amp 690 W, a 2-phase amp 460 W.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.model import SITE_NODE, BatteryLevels, Circuit, Metering, Mode

from .builders import battery, currents, decide, evse, one_phase, plug, reasons, site

# -- the worked examples -----------------------------------------------------------------------


def test_example_solar_priority_below_min_soc_still_gets_its_min():
    # Surplus 3450 - 3 x 230 = 2760 W; SoC 15 % < min 20: the battery is owed its charge
    # (up to 4140 W), so nothing is green. solar_priority keeps its min anyway: 8 A.
    s = site(battery=battery(max_charge_w=4140.0))
    d = decide(
        s,
        evse("car", mode=Mode.SOLAR_PRIORITY, min_a=8.0),
        house_a=(1.0, 1.0, 1.0),
        solar_w=3450.0,
        battery_soc_pct=15.0,
    )
    assert currents(d) == {"car": 8.0}
    assert d.surplus_w == pytest.approx(2760.0)
    assert d.green_w == 0.0


def test_example_solar_priority_above_target_adds_the_battery_never_grid():
    # 1-phase: solar 2300 W = 10 A, battery 4600 W = 20 A, house 3 A: 10 + 20 - 3 = 27 A.
    s = site(phases=1, main_breaker_a=40.0, battery=battery(max_discharge_w=4600.0))
    d = decide(
        s,
        one_phase("car", mode=Mode.SOLAR_PRIORITY, max_a=32.0),
        house_a=(3.0,),
        solar_w=2300.0,
        battery_soc_pct=90.0,
    )
    assert currents(d) == {"car": 27.0}
    assert reasons(d) == {"car": "solar surplus and battery"}


def test_example_solar_only_at_16a_needs_the_battery():
    # 3-phase: solar 8050 W = 35 A, house 3 A, battery 4140 W = 18 A: 50 A over three
    # phases = 16.67 A >= 16: the car runs at 16.
    s = site(battery=battery(max_discharge_w=4140.0))
    car = evse("car", mode=Mode.SOLAR_ONLY, min_a=16.0, max_a=16.0)
    d = decide(s, car, house_a=(1.0, 1.0, 1.0), solar_w=8050.0, battery_soc_pct=85.0)
    assert currents(d) == {"car": 16.0}
    # Without the battery's potential: 32 A / 3 = 10.67 A < 16: off.
    s = site(battery=battery(max_discharge_w=0.0))
    d = decide(s, car, house_a=(1.0, 1.0, 1.0), solar_w=8050.0, battery_soc_pct=85.0)
    assert currents(d) == {"car": 0.0}


def test_example_excess_ignores_the_battery_between_target_and_full():
    # 11840 W export - 10000 W threshold = 1840 W = 8 A on one phase; the battery's 4600 W
    # never feeds an excess load below full SoC.
    s = site(excess_threshold_w=10000.0, battery=battery(max_discharge_w=4600.0))
    car = one_phase("car", mode=Mode.EXCESS)
    d = decide(s, car, house_a=(0.0, 0.0, 0.0), solar_w=11840.0, battery_soc_pct=97.0)
    assert currents(d) == {"car": 8.0}
    assert reasons(d) == {"car": "excess threshold"}
    # Coming down from full (98 %), 97 % is still full (hysteresis 3): like solar_only,
    # 11840 + 4600 W is far above 16 A.
    full = BatteryLevels(True, True, True)
    d = decide(
        s,
        car,
        house_a=(0.0, 0.0, 0.0),
        solar_w=11840.0,
        battery_soc_pct=97.0,
        battery_levels=full,
    )
    assert currents(d) == {"car": 16.0}
    # 94.9 % < 98 - 3: no longer full, back to 8 A.
    d = decide(
        s,
        car,
        house_a=(0.0, 0.0, 0.0),
        solar_w=11840.0,
        battery_soc_pct=94.9,
        battery_levels=full,
    )
    assert currents(d) == {"car": 8.0}


def test_example_solar_only_below_target_the_battery_takes_it_all():
    # 4600 W - 3 x 230 W house = 3910 W surplus, all owed to a 4600 W battery at 75 %.
    s = site(phases=1, battery=battery(max_charge_w=4600.0))
    d = decide(
        s,
        one_phase("car", mode=Mode.SOLAR_ONLY),
        house_a=(3.0,),
        solar_w=4600.0,
        battery_soc_pct=75.0,
    )
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (solar surplus after battery charge)"}


# -- minimums first, over every tier ---------------------------------------------------------


def test_a_less_urgent_min_is_not_taken_by_a_more_urgent_extra():
    # 20 A breaker, 2 A house: 18 A. Mins first: continuous 6, solar_priority 6 (from the
    # grid: no sun); the remainder 6 goes to the continuous car: 12 / 6.
    d = decide(
        site(main_breaker_a=20.0),
        evse("cont", priority=5),
        evse("sp", mode=Mode.SOLAR_PRIORITY, priority=1),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"cont": 12.0, "sp": 6.0}


def test_green_minimums_come_before_green_extras():
    # 6900 W of export. Mins: solar_priority 6 A = 4140 W, solar_only 6 A on B = 1380 W;
    # 1380 W green left for the solar_priority extra = 2 A: 8 A. No grid import at all.
    d = decide(
        site(),
        evse("sp", mode=Mode.SOLAR_PRIORITY),
        one_phase("sun", phase="B", mode=Mode.SOLAR_ONLY),
        grid_a=(-10.0, -10.0, -10.0),
    )
    assert currents(d) == {"sp": 8.0, "sun": 6.0}
    assert d.import_w == pytest.approx(0.0)


def test_a_continuous_car_that_takes_the_sun_stops_the_solar_only_load_after_it():
    # Phase A breaker 16 A with 4 A of export on A, and 3000 W of sun over the site. Mins:
    # continuous 6 A on A, solar_only 6 A on A (1380 W of the 3000 W green). The continuous
    # extra takes phase A to 20 A (16 + 4): 14 A = 3220 W > 3000 W green, so the solar_only
    # load would run on grid power: it stops, and the continuous car takes the phase A room
    # it gave back, up to its 16 A max.
    d = decide(
        site(main_breaker_a=16.0),
        one_phase("cont", phase="A"),
        one_phase("sun", phase="A", mode=Mode.SOLAR_ONLY),
        grid_a=(-4.0, -4.0, -5.043478),
    )
    assert d.surplus_w == pytest.approx(3000.0, abs=0.01)
    assert currents(d) == {"cont": 16.0, "sun": 0.0}
    assert reasons(d)["sun"] == "below min current (solar surplus)"


# -- excess runs at its min --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("export_w", "threshold_w", "expected_a"),
    [
        (2000.0, 1000.0, 6.0),  # 1000 W above the threshold = 4.3 A < min: min (1380 W <= 2000)
        (3760.0, 1000.0, 12.0),  # 2760 W above it = 12 A
        (1300.0, 1000.0, 0.0),  # above the threshold, but 1380 W at min would import 80 W
        (900.0, 1000.0, 0.0),  # below the threshold
        (1000.0, 1000.0, 0.0),  # exactly at it: nothing above
    ],
)
def test_excess_runs_at_min_once_export_exceeds_the_threshold(export_w, threshold_w, expected_a):
    s = site(phases=1, excess_threshold_w=threshold_w)
    d = decide(s, one_phase("car", mode=Mode.EXCESS), grid_a=(-export_w / 230.0,))
    assert currents(d) == {"car": expected_a}


def test_excess_plug_runs_when_export_above_threshold_covers_its_power():
    # 2500 W export, threshold 2000 W: 500 W above it; the 2000 W plug is covered by export.
    s = site(phases=1, excess_threshold_w=2000.0)
    d = decide(s, plug("boiler", 2000.0, mode=Mode.EXCESS), grid_a=(-2500.0 / 230.0,))
    assert currents(d) == {"boiler": pytest.approx(2000.0 / 230.0)}


# -- wiring real houses have -------------------------------------------------------------------


def test_two_phase_car_draws_on_l1_and_l2_only():
    # House 4 / 10 / 2 A: the car on A and B is held by B to 25 - 10 = 15 A; C is untouched.
    d = decide(site(), evse("car", phases=2, max_a=32.0), grid_a=(4.0, 10.0, 2.0))
    assert currents(d) == {"car": 15.0}
    assert reasons(d) == {"car": "site phase B"}
    assert d.loads["car"].phases_a == {"A": 15.0, "B": 15.0}
    assert d.loads["car"].power_w == pytest.approx(15.0 * 460.0)
    assert d.nodes[SITE_NODE].allocated_a == {"A": 15.0, "B": 15.0, "C": 0.0}


def test_two_phase_solar_only_car_uses_460_w_per_amp():
    # 6900 W of export / 460 W per amp = 15 A.
    d = decide(site(), evse("car", phases=2, mode=Mode.SOLAR_ONLY), grid_a=(-10.0, -10.0, -10.0))
    assert currents(d) == {"car": 15.0}


def test_three_phase_charger_on_a_one_phase_supply_counts_three_times_on_a():
    # 40 A breaker, 4 A house: 36 A on A for three lines = 12 A each; 12 x 690 W.
    s = site(phases=1, main_breaker_a=40.0)
    d = decide(s, evse("car", phase_map=("A", "A", "A")), grid_a=(4.0,))
    assert currents(d) == {"car": 12.0}
    assert d.loads["car"].phases_a == {"A": 36.0}
    assert d.loads["car"].power_w == pytest.approx(12.0 * 690.0)
    assert d.nodes[SITE_NODE].used_a == {"A": pytest.approx(40.0)}


def test_repeated_phase_counts_twice_on_its_phase():
    # [A, A, B]: phase A carries two lines. House 5 A on A: (25 - 5) / 2 = 10 A.
    d = decide(site(), evse("car", phase_map=("A", "A", "B")), grid_a=(5.0, 0.0, 0.0))
    assert currents(d) == {"car": 10.0}
    assert d.loads["car"].phases_a == {"A": 20.0, "B": 10.0}


def test_repeated_phases_in_a_circuit():
    # A 20 A circuit with a [A, A, A] charger: 20 / 3 = 6.67 -> 6.6 A.
    d = decide(
        site(phases=1, main_breaker_a=63.0),
        evse("car", phase_map=("A", "A", "A"), circuit="garage"),
        circuits=(Circuit("garage", limit_a=20.0),),
    )
    assert currents(d) == {"car": 6.6}
    assert reasons(d) == {"car": "circuit garage phase A"}


# -- metering ----------------------------------------------------------------------------------


def test_net_metering_lets_a_one_phase_load_use_export_of_every_phase():
    # 6900 W of sun, 2300 W per phase; house 3 A on A. Net: 6900 - 690 = 6210 W = 27 A.
    d = decide(
        site(),
        one_phase("car", mode=Mode.SOLAR_ONLY, max_a=32.0),
        house_a=(3.0, 0.0, 0.0),
        solar_w=6900.0,
    )
    assert currents(d) == {"car": 27.0}


def test_per_phase_metering_limits_green_power_to_the_load_phase():
    # Per phase: 2300 W on A - 690 W house = 1610 W = 7 A.
    s = site(metering=Metering.PER_PHASE)
    car = one_phase("car", mode=Mode.SOLAR_ONLY, max_a=32.0)
    d = decide(s, car, house_a=(3.0, 0.0, 0.0), solar_w=6900.0)
    assert currents(d) == {"car": 7.0}
    assert reasons(d) == {"car": "solar surplus phase A"}
    # With a battery above target that may give 1380 W, 460 W more per phase: 2070 W = 9 A.
    s = site(metering=Metering.PER_PHASE, battery=battery(max_discharge_w=1380.0))
    d = decide(s, car, house_a=(3.0, 0.0, 0.0), solar_w=6900.0, battery_soc_pct=90.0)
    assert currents(d) == {"car": 9.0}


def test_per_phase_metering_does_not_limit_continuous_loads():
    s = site(metering=Metering.PER_PHASE)
    d = decide(s, one_phase("car"), house_a=(3.0, 0.0, 0.0), solar_w=6900.0)
    assert currents(d) == {"car": 16.0}


# -- hysteresis on the min threshold -----------------------------------------------------------


def test_battery_discharge_for_no_grid_loads_keeps_min_soc_hysteresis():
    # No grid allowed, house imports 2 A on a 1-phase site = 460 W; the battery may give
    # 4140 W while SoC counts as at or above min: 3680 W = 16 A.
    s = site(phases=1, allow_grid_charging=False, battery=battery())
    car = one_phase("car")
    above_min = BatteryLevels(True, False, False)
    d = decide(s, car, grid_a=(2.0,), battery_soc_pct=18.0, battery_levels=above_min)
    assert currents(d) == {"car": 16.0}
    # 16.9 % < 20 - 3: no discharge, nothing to run on.
    d = decide(s, car, grid_a=(2.0,), battery_soc_pct=16.9, battery_levels=above_min)
    assert currents(d) == {"car": 0.0}
    # From below, 18 % has not reached min yet.
    d = decide(s, car, grid_a=(2.0,), battery_soc_pct=18.0)
    assert currents(d) == {"car": 0.0}


# -- a load held at its min by a time rule keeps its rank ---------------------------------------


def test_a_held_excess_plug_does_not_stop_the_solar_only_car_before_it():
    # Export 6.7 A per phase = 4623 W green. The solar_only car's min 6 A = 4140 W fits.
    # The boiler (excess, 2000 W on B) is held at its min by its stop delay: its min comes
    # after the car's, from any source (483 W green + 1517 W grid). The car keeps 6 A; its
    # extra would come after the boiler's min, and no green is left for it.
    d = decide(
        site(),
        evse("car", mode=Mode.SOLAR_ONLY, priority=1),
        plug("boiler", 2000.0, phase="B", mode=Mode.EXCESS, priority=2, held=True),
        grid_a=(-6.7, -6.7, -6.7),
    )
    assert currents(d) == {"car": 6.0, "boiler": pytest.approx(2000.0 / 230.0)}


def test_a_held_load_does_not_take_the_min_of_a_more_urgent_load():
    # 1-phase 16 A breaker, 2 A house: 14 A, no sun. Rank: continuous, solar_priority, then
    # the held solar_only car. Mins: 6 + 6 = 12 A; the held car's 6 A does not fit in the
    # 2 A left, so it gets 0; the 2 A go to the continuous car's extra: 8 / 6 / 0.
    one = site(phases=1, main_breaker_a=16.0)
    d = decide(
        one,
        one_phase("cont", mode=Mode.CONTINUOUS, priority=5),
        one_phase("sp", mode=Mode.SOLAR_PRIORITY, priority=5),
        one_phase("held", mode=Mode.SOLAR_ONLY, priority=1, max_a=6.0, held=True),
        grid_a=(2.0,),
    )
    assert currents(d) == {"cont": 8.0, "sp": 6.0, "held": 0.0}


def test_a_held_load_takes_its_min_from_the_grid_but_nothing_more():
    # No sun, 3-phase 25 A, house 2 A: a held solar_only car gets its min 6 A from the grid
    # and, held at max = min, never more.
    d = decide(
        site(),
        evse("car", mode=Mode.SOLAR_ONLY, max_a=6.0, held=True),
        grid_a=(2.0, 2.0, 2.0),
    )
    assert currents(d) == {"car": 6.0}
