"""Mode rules, battery zones, the solar pool, excess threshold, no-grid budget and inverter limits.

Numbers: 230 V, so a 3-phase amp is 690 W and a 1-phase amp 230 W. A background of -10 A on
every phase is 6900 W of export.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.model import InverterLimits, Metering, Mode

from .builders import battery, currents, decide, evse, one_phase, plug, reasons, site

EXPORT_10A = (-10.0, -10.0, -10.0)
UNEVEN_EXPORT = (-16.0, -4.0, -10.0)


def test_continuous_25a_breaker_4a_house_priority_gives_15_and_6():
    # 25 A - 4 A house = 21 A. Priority: mins first (6 + 6 = 12), remainder 9 to car1 -> 15.
    d = decide(site(), evse("car1", priority=1), evse("car2", priority=2), grid_a=(4.0, 4.0, 4.0))
    assert currents(d) == {"car1": 15.0, "car2": 6.0}
    assert reasons(d) == {"car1": "site phase A", "car2": "site phase A"}


def test_continuous_optimized_car_gets_16_second_car_5_below_min_gets_0():
    # 25 A breaker, 4 A house -> 21 A left, car1 gets 16, car2 5 < 6 -> 0 (site phase A).
    d = decide(
        site(distribution="optimized"),
        evse("car1", priority=1),
        evse("car2", priority=2),
        grid_a=(4.0, 4.0, 4.0),
    )
    assert currents(d) == {"car1": 16.0, "car2": 0.0}
    assert reasons(d) == {"car1": "max current", "car2": "below min current (site phase A)"}
    assert d.loads["car2"].on is False


def test_mode_off_gets_nothing():
    d = decide(site(), evse("car", mode=Mode.OFF))
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "mode off"}


def test_solar_priority_without_battery_follows_surplus_6900w_is_10a():
    d = decide(site(), evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "solar surplus"}
    assert d.surplus_w == pytest.approx(6900.0)
    assert d.solar_pool_w == pytest.approx(6900.0)


def test_solar_priority_without_battery_keeps_min_when_surplus_is_2a():
    # 1380 W of export = 2 A on three phases, below min 6 -> min from the grid.
    d = decide(site(), evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=(-2.0, -2.0, -2.0))
    assert currents(d) == {"car": 6.0}
    assert reasons(d) == {"car": "solar surplus"}


def test_solar_priority_battery_below_min_keeps_min_and_takes_green_after_the_due():
    # SoC 10 < min 20: the min is still guaranteed. 6900 W surplus - 2070 W owed to the
    # battery = 4830 W = 7 A on three phases.
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=EXPORT_10A, battery_soc_pct=10)
    assert currents(d) == {"car": 7.0}
    assert reasons(d) == {"car": "solar surplus after battery charge"}


def test_solar_priority_battery_between_min_and_target_leaves_charge_share():
    # surplus 6900, battery owed 2070 (max charge) -> pool 4830 W = 7 A.
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 7.0}
    assert d.solar_pool_w == pytest.approx(4830.0)
    assert d.battery_levels is not None
    assert (d.battery_levels.above_min, d.battery_levels.above_target) == (True, False)


def test_solar_priority_battery_between_min_and_target_min_when_no_sun():
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=(1.0, 1.0, 1.0), battery_soc_pct=50)
    assert currents(d) == {"car": 6.0}


def test_solar_priority_above_target_takes_battery_potential_never_grid_above_min():
    # House imports 3 x 230 = 690 W; the battery may give 4140 W: 3450 W green = 5 A < min.
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=(1.0, 1.0, 1.0), battery_soc_pct=85)
    assert currents(d) == {"car": 6.0}
    # At night with a full battery of 9000 W: (9000 - 690) / 690 = 12.04 -> 12 A, not max.
    s = site(battery=battery(max_discharge_w=9000.0))
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=(1.0, 1.0, 1.0), battery_soc_pct=99)
    assert currents(d) == {"car": 12.0}
    assert reasons(d) == {"car": "solar surplus and battery"}


def test_solar_only_without_battery_5a_surplus_is_below_min():
    d = decide(site(), evse("car", mode=Mode.SOLAR_ONLY), grid_a=(-5.0, -5.0, -5.0))
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (solar surplus)"}


def test_solar_only_without_battery_takes_surplus_10a():
    d = decide(site(), evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "solar surplus"}


def test_solar_only_below_target_gets_the_surplus_left_after_the_battery_due():
    # 6900 W surplus, 2070 W owed to the battery: 4830 W = 7 A.
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 7.0}
    assert reasons(d) == {"car": "solar surplus after battery charge"}
    # A battery that takes 6000 W leaves 900 W = 1.3 A < min: nothing.
    s = site(battery=battery(max_charge_w=6000.0))
    d = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (solar surplus after battery charge)"}


def test_solar_only_battery_above_target_takes_what_would_charge_the_battery():
    # 6900 W export + 2000 W going into the battery = 8900 W = 12.89 A -> floored 12.8
    # (a battery that may not discharge adds nothing).
    s = site(battery=battery(max_discharge_w=0.0))
    d = decide(
        s,
        evse("car", mode=Mode.SOLAR_ONLY),
        grid_a=EXPORT_10A,
        battery_soc_pct=85,
        battery_power_w=2000.0,
    )
    assert currents(d) == {"car": 12.8}
    assert d.surplus_w == pytest.approx(8900.0)


def test_solar_only_above_target_adds_the_battery_discharge_potential():
    # 6900 W export + 690 W the battery may discharge = 7590 W = 11 A.
    s = site(battery=battery(max_discharge_w=690.0))
    d = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=85)
    assert currents(d) == {"car": 11.0}
    assert reasons(d) == {"car": "solar surplus and battery"}
    assert d.green_w == pytest.approx(7590.0)


def test_excess_threshold_1000w_no_battery():
    # (6900 - 1000) / 690 = 8.55 -> 8.5, bound by the threshold.
    s = site(excess_threshold_w=1000.0)
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 8.5}
    assert reasons(d) == {"car": "excess threshold"}


def test_excess_threshold_raised_by_battery_charge_below_target():
    # 6900 W - 2070 W owed - 1000 W threshold = 3830 W = 5.55 A: export is above the
    # threshold, by less than the 6 A min (4140 W, covered by the 4830 W pool): min.
    s = site(excess_threshold_w=1000.0, battery=battery())
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 6.0}
    assert reasons(d) == {"car": "excess threshold"}
    # A battery taking 6000 W: 900 W left, below the 1000 W threshold: nothing.
    s = site(excess_threshold_w=1000.0, battery=battery(max_charge_w=6000.0))
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (excess threshold)"}


def test_excess_between_target_and_full_keeps_threshold():
    s = site(excess_threshold_w=1000.0, battery=battery())
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=90)
    assert currents(d) == {"car": 8.5}


def test_excess_at_full_soc_behaves_like_solar_only():
    # No threshold any more, and the battery's 690 W count: 7590 W = 11 A.
    s = site(excess_threshold_w=1000.0, battery=battery(max_discharge_w=690.0))
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=99)
    assert currents(d) == {"car": 11.0}
    assert reasons(d) == {"car": "solar surplus and battery"}


def test_continuous_car_eats_the_sun_before_solar_only():
    # pool 6900 W; the continuous 10 A car uses all of it, nothing left for solar_only.
    d = decide(
        site(),
        evse("cont", max_a=10.0),
        one_phase("sun", mode=Mode.SOLAR_ONLY, phase="B"),
        grid_a=EXPORT_10A,
    )
    assert currents(d) == {"cont": 10.0, "sun": 0.0}
    assert reasons(d)["sun"] == "below min current (solar surplus)"


def test_solar_only_gets_what_continuous_leaves():
    # pool 10350 W; continuous takes 6900, 3450 W left = 15 A on one phase.
    d = decide(
        site(),
        evse("cont", max_a=10.0),
        one_phase("sun", mode=Mode.SOLAR_ONLY, phase="B"),
        grid_a=(-15.0, -15.0, -15.0),
    )
    assert currents(d) == {"cont": 10.0, "sun": 15.0}


def test_no_grid_import_allowed_without_battery_and_house_importing():
    s = site(allow_grid_charging=False)
    d = decide(s, evse("car"), grid_a=(2.0, 2.0, 2.0))
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (no grid import allowed)"}


def test_no_grid_import_allowed_battery_discharge_covers_1_phase_car():
    # surplus -1380 W, discharge 4140 W -> 2760 W = 12 A on one phase.
    s = site(allow_grid_charging=False, battery=battery())
    d = decide(s, one_phase("car"), grid_a=(2.0, 2.0, 2.0), battery_soc_pct=50)
    assert currents(d) == {"car": 12.0}
    assert reasons(d) == {"car": "no grid import allowed"}


def test_no_grid_import_allowed_battery_below_min_gives_nothing():
    s = site(allow_grid_charging=False, battery=battery())
    d = decide(s, one_phase("car"), grid_a=(2.0, 2.0, 2.0), battery_soc_pct=10)
    assert currents(d) == {"car": 0.0}


def test_symmetric_inverter_gives_one_phase_load_a_third_of_the_pool_per_phase_metered():
    # Export 16 / 4 / 10 A: pool 30 A x 230 V = 6900 W. A symmetric inverter gives phase A a
    # third, 2300 W = 10 A, although A exports 16 A today; per-phase settlement bills what
    # phase A imports.
    s = site(metering=Metering.PER_PHASE, inverter=InverterLimits(asymmetric=False))
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=UNEVEN_EXPORT)
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "inverter limit"}


def test_symmetric_inverter_does_not_limit_a_one_phase_load_under_net_metering():
    # Net metering sums the phases: phase A importing while B and C export costs nothing, so
    # the whole 6900 W pool is green for the 1-phase car: 30 A, capped at its 16 A max.
    s = site(
        metering=Metering.NET, inverter=InverterLimits(asymmetric=False, max_w_per_phase=1840.0)
    )
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 16.0}
    assert reasons(d) == {"car": "max current"}


def test_asymmetric_inverter_gives_one_phase_load_its_phase_export():
    # Same export: phase A exports 16 A, all of it green for a car on A: 16 A (its max).
    s = site(metering=Metering.PER_PHASE, inverter=InverterLimits(asymmetric=True))
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=UNEVEN_EXPORT)
    assert currents(d) == {"car": 16.0}


def test_inverter_per_phase_cap_1840w_is_8a():
    s = site(
        metering=Metering.PER_PHASE,
        inverter=InverterLimits(asymmetric=True, max_w_per_phase=1840.0),
    )
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=UNEVEN_EXPORT)
    assert currents(d) == {"car": 8.0}
    assert reasons(d) == {"car": "inverter limit"}


def test_inverter_max_w_caps_battery_discharge():
    # inverter 5000 W with 3000 W of solar leaves 2000 W for the battery: 8.69 A -> 8.6.
    s = site(allow_grid_charging=False, battery=battery(), inverter=InverterLimits(max_w=5000.0))
    d = decide(s, one_phase("car"), grid_a=(0.0, 0.0, 0.0), solar_w=3000.0, battery_soc_pct=50)
    assert currents(d) == {"car": 8.6}
    assert reasons(d) == {"car": "no grid import allowed"}


def test_inverter_limit_does_not_touch_continuous_loads():
    s = site(inverter=InverterLimits(asymmetric=False))
    d = decide(s, one_phase("car"), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 16.0}


def test_minimums_of_every_tier_before_the_continuous_extra():
    # 21 A left: mins first in rank order (continuous 6, solar_priority 6), then the
    # continuous car takes the remainder 9 -> 15; no sun, so solar_priority stays at min.
    d = decide(
        site(),
        evse("sp", mode=Mode.SOLAR_PRIORITY, priority=1),
        evse("cont", priority=9),
        grid_a=(4.0, 4.0, 4.0),
    )
    assert currents(d) == {"sp": 6.0, "cont": 15.0}


def test_excess_plug_min_comes_before_the_solar_only_extra():
    # pool 6900: the solar_only car's min takes 4140 W, the 2000 W plug fits in the 2760 W
    # left; the car's extra gets the last 760 W = 1.1 A -> 7.1.
    d = decide(
        site(),
        evse("car", mode=Mode.SOLAR_ONLY),
        plug("boiler", 2000.0, mode=Mode.EXCESS, phase="B"),
        grid_a=EXPORT_10A,
    )
    assert currents(d) == {"car": 7.1, "boiler": pytest.approx(2000.0 / 230.0)}
    assert reasons(d)["car"] == "solar surplus"


def test_previous_levels_give_hysteresis_across_cycles():
    # Cycle 1 at 80 % reaches target: 6900 W + 4140 W of battery = 16 A (max). Cycle 2 at
    # 78 % keeps it (80 - 3 = 77); cycle 3 at 76.9 % drops below target: the battery is owed
    # 2070 W and adds nothing, 4830 W = 7 A.
    s = site(battery=battery())
    first = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=80)
    assert currents(first) == {"car": 16.0}
    second = decide(
        s,
        evse("car", mode=Mode.SOLAR_ONLY),
        grid_a=EXPORT_10A,
        battery_soc_pct=78,
        battery_levels=first.battery_levels,
    )
    assert currents(second) == {"car": 16.0}
    third = decide(
        s,
        evse("car", mode=Mode.SOLAR_ONLY),
        grid_a=EXPORT_10A,
        battery_soc_pct=76.9,
        battery_levels=second.battery_levels,
    )
    assert currents(third) == {"car": 7.0}
    assert reasons(third) == {"car": "solar surplus after battery charge"}
    # Without the previous levels, 78 % is plainly below target.
    fresh = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=78)
    assert currents(fresh) == {"car": 7.0}


def test_string_modes_and_strategy_are_accepted():
    d = decide(site(distribution="optimized"), evse("car", mode="solar_only"), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 10.0}
