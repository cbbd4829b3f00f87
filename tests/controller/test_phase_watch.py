"""The controller with what it learns of the wiring (`engine.phase_watch`): remaps, the
both-phases view while unsure, grid CT inversion and the lines a car uses; readings scripted
cycle by cycle so every number is worked by hand."""

from __future__ import annotations

from load_juggler.engine.control_types import LoadReading, Readings, SiteConfig
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Load, LoadKind, Mode, Site
from load_juggler.engine.phase_watch import PhaseEventKind

SITE = Site(phases=3, main_breaker_a=32.0)


def car(
    load_id: str = "car", phases: int = 1, phase_map: tuple[str, ...] = ("A",), **kw: object
) -> Load:
    return Load(
        id=load_id,
        kind=LoadKind.EVSE,
        mode=Mode.CONTINUOUS,
        phases=phases,
        phase_map=phase_map,
        min_a=6.0,
        **{"max_a": 32.0, **kw},  # type: ignore[arg-type]
    )


def readings(grid_a: tuple[float, float, float], **draws: tuple[float, ...]) -> Readings:
    return Readings(
        grid_a=grid_a,
        voltage_v=230.0,
        loads={k: LoadReading(connected=True, drawing=True, draw_a=v) for k, v in draws.items()},
    )


def swings_on(controller: Controller, phase: str, count: int, t0: float = 0.0) -> list:
    """`count` 20 A swings of the car seen by the grid on `phase` (house 5 A everywhere)."""
    events = []
    draw = 0.0
    for n in range(count + 1):
        amps = tuple(5.0 + (draw if p == phase else 0.0) for p in "ABC")
        result = controller.step(t0 + 5.0 * n, readings(amps, car=(draw,)))  # type: ignore[arg-type]
        events.extend(result.phase_events)
        draw = 20.0 - draw
    return events


def test_a_20_a_swing_on_another_phase_remaps_on_the_fifth_sample() -> None:
    controller = Controller(SiteConfig(SITE, (), (car(auto_remap=True),)))
    events = swings_on(controller, "C", 4)
    # 4 x 3 points = 12: told at 6 (the second swing), not remapped yet.
    assert [e.kind for e in events] == [PhaseEventKind.DETECTED]
    assert controller.phase_watch.remapped == {}
    events = swings_on(controller, "C", 1, t0=100.0)
    # The chain restarted with a 0 A sample (no step), then one swing: 15 points.
    assert [(e.kind, e.configured, e.detected) for e in events] == [
        (PhaseEventKind.REMAPPED, ("A",), ("C",))
    ]
    assert controller.phase_watch.remapped == {"car": "C"}
    # The configuration is what it was; the engine allocates the car on C from now on.
    assert controller.plant.loads[0].phase_map == ("A",)
    result = controller.step(200.0, readings((5.0, 5.0, 25.0), car=(20.0,)))
    assert result.decision is not None
    assert set(result.decision.loads["car"].phases_a) == {"C"}


def test_a_correct_map_is_never_remapped() -> None:
    controller = Controller(SiteConfig(SITE, (), (car(auto_remap=True),)))
    events = swings_on(controller, "A", 20)
    assert events == []
    assert controller.phase_watch.remapped == {}


def test_without_auto_remap_it_is_only_told_once() -> None:
    controller = Controller(SiteConfig(SITE, (), (car(),)))
    events = swings_on(controller, "C", 12)
    assert [e.kind for e in events] == [PhaseEventKind.DETECTED]
    assert "phase_map: [C]" in events[0].message
    assert controller.phase_watch.remapped == {}
    assert controller.phase_watch.detected_map("car") == ("C",)


def test_a_remap_never_raises_the_load_above_what_the_measured_phase_allows() -> None:
    controller = Controller(SiteConfig(SITE, (), (car(auto_remap=True),)))
    controller.restore_phases({"phase_maps": {"car": ["C"]}})
    # House 22 A on C plus the car's 6 A = 28 A measured; A is empty. On C the car may have
    # 32 - 22 = 10 A, however much room A has.
    for n in range(40):
        result = controller.step(5.0 * n, readings((0.0, 0.0, 28.0), car=(6.0,)))
    assert result.decision is not None
    allocation = result.decision.loads["car"]
    assert allocation.phases_a == {"C": allocation.current_a}
    assert allocation.current_a <= 10.0 + 1e-9


