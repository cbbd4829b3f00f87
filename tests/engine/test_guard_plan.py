"""The measured-overload guard's pure parts: episodes over time and the cut plan."""

from __future__ import annotations

from load_juggler.engine.control_types import Overload
from load_juggler.engine.guard import GuardLoad, OverloadWatch, plan_cuts


def _load(load_id: str, priority: int, in_force_a: float, **kwargs: object) -> GuardLoad:
    values: dict[str, object] = {
        "id": load_id,
        "service_key": (0, 0, priority, load_id),
        "nodes": frozenset({"site"}),
        "site_phases": ("A",),
        "in_force_a": in_force_a,
        "target_a": in_force_a,
        "min_a": 6.0,
        "plug": False,
        "drawing": True,
    }
    values.update(kwargs)
    return GuardLoad(**values)  # type: ignore[arg-type]


def test_the_docstring_example_cuts_the_priority_2_car_to_its_min() -> None:
    overload = Overload("site", "A", 35.0, 25.0, 5.0)
    cuts = plan_cuts([overload], [_load("car1", 1, 15.0), _load("car2", 2, 16.0)])
    assert cuts == {"car2": (6.0, "measured overload site phase A: 35.0/25.0 A")}


def test_a_cut_already_decided_this_cycle_counts_toward_the_excess() -> None:
    overload = Overload("site", "A", 30.0, 25.0, 5.0)
    loads = [_load("car1", 1, 16.0, target_a=12.0), _load("car2", 2, 16.0)]
    # car1's normal cut to 12 A already gives 4 A: car2 gives the last 1 A.
    assert plan_cuts([overload], loads) == {
        "car2": (15.0, "measured overload site phase A: 30.0/25.0 A")
    }


def test_loads_off_the_overloaded_node_or_phase_are_untouched() -> None:
    overload = Overload("garage", "B", 30.0, 20.0, 5.0)
    loads = [
        _load("outside", 9, 16.0, site_phases=("B",)),
        _load("other_phase", 9, 16.0, nodes=frozenset({"site", "garage"})),
        _load("inside", 1, 16.0, nodes=frozenset({"site", "garage"}), site_phases=("B",)),
    ]
    assert set(plan_cuts([overload], loads)) == {"inside"}


def test_an_episode_starts_ends_and_survives_a_blind_meter_up_to_the_timeout() -> None:
    watch = OverloadWatch()
    limits = {("site", "A"): 25.0}
    now, began = watch.observe(0.0, limits, {("site", "A"): 27.0}, 60.0)
    assert began == now == [Overload("site", "A", 27.0, 25.0, 0.0)]
    assert watch.acting(now, None) == []
    now, began = watch.observe(5.0, limits, {("site", "A"): None}, 60.0)
    assert began == []
    assert now == [Overload("site", "A", 27.0, 25.0, 5.0)]
    assert watch.acting(now, None) == now
    now, _ = watch.observe(60.0, limits, {("site", "A"): None}, 60.0)
    assert now == []  # blind for 60 s since the last measurement: unknown
    now, began = watch.observe(65.0, limits, {("site", "A"): 26.0}, 60.0)
    assert began == now == [Overload("site", "A", 26.0, 25.0, 0.0)]
    assert watch.observe(70.0, limits, {("site", "A"): 25.0}, 60.0) == ([], [])


def test_a_load_with_every_line_on_one_phase_gives_three_times_its_cut() -> None:
    # A 3-phase charger on a 1-phase supply: 3 x 16 A on A. 10 A over: 16 - 10/3 = 12.67,
    # floored to 12.6 A, takes 3 x 3.4 = 10.2 A off A, so the priority-1 car keeps its 10 A.
    overload = Overload("site", "A", 60.0, 50.0, 5.0)
    loads = [
        _load("car1", 1, 10.0),
        _load("three_lines", 2, 16.0, site_phases=("A", "A", "A")),
    ]
    assert plan_cuts([overload], loads) == {
        "three_lines": (12.6, "measured overload site phase A: 60.0/50.0 A")
    }


def test_a_plug_is_switched_off_not_turned_down() -> None:
    overload = Overload("site", "A", 27.0, 25.0, 5.0)
    loads = [_load("car", 1, 16.0), _load("heater", 2, 10.0, plug=True, min_a=10.0)]
    assert plan_cuts([overload], loads) == {
        "heater": (0.0, "measured overload site phase A: 27.0/25.0 A")
    }


def test_an_overload_every_other_cycle_is_cut_when_it_comes_back() -> None:
    watch = OverloadWatch()
    limits = {("site", "A"): 32.0}
    now, _ = watch.observe(0.0, limits, {("site", "A"): 33.0}, 60.0)
    assert watch.acting(now, None) == []  # first sight: confirmed on the next cycle
    watch.observe(5.0, limits, {("site", "A"): 32.0}, 60.0)  # at the limit: episode ends
    now, began = watch.observe(10.0, limits, {("site", "A"): 33.0}, 60.0)
    assert began == now == [Overload("site", "A", 33.0, 32.0, 0.0)]
    assert watch.acting(now, None) == now  # back 5 s after it ended: cut at once
    assert watch.acting(now, 30.0) == now  # a grace does not let it recur either
    watch.observe(15.0, limits, {("site", "A"): 30.0}, 60.0)
    now, _ = watch.observe(80.0, limits, {("site", "A"): 33.0}, 60.0)
    assert watch.acting(now, None) == []  # 65 s later: a new overload, confirmed as usual
