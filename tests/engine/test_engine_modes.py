"""Mode rules, battery zones, the solar pool, excess threshold, no-grid budget and inverter limits.

Numbers: 230 V, so a 3-phase amp is 690 W and a 1-phase amp 230 W. A background of -10 A on
every phase is 6900 W of export.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.model import InverterLimits, Mode

from .builders import battery, currents, decide, evse, one_phase, plug, reasons, site

EXPORT_10A = (-10.0, -10.0, -10.0)


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


def test_solar_priority_battery_below_min_gets_nothing():
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=EXPORT_10A, battery_soc_pct=10)
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "battery below min"}


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


def test_solar_priority_battery_above_target_behaves_like_continuous():
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_PRIORITY), grid_a=(1.0, 1.0, 1.0), battery_soc_pct=85)
    assert currents(d) == {"car": 16.0}
    assert reasons(d) == {"car": "max current"}


def test_solar_only_without_battery_5a_surplus_is_below_min():
    d = decide(site(), evse("car", mode=Mode.SOLAR_ONLY), grid_a=(-5.0, -5.0, -5.0))
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (solar surplus)"}


def test_solar_only_without_battery_takes_surplus_10a():
    d = decide(site(), evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "solar surplus"}


def test_solar_only_battery_below_target_gets_nothing():
    s = site(battery=battery())
    d = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "battery below target"}


def test_solar_only_battery_above_target_takes_what_would_charge_the_battery():
    # 6900 W export + 2000 W going into the battery = 8900 W = 12.89 A -> floored 12.8.
    s = site(battery=battery())
    d = decide(
        s,
        evse("car", mode=Mode.SOLAR_ONLY),
        grid_a=EXPORT_10A,
        battery_soc_pct=85,
        battery_power_w=2000.0,
    )
    assert currents(d) == {"car": 12.8}
    assert d.surplus_w == pytest.approx(8900.0)


def test_excess_threshold_1000w_no_battery():
    # (6900 - 1000) / 690 = 8.55 -> 8.5, bound by the threshold.
    s = site(excess_threshold_w=1000.0)
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 8.5}
    assert reasons(d) == {"car": "excess threshold"}


def test_excess_threshold_raised_by_battery_charge_below_target():
    # pool 6900 - 2070 owed to the battery = 4830; minus 1000 = 3830 W = 5.55 A < 6 -> 0.
    s = site(excess_threshold_w=1000.0, battery=battery())
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=50)
    assert currents(d) == {"car": 0.0}
    assert reasons(d) == {"car": "below min current (excess threshold)"}


def test_excess_between_target_and_full_keeps_threshold():
    s = site(excess_threshold_w=1000.0, battery=battery())
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=90)
    assert currents(d) == {"car": 8.5}


def test_excess_at_full_soc_behaves_like_solar_only():
    s = site(excess_threshold_w=1000.0, battery=battery())
    d = decide(s, evse("car", mode=Mode.EXCESS), grid_a=EXPORT_10A, battery_soc_pct=99)
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "solar surplus"}


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


def test_symmetric_inverter_gives_one_phase_load_a_third_of_the_pool():
    # pool 6900 W, a symmetric inverter puts 2300 W on phase A = 10 A.
    s = site(inverter=InverterLimits(asymmetric=False))
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "inverter limit"}


def test_asymmetric_inverter_gives_one_phase_load_the_whole_pool():
    s = site(inverter=InverterLimits(asymmetric=True))
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 16.0}


def test_inverter_per_phase_cap_1840w_is_8a():
    s = site(inverter=InverterLimits(asymmetric=True, max_w_per_phase=1840.0))
    d = decide(s, one_phase("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A)
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


def test_tiers_continuous_before_solar_priority_whatever_the_priority():
    # 21 A left; the continuous car (priority 9) takes 16, solar_priority (priority 1) 5 < 6.
    d = decide(
        site(),
        evse("sp", mode=Mode.SOLAR_PRIORITY, priority=1),
        evse("cont", priority=9),
        grid_a=(4.0, 4.0, 4.0),
    )
    assert currents(d) == {"sp": 0.0, "cont": 16.0}


def test_excess_plug_only_runs_on_pool_left_after_solar_only_car():
    # pool 6900: the solar_only car takes 10 A = 6900 W; the 2000 W plug does not fit.
    d = decide(
        site(),
        evse("car", mode=Mode.SOLAR_ONLY),
        plug("boiler", 2000.0, mode=Mode.EXCESS, phase="B"),
        grid_a=EXPORT_10A,
    )
    assert currents(d) == {"car": 10.0, "boiler": 0.0}
    assert reasons(d)["boiler"] == "does not fit (solar surplus)"


def test_previous_levels_give_hysteresis_across_cycles():
    # Cycle 1 at 80 % reaches target: solar_only runs. Cycle 2 at 78 % keeps it (80 - 3 = 77);
    # cycle 3 at 76.9 % drops below target: "battery below target".
    s = site(battery=battery())
    first = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=80)
    assert currents(first) == {"car": 10.0}
    second = decide(
        s,
        evse("car", mode=Mode.SOLAR_ONLY),
        grid_a=EXPORT_10A,
        battery_soc_pct=78,
        battery_levels=first.battery_levels,
    )
    assert currents(second) == {"car": 10.0}
    third = decide(
        s,
        evse("car", mode=Mode.SOLAR_ONLY),
        grid_a=EXPORT_10A,
        battery_soc_pct=76.9,
        battery_levels=second.battery_levels,
    )
    assert reasons(third) == {"car": "battery below target"}
    # Without the previous levels, 78 % is plainly below target.
    fresh = decide(s, evse("car", mode=Mode.SOLAR_ONLY), grid_a=EXPORT_10A, battery_soc_pct=78)
    assert currents(fresh) == {"car": 0.0}


def test_string_modes_and_strategy_are_accepted():
    d = decide(site(distribution="optimized"), evse("car", mode="solar_only"), grid_a=EXPORT_10A)
    assert currents(d) == {"car": 10.0}
