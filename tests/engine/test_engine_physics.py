"""Phase mapping, nested circuits, feedback, house_a netting, import cap, plugs, idle loads."""

from __future__ import annotations

import pytest

from load_juggler.engine.allocate import allocate
from load_juggler.engine.model import SITE_NODE, Circuit, Mode, Snapshot
from load_juggler.engine.phases import (
    background_from_grid,
    background_from_house,
    solar_per_phase,
)

from .builders import currents, decide, evse, one_phase, plug, reasons, site


def test_one_phase_load_uses_only_its_mapped_site_phase():
    # Phase B carries 20 A of house: 5 A left there, but the load sits on C (25 A free).
    d = decide(site(), one_phase("car", phase="C"), grid_a=(0.0, 20.0, 0.0))
    assert currents(d) == {"car": 16.0}
    assert d.loads["car"].phases_a == {"C": 16.0}
    assert d.nodes[SITE_NODE].allocated_a == {"A": 0.0, "B": 0.0, "C": 16.0}


def test_one_phase_load_on_busy_phase_is_limited_by_that_phase():
    d = decide(site(), one_phase("car", phase="B"), grid_a=(0.0, 15.0, 0.0))
    assert currents(d) == {"car": 10.0}
    assert reasons(d) == {"car": "site phase B"}


def test_three_phase_load_limited_by_its_worst_phase():
    d = decide(site(), evse("car"), grid_a=(1.0, 12.0, 3.0))
    assert currents(d) == {"car": 13.0}
    assert reasons(d) == {"car": "site phase B"}
    assert d.loads["car"].phases_a == {"A": 13.0, "B": 13.0, "C": 13.0}


def test_two_one_phase_loads_on_different_phases_of_16a_circuit_each_get_16():
    garage = Circuit("garage", limit_a=16.0)
    d = decide(
        site(),
        one_phase("a", phase="A", circuit="garage"),
        one_phase("b", phase="B", circuit="garage"),
        circuits=(garage,),
    )
    assert currents(d) == {"a": 16.0, "b": 16.0}


def test_two_one_phase_loads_on_same_phase_of_16a_circuit_share_it():
    garage = Circuit("garage", limit_a=16.0)
    d = decide(
        site(),
        one_phase("a", phase="A", circuit="garage", priority=1),
        one_phase("b", phase="A", circuit="garage", priority=2),
        circuits=(garage,),
    )
    # mins 6 + 6, remainder 4 to a -> 10 / 6.
    assert currents(d) == {"a": 10.0, "b": 6.0}
    assert reasons(d)["a"] == "circuit garage phase A"


def test_phase_map_rotates_three_phase_load():
    d = decide(site(), evse("car", phase_map=("B", "C", "A"), max_a=10.0))
    assert d.loads["car"].phases_a == {"B": 10.0, "C": 10.0, "A": 10.0}


def test_nested_circuits_three_levels_and_capacity_flows_outside():
    # site 40 A > main 32 A > garage 20 A > bay 16 A / 7000 W.
    # e1 in bay: 7000 / 690 = 10.14 -> 10.1 (bay power); e2 in garage: 20 - 10.1 = 9.9;
    # e3 in main: 32 - 20 = 12; e4 at site: 40 - 32 = 8.
    circuits = (
        Circuit("bay", parent="garage", limit_a=16.0, max_power_w=7000.0),
        Circuit("garage", parent="main", limit_a=20.0),
        Circuit("main", limit_a=32.0),
    )
    d = decide(
        site(main_breaker_a=40.0),
        evse("e1", priority=1, circuit="bay", max_a=32.0),
        evse("e2", priority=2, circuit="garage"),
        evse("e3", priority=3, circuit="main"),
        evse("e4", priority=4),
        circuits=circuits,
    )
    c = currents(d)
    assert c["e1"] == pytest.approx(10.1)
    assert c["e2"] == pytest.approx(9.9)
    assert c["e3"] == pytest.approx(12.0)
    assert c["e4"] == pytest.approx(8.0)
    assert reasons(d) == {
        "e1": "circuit bay power",
        "e2": "circuit garage phase A",
        "e3": "circuit main phase A",
        "e4": "site phase A",
    }
    assert d.nodes["garage"].used_a["A"] == pytest.approx(20.0)
    assert d.nodes["main"].headroom_a["B"] == pytest.approx(0.0)
    assert d.nodes["bay"].power_w == pytest.approx(10.1 * 690)
    assert d.nodes["bay"].max_power_w == 7000.0