def test_while_unsure_the_charger_must_fit_the_configured_and_the_measured_phase() -> None:
    # Configured A (no auto_remap); one 10 A step showed on C (2 points: suspected).
    controller = Controller(SiteConfig(SITE, (), (car(),)))
    controller.step(0.0, readings((0.0, 0.0, 20.0), car=(0.0,)))
    controller.step(5.0, readings((0.0, 0.0, 30.0), car=(10.0,)))
    assert controller.phase_watch.suspected(controller.plant.loads[0]) == "C"
    # C measures 30 A of which 10 A is the car: 20 A house, so 12 A fit on C (32 A breaker),
    # although A, the configured phase, is empty.
    result = controller.step(10.0, readings((0.0, 0.0, 30.0), car=(10.0,)))
    assert result.decision is not None
    allocation = result.decision.loads["car"]
    assert set(allocation.phases_a) == {"A", "C"}
    assert allocation.current_a <= 12.0 + 1e-9


def test_a_restored_map_only_applies_to_a_load_with_auto_remap() -> None:
    controller = Controller(SiteConfig(SITE, (), (car(),)))
    assert controller.restore_phases({"phase_maps": {"car": ["C"], "bad": ["X"]}}) == [
        "phase_maps.bad: ['X'] is not one site phase"
    ]
    result = controller.step(0.0, readings((5.0, 5.0, 5.0), car=(0.0,)))
    assert result.decision is not None
    assert set(result.decision.loads["car"].phases_a) == {"A"}


def test_an_inverted_grid_meter_is_reported_once_within_15_changes() -> None:
    controller = Controller(SiteConfig(SITE, (), (car(),)))
    kinds = []
    for n in range(16):
        draw = 16.0 * (n % 2)
        # The meter reads minus the truth (house 5 A plus the car on A).
        result = controller.step(5.0 * n, readings((-(5.0 + draw), -5.0, -5.0), car=(draw,)))
        kinds.append([e.kind for e in result.phase_events])
    inverted = [n for n, k in enumerate(kinds) if PhaseEventKind.GRID_INVERTED in k]
    # The 10th significant change is the 11th reading (n = 10); told once.
    assert inverted == [10]
    assert controller.phase_watch.grid_inverted


def test_a_one_phase_car_on_a_three_phase_charger_frees_two_phases() -> None:
    # 25 A breaker, no house. car1 (3-phase, priority 1) draws 16 A on L1 only; car2 is a
    # 1-phase charger on B (max 16 A): while car1 counts on all three phases, whatever car1
    # is given on B is taken from car2.
    site = Site(phases=3, main_breaker_a=25.0)
    car1 = car("car1", phases=3, phase_map=("A", "B", "C"), priority=1, max_a=16.0)
    car2 = car("car2", phase_map=("B",), priority=2, max_a=16.0)
    controller = Controller(SiteConfig(site, (), (car1, car2)))
    allocated, car1_b = [], []
    events = []
    for n in range(6):
        result = controller.step(
            5.0 * n, readings((16.0, 0.0, 0.0), car1=(16.0, 0.0, 0.0), car2=(0.0,))
        )
        assert result.decision is not None
        allocated.append(result.decision.loads["car2"].current_a)
        car1_b.append(result.decision.loads["car1"].phases_a.get("B", 0.0))
        events.extend(result.phase_events)
    assert car1_b[0] > 0 and allocated[0] + car1_b[0] <= 25.0
    assert allocated[0] < 16.0
    # Three readings with L2, L3 below 0.5 A while L1 carries 16 A: from the third on car1
    # is a 1-line load on A and B is free for car2 (its max, 16 A).
    assert car1_b[2:] == [0.0] * 4
    assert allocated[2:] == [16.0] * 4
    assert [(e.kind, e.detected) for e in events] == [(PhaseEventKind.LINES_IN_USE, ("L1",))]
    assert controller.phase_watch.lines_label("car1") == "L1"
    # The session ends (unplugged): all three lines are the car's again.
    unplugged = Readings(
        grid_a=(0.0, 0.0, 0.0),
        voltage_v=230.0,
        loads={"car1": LoadReading(connected=False, drawing=False, draw_a=(0.0, 0.0, 0.0))},
    )
    result = controller.step(40.0, unplugged)
    assert controller.phase_watch.lines_label("car1") == "L1 L2 L3"
    assert [e.detected for e in result.phase_events] == [("L1", "L2", "L3")]
