"""The measured-overload guard in the controller.

A scripted engine keeps offering each car its full current whatever the grid says, so only
the guard can cut: the numbers below are the guard's alone.
"""

from __future__ import annotations

from load_juggler.engine.control_types import (
    ControlSettings,
    LoadReading,
    LoadState,
    Overload,
    Readings,
    SiteConfig,
    SiteStatus,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Circuit, Load, LoadKind, Mode, Site

from .scripted import ScriptedEngine, car

NO_TIMERS = ControlSettings(start_delay_s=0.0, ramp_up_a_per_s=100.0)


def _make(
    *loads: Load,
    settings: ControlSettings = NO_TIMERS,
    circuits: tuple[Circuit, ...] = (),
) -> Controller:
    plant = SiteConfig(
        site=Site(main_breaker_a=25.0), circuits=circuits, loads=loads, settings=settings
    )
    return Controller(plant, allocate_fn=ScriptedEngine())


def _read(grid_a: tuple[float, ...], **extra: object) -> Readings:
    loads = {name: LoadReading() for name in ("p1", "p2", "p3", "solar")}
    return Readings(grid_a=grid_a, solar_w=0.0, loads=loads, **extra)  # type: ignore[arg-type]


def _cars() -> tuple[Load, ...]:
    return (
        car("p1", mode=Mode.CONTINUOUS, priority=1),
        car("p2", mode=Mode.CONTINUOUS, priority=2),
    )


def _running(controller: Controller) -> None:
    """Both cars at 16 A, grid fine."""
    for t in (0.0, 5.0):
        result = controller.step(t, _read((20.0, 20.0, 20.0)))
    assert [result.commands[c].current_a for c in ("p1", "p2")] == [16.0, 16.0]


def test_the_guard_waits_one_cycle_then_cuts_the_last_served_load_by_the_excess() -> None:
    controller = _make(*_cars())
    _running(controller)
    first = controller.step(10.0, _read((30.0, 20.0, 20.0)))
    assert first.status is SiteStatus.OVERLOAD
    assert first.overloads == (Overload("site", "A", 30.0, 25.0, 0.0),)
    assert first.warnings == ("measured overload: site phase A carries 30.0 A, limit 25.0 A",)
    assert first.commands["p2"].current_a == 16.0  # one cycle of grace
    second = controller.step(15.0, _read((30.0, 20.0, 20.0)))
    assert second.overloads == (Overload("site", "A", 30.0, 25.0, 5.0),)
    assert second.warnings == ()
    p2 = second.commands["p2"]
    # 5 A excess off priority 2 first: 16 - 5 = 11 A, written.
    assert (p2.current_a, p2.write) == (11.0, True)
    assert p2.reason == "measured overload site phase A: 30.0/25.0 A"
    assert second.commands["p1"].current_a == 16.0
    third = controller.step(20.0, _read((25.0, 20.0, 20.0)))
    assert third.status is SiteStatus.OK
    assert third.overloads == ()


def test_a_load_that_cannot_stay_above_min_goes_to_0_and_the_next_one_gives_the_rest() -> None:
    controller = _make(*_cars())
    _running(controller)
    controller.step(10.0, _read((50.0, 20.0, 20.0)))
    result = controller.step(15.0, _read((50.0, 20.0, 20.0)))
    # 25 A excess: p2 16 - 25 < 6 -> 0 (16 A given), p1 gives the other 9: 16 - 9 = 7 A.
    assert (result.commands["p2"].current_a, result.commands["p2"].on) == (0.0, False)
    assert result.commands["p2"].state is LoadState.PAUSED
    assert result.commands["p1"].current_a == 7.0


def test_mode_urgency_comes_before_priority_and_a_load_at_0_gives_nothing() -> None:
    loads = (
        car("a_cont", mode=Mode.CONTINUOUS, priority=9),
        car("b_prio", mode=Mode.SOLAR_PRIORITY, priority=1),
        car("c_off", mode=Mode.OFF, priority=1),
    )
    controller = Controller(
        SiteConfig(site=Site(main_breaker_a=40.0), circuits=(), loads=loads, settings=NO_TIMERS),
        allocate_fn=ScriptedEngine(offer_a={"b_prio": 10.0}),
    )
    names = {ld.id: LoadReading() for ld in loads}
    for t in (0.0, 5.0):
        controller.step(t, Readings(grid_a=(30.0,) * 3, loads=names))
    controller.step(10.0, Readings(grid_a=(47.0,) * 3, loads=names))
    result = controller.step(15.0, Readings(grid_a=(47.0,) * 3, loads=names))
    # 7 A excess on every phase: c_off is at 0 (nothing to give), b_prio (solar_priority,
    # served after continuous) 10 -> 0 since 3 A < min, a_cont is never reached.
    assert result.commands["c_off"].current_a == 0.0
    assert result.commands["b_prio"].on is False
    assert result.commands["a_cont"].current_a == 16.0


def test_timers_yield_to_the_guard_and_the_cut_load_is_held_for_60_s() -> None:
    settings = ControlSettings(
        start_delay_s=0.0, ramp_up_a_per_s=100.0, min_on_s=300.0, min_off_s=0.0
    )
    controller = _make(*_cars(), settings=settings)
    _running(controller)
    controller.step(10.0, _read((50.0, 20.0, 20.0)))
    cut = controller.step(15.0, _read((50.0, 20.0, 20.0)))
    # p2 started 15 s ago (min on 300 s) and is cut to 0 anyway.
    assert (cut.commands["p2"].on, cut.commands["p2"].write) == (False, True)
    assert cut.commands["p1"].current_a == 7.0
    held = controller.step(20.0, _read((21.0, 20.0, 20.0)))
    assert held.commands["p1"].current_a == 7.0
    assert held.commands["p1"].reason == "held after a measured overload (55 s left)"
    # With no min off time p2 would start again at once; the guard's cut holds it at 0.
    assert held.commands["p2"].on is False
    assert held.commands["p2"].state is LoadState.PAUSED
    assert controller.step(70.0, _read((21.0, 20.0, 20.0))).commands["p1"].current_a == 7.0
    assert controller.step(75.0, _read((21.0, 20.0, 20.0))).commands["p1"].current_a == 16.0


def test_a_grace_lets_a_short_overload_pass() -> None:
    settings = ControlSettings(start_delay_s=0.0, ramp_up_a_per_s=100.0, overload_grace_s=10.0)
    controller = _make(*_cars(), settings=settings)
    _running(controller)
    for t in (10.0, 15.0):
        result = controller.step(t, _read((30.0, 20.0, 20.0)))
        assert result.status is SiteStatus.OVERLOAD
        assert result.commands["p2"].current_a == 16.0
    result = controller.step(20.0, _read((30.0, 20.0, 20.0)))  # 10 s over
    assert result.commands["p2"].current_a == 11.0


def test_a_blind_meter_during_an_overload_does_not_end_it() -> None:
    controller = _make(*_cars())
    _running(controller)
    controller.step(10.0, _read((30.0, 20.0, 20.0)))
    result = controller.step(15.0, _read((float("nan"), 20.0, 20.0)))
    assert result.overloads == (Overload("site", "A", 30.0, 25.0, 5.0),)
    assert result.status is SiteStatus.OVERLOAD
    assert result.commands["p2"].current_a == 11.0


def test_a_metered_circuit_overload_cuts_only_its_members() -> None:
    loads = (
        car("p1", mode=Mode.CONTINUOUS, priority=1, circuit="garage"),
        car("p2", mode=Mode.CONTINUOUS, priority=2),
    )
    garage = Circuit(id="garage", limit_a=20.0)
    controller = _make(*loads, circuits=(garage,))
    for t in (0.0, 5.0):
        controller.step(t, _read((20.0,) * 3, circuit_a={"garage": (16.0, 16.0, 16.0)}))
    over = {"garage": (23.0, 16.0, 16.0)}
    first = controller.step(10.0, _read((20.0,) * 3, circuit_a=over))
    assert first.overloads == (Overload("garage", "A", 23.0, 20.0, 0.0),)
    assert first.warnings == (
        "measured overload: circuit 'garage' phase A carries 23.0 A, limit 20.0 A",
    )
    second = controller.step(15.0, _read((20.0,) * 3, circuit_a=over))
    # p2 is lower priority but not behind the garage breaker: p1 gives the 3 A.
    assert second.commands["p1"].current_a == 13.0
    assert second.commands["p2"].current_a == 16.0


def test_a_plug_is_switched_off_whole() -> None:
    heater = Load(
        id="p3",
        kind=LoadKind.PLUG,
        mode=Mode.CONTINUOUS,
        priority=9,
        phases=1,
        phase_map=("A",),
        power_w=2300.0,
        min_a=10.0,
        max_a=10.0,
    )
    controller = _make(car("p1", mode=Mode.CONTINUOUS, priority=1), heater)
    for t in (0.0, 5.0):
        controller.step(t, _read((20.0,) * 3))
    controller.step(10.0, _read((26.0, 20.0, 20.0)))
    result = controller.step(15.0, _read((26.0, 20.0, 20.0)))
    assert result.commands["p3"].on is False  # 1 A excess, the plug gives all 10
    assert result.commands["p1"].current_a == 16.0


def test_status_is_overload_even_when_the_grid_is_stale() -> None:
    loads = (car("p1", mode=Mode.CONTINUOUS, circuit="garage"),)
    controller = _make(*loads, circuits=(Circuit(id="garage", limit_a=20.0),))
    controller.step(0.0, _read((20.0,) * 3, circuit_a={"garage": (10.0,) * 3}))
    result = controller.step(60.0, _read(None, circuit_a={"garage": (22.0,) * 3}))  # type: ignore[arg-type]
    assert result.status is SiteStatus.OVERLOAD
    assert result.commands["p1"].state is LoadState.STALE_FALLBACK


def test_a_cut_counts_for_no_more_than_the_load_was_drawing() -> None:
    controller = _make(*_cars())

    def loads(p2_a: float) -> dict[str, LoadReading]:
        return {"p1": LoadReading(), "p2": LoadReading(draw_a=(p2_a, p2_a, p2_a))}

    controller.step(0.0, Readings(grid_a=(20.0, 20.0, 20.0), loads=loads(0.0)))
    controller.step(5.0, Readings(grid_a=(20.0, 20.0, 20.0), loads=loads(6.0)))
    controller.step(10.0, Readings(grid_a=(30.0, 20.0, 20.0), loads=loads(10.0)))
    result = controller.step(15.0, Readings(grid_a=(30.0, 20.0, 20.0), loads=loads(10.0)))
    # p2 is offered 16 A but takes 10 A (its car's own limit): cutting its offer to 11 A
    # relieves nothing, so p1 gives the 5 A excess too: 16 - 5 = 11 A.
    assert result.commands["p2"].current_a == 11.0
    assert result.commands["p1"].current_a == 11.0


def test_a_load_that_keeps_running_is_cut_but_its_cut_is_not_counted_on() -> None:
    heater = Load(
        id="p3",
        kind=LoadKind.PLUG,
        mode=Mode.CONTINUOUS,
        priority=9,
        phases=1,
        phase_map=("A",),
        power_w=2300.0,
        min_a=10.0,
        max_a=10.0,
    )
    controller = _make(car("p1", mode=Mode.CONTINUOUS, priority=1), heater)
    held = LoadReading(keeps_running="recommend_on held 60/600 s (min_state_s)")
    for t in (0.0, 5.0):
        controller.step(t, _read((20.0,) * 3))
    controller.step(10.0, _read((26.0, 20.0, 20.0)))
    reading = _read((26.0, 20.0, 20.0))
    result = controller.step(
        15.0, Readings(**{**reading.__dict__, "loads": {**reading.loads, "p3": held}})
    )
    # 1 A excess on phase A: the heater (served last) is cut, but it runs on through its hold,
    # so the car gives the 1 A too: 16 - 1 = 15 A.
    assert result.commands["p3"].on is False
    assert result.commands["p1"].current_a == 15.0