def test_full_circuit_leaves_site_capacity_to_a_load_outside():
    # garage 12 A holds two cars at 6 A each; the outside car gets the site's 25 - 12 = 13 A.
    d = decide(
        site(distribution="shared"),
        evse("g1", circuit="garage", priority=1),
        evse("g2", circuit="garage", priority=1),
        evse("out", priority=5),
        circuits=(Circuit("garage", limit_a=12.0),),
    )
    assert currents(d) == {"g1": 6.0, "g2": 6.0, "out": 13.0}


def test_circuit_without_limits_only_groups_loads():
    d = decide(site(), evse("car", circuit="shed"), circuits=(Circuit("shed"),))
    assert currents(d) == {"car": 16.0}
    assert d.nodes["shed"].headroom_a == {}
    assert d.nodes["shed"].allocated_a["C"] == 16.0


def test_feedback_removes_the_cars_own_draw():
    # Grid reads 20 A, 16 of it the car itself: background 4 A, the car keeps 16.
    car = evse("car", draw_a=(16.0, 16.0, 16.0))
    d = decide(site(), car, grid_a=(20.0, 20.0, 20.0))
    assert d.background_a == (4.0, 4.0, 4.0)
    assert currents(d) == {"car": 16.0}


def test_without_draw_the_same_grid_reading_throttles_the_car():
    d = decide(site(), evse("car"), grid_a=(20.0, 20.0, 20.0))
    assert currents(d) == {"car": 0.0}


def test_feedback_maps_load_phases_to_site_phases_and_ignores_missing_draw():
    car = one_phase("car", phase="C", draw_a=(10.0,))
    other = evse("other", draw_a=None)
    bg = background_from_grid((5.0, 6.0, 17.0), (car, other), site())
    assert bg == (5.0, 6.0, 7.0)


def test_solar_per_phase_splits_inverter_output_evenly():
    # 6900 W solar while the battery charges 2300 W: 4600 W / 690 = 6.67 A per phase.
    assert solar_per_phase(6900.0, 2300.0, site()) == pytest.approx((4600 / 690,) * 3)
    assert solar_per_phase(2300.0, 0.0, site(phases=1)) == pytest.approx((10.0,))


def test_house_a_is_netted_with_solar():
    # house 2 A, solar 6900 W = 10 A per phase -> background -8 A, surplus 5520 W = 8 A.
    assert background_from_house((2.0, 2.0, 2.0), 6900.0, 0.0, site()) == pytest.approx(
        (-8.0, -8.0, -8.0)
    )
    d = decide(site(), evse("car", mode=Mode.SOLAR_ONLY), house_a=(2.0, 2.0, 2.0), solar_w=6900.0)
    assert currents(d) == {"car": 8.0}
    assert d.surplus_w == pytest.approx(5520.0)


def test_house_a_with_battery_discharge_counts_as_supply():
    # battery discharging 1380 W adds 2 A per phase: background 4 - 2 = 2 A.
    d = decide(site(), evse("car"), house_a=(4.0, 4.0, 4.0), battery_power_w=-1380.0)
    assert d.background_a == pytest.approx((2.0, 2.0, 2.0))


def test_grid_reading_wins_over_house_a():
    d = decide(site(), evse("car"), grid_a=(1.0, 1.0, 1.0), house_a=(9.0, 9.0, 9.0))
    assert d.background_a == (1.0, 1.0, 1.0)


def test_no_reading_assumes_breaker_full():
    d = allocate(Snapshot(site=site(), loads=(evse("car"), evse("off", mode=Mode.OFF))))
    assert currents(d) == {"car": 0.0, "off": 0.0}
    assert reasons(d) == {"car": "no grid reading", "off": "mode off"}
    assert d.background_a == (25.0, 25.0, 25.0)


def test_nan_grid_reading_falls_back_to_house_a():
    d = decide(site(), evse("car"), grid_a=(1.0, float("nan"), 1.0), house_a=(3.0, 3.0, 3.0))
    assert d.background_a == (3.0, 3.0, 3.0)
    assert currents(d) == {"car": 16.0}


def test_import_cap_6900w_with_1380w_house_leaves_8a():
    d = decide(site(max_import_w=6900.0), evse("car"), grid_a=(2.0, 2.0, 2.0))
    assert currents(d) == {"car": 8.0}
    assert reasons(d) == {"car": "import cap"}
    assert d.import_w == pytest.approx(6900.0)
    assert d.nodes[SITE_NODE].power_w == pytest.approx(6900.0)


def test_import_cap_counts_export_as_room():
    # 6900 W exported plus a 6900 W cap: up to 13800 W of loads -> 16 A (max) easily.
    d = decide(site(max_import_w=6900.0), evse("car"), grid_a=(-10.0, -10.0, -10.0))
    assert currents(d) == {"car": 16.0}


def test_background_above_breaker_allocates_nothing_on_that_phase():
    d = decide(
        site(),
        one_phase("a", phase="A", min_a=0.0),
        one_phase("b", phase="B"),
        grid_a=(30.0, 0.0, 0.0),
    )
    assert currents(d) == {"a": 0.0, "b": 16.0}
    assert reasons(d)["a"] == "below min current (site phase A)"


def test_not_drawing_is_served_after_drawing_loads_and_offered_min():
    # car2 (priority 1) is idle: car1 takes its 16 first, 25 - 16 = 9 >= 6 -> car2 offered 6.
    d = decide(
        site(),
        evse("car1", priority=5),
        evse("car2", priority=1, drawing=False),
    )
    assert currents(d) == {"car1": 16.0, "car2": 6.0}
    assert reasons(d)["car2"] == "not drawing: min offered"
    assert d.nodes[SITE_NODE].allocated_a["A"] == 22.0


def test_not_drawing_gets_nothing_when_min_does_not_fit():
    d = decide(
        site(),
        evse("car1"),
        evse("car2", priority=1, drawing=False),
        grid_a=(4.0, 4.0, 4.0),
    )
    assert currents(d) == {"car1": 16.0, "car2": 0.0}
    assert reasons(d)["car2"] == "not drawing: below min current (site phase A)"


def test_not_drawing_continuous_comes_after_drawing_excess_plug():
    # The excess plug (10 A on A from a 6900 W pool) is served before the idle car is offered.
    d = decide(
        site(main_breaker_a=16.0),
        evse("idle", drawing=False),
        plug("boiler", 2300.0, mode=Mode.EXCESS),
        grid_a=(-10.0, -10.0, -10.0),
    )
    # phase A: -10 + 10 (plug) = 0 -> 16 A free; the idle car gets min 6.
    assert currents(d)["boiler"] == pytest.approx(10.0)
    assert currents(d)["idle"] == 6.0


def test_disconnected_gets_nothing_and_takes_nothing():
    d = decide(
        site(distribution="optimized"),
        evse("gone", priority=1, connected=False),
        evse("car", priority=2),
        grid_a=(4.0, 4.0, 4.0),
    )
    assert currents(d) == {"gone": 0.0, "car": 16.0}
    assert reasons(d)["gone"] == "not connected"


def test_plug_on_when_it_fits_exactly_its_current():
    # 2300 W on one phase = 10 A; phase A has 25 - 10 = 15 A free.
    d = decide(site(), plug("heater", 2300.0), grid_a=(10.0, 0.0, 0.0))
    a = d.loads["heater"]
    assert (a.on, a.current_a, a.power_w) == (True, pytest.approx(10.0), pytest.approx(2300.0))
    assert a.reason == "fits"


def test_plug_off_when_it_does_not_fit():
    # phase A has 25 - 20 = 5 A free < 10 A.
    d = decide(site(), plug("heater", 2300.0), grid_a=(20.0, 0.0, 0.0))
    a = d.loads["heater"]
    assert (a.on, a.current_a, a.power_w) == (False, 0.0, 0.0)
    assert a.reason == "does not fit (site phase A)"


def test_three_phase_plug_current_is_power_over_690():
    d = decide(site(), plug("sauna", 6900.0, phases=3))
    assert d.loads["sauna"].current_a == pytest.approx(10.0)
    assert d.loads["sauna"].phases_a == pytest.approx({"A": 10.0, "B": 10.0, "C": 10.0})


def test_one_phase_site():
    # 1-phase site, 32 A, 2 A house: a 1-phase car gets 16, background has one value.
    d = decide(site(phases=1, main_breaker_a=32.0), one_phase("car"), grid_a=(2.0,))
    assert currents(d) == {"car": 16.0}
    assert d.background_a == (2.0,)
    assert set(d.nodes[SITE_NODE].used_a) == {"A"}


def test_site_node_report_numbers():
    d = decide(site(), evse("car", max_a=10.0), grid_a=(4.0, 5.0, 6.0))
    node = d.nodes[SITE_NODE]
    assert node.used_a == {"A": 14.0, "B": 15.0, "C": 16.0}
    assert node.headroom_a == {"A": 11.0, "B": 10.0, "C": 9.0}
    assert node.allocated_a == {"A": 10.0, "B": 10.0, "C": 10.0}
    assert d.import_w == pytest.approx((15 + 30) * 230.0)


def test_allocation_is_deterministic_and_independent_of_input_order():
    loads = [evse(f"c{i}", priority=1 + i % 3) for i in range(6)]
    a = decide(site(distribution="shared"), *loads, grid_a=(1.0, 2.0, 3.0))
    b = decide(site(distribution="shared"), *reversed(loads), grid_a=(1.0, 2.0, 3.0))
    assert currents(a) == currents(b)
    assert reasons(a) == reasons(b)
