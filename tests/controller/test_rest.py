"""Finished cars, idle chargers and satisfied switches give their reservation back (issue 9).

Each case runs the real engine; the numbers in the assertions are worked out by hand in the
comments.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.control_types import (
    Command,
    ControlSettings,
    CycleResult,
    LoadReading,
    LoadState,
    Readings,
    Rest,
    SiteConfig,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Circuit, Load, LoadKind, Mode, Site

from .tinyplant import evse

FINISHED = Rest(LoadState.FINISHED, "car finished its session (Finishing)")
IDLE = Rest(LoadState.IDLE, "connected, no session")
SATISFIED = Rest(LoadState.SATISFIED, "draws 0 W (< 10 % of 2300 W) for 300 s")

#: No start or stop delays and a ramp that reaches max in one cycle, but a real min on time.
QUICK = ControlSettings(
    start_delay_s=0.0, stop_delay_s=0.0, min_on_s=300.0, min_off_s=180.0, ramp_up_a_per_s=100.0
)


def _heater(priority: int = 1, circuit: str | None = None) -> Load:
    # 2300 W on one phase at 230 V: 10 A.
    return Load(
        id="heater",
        kind=LoadKind.PLUG,
        mode=Mode.CONTINUOUS,
        priority=priority,
        phases=1,
        phase_map=("A",),
        power_w=2300.0,
        min_a=10.0,
        max_a=10.0,
        circuit=circuit,
    )


def _amps(command: Command) -> float:
    return command.current_a if command.on else 0.0


def _step(
    controller: Controller,
    now_s: float,
    grid_a: tuple[float, ...],
    loads: dict[str, LoadReading],
    **extra: object,
) -> CycleResult:
    return controller.step(now_s, Readings(grid_a=grid_a, solar_w=0.0, loads=loads, **extra))  # type: ignore[arg-type]


def _two_cars() -> Controller:
    site = Site(phases=3, main_breaker_a=16.0)
    plant = SiteConfig(site=site, circuits=(), loads=(evse("a"), evse("b")), settings=QUICK)
    return Controller(plant)


def _car_a_charged_alone(controller: Controller) -> float:
    """Car A charges alone at 16 A (B not connected) for two cycles; returns the next time."""
    a_a = 0.0
    for now_s in (0.0, 5.0, 10.0):
        result = _step(
            controller,
            now_s,
            (a_a,) * 3,
            {"a": LoadReading(draw_a=(a_a,) * 3), "b": LoadReading(connected=False)},
        )
        a_a = _amps(result.commands["a"])
    assert a_a == 16.0
    return 15.0


def test_a_finished_car_frees_its_min_for_another_car() -> None:
    # 16 A site, no house load. Car A charged at 16 A, then its session ends (Finishing) just
    # as car B plugs in and draws. Still "on" within its 300 s min on time, A would be held at
    # its 6 A min and B would get 16 - 6 = 10 A. Finished, A gets 0 and B its whole 16 A.
    controller = _two_cars()
    now_s = _car_a_charged_alone(controller)
    b_a = 0.0
    results = []
    for n in range(3):
        result = _step(
            controller,
            now_s + 5.0 * n,
            (b_a,) * 3,
            {
                "a": LoadReading(drawing=False, draw_a=(0.0,) * 3, rest=FINISHED),
                "b": LoadReading(draw_a=(b_a,) * 3),
            },
        )
        b_a = _amps(result.commands["b"])
        results.append(result)
    last = results[-1]
    assert last.commands["a"].state is LoadState.FINISHED
    assert last.commands["a"].reason == FINISHED.reason
    assert _amps(last.commands["a"]) == 0.0
    assert last.decision is not None
    assert last.decision.loads["a"].current_a == 0.0
    assert last.decision.loads["a"].reason == FINISHED.reason
    assert _amps(results[0].commands["b"]) == 6.0  # a start goes to min
    assert b_a == 16.0


@pytest.mark.parametrize(("rest", "a_a", "b_a"), [(None, 6.0, 0.0), (FINISHED, 0.0, 6.0)])
def test_a_finished_car_no_longer_takes_the_min_offer_of_a_waiting_car(
    rest: Rest | None, a_a: float, b_a: float
) -> None:
    # 3-phase 10 A site, no house load; neither car draws. Car A (priority 1) ends its session,
    # car B (priority 2) was just plugged in and draws nothing yet. Room for one 6 A min only
    # (6 + 6 = 12 > 10). Reported only as "not drawing", A takes the offer by priority and B
    # gets nothing; finished, A gets 0 and the offer goes to B: 6 A.
    site = Site(phases=3, main_breaker_a=10.0)
    plant = SiteConfig(
        site=site,
        circuits=(),
        loads=(evse("a", priority=1), evse("b", priority=2)),
        settings=QUICK,
    )
    controller = Controller(plant)
    result = _step(
        controller,
        0.0,
        (0.0,) * 3,
        {
            "a": LoadReading(drawing=False, draw_a=(0.0,) * 3, rest=rest),
            "b": LoadReading(drawing=False, draw_a=(0.0,) * 3),
        },
    )
    assert _amps(result.commands["a"]) == a_a
    assert _amps(result.commands["b"]) == b_a


def test_a_car_asking_again_gets_its_min_at_once() -> None:
    # One 3-phase car on a 16 A site. Finished at t=15 s (commanded 0), it asks again 10 s later
    # (SuspendedEVSE: drawing, no rest). The 180 s min off time of the finished session does not
    # apply to the new one: the car starts at its 6 A min in that very cycle.
    site = Site(phases=3, main_breaker_a=16.0)
    controller = Controller(SiteConfig(site=site, circuits=(), loads=(evse("a"),), settings=QUICK))
    a_a = 0.0
    for now_s in (0.0, 5.0, 10.0):
        a_a = _amps(
            _step(controller, now_s, (a_a,) * 3, {"a": LoadReading(draw_a=(a_a,) * 3)}).commands[
                "a"
            ]
        )
    assert a_a == 16.0
    finished = _step(
        controller,
        15.0,
        (0.0,) * 3,
        {"a": LoadReading(drawing=False, draw_a=(0.0,) * 3, rest=FINISHED)},
    )
    assert finished.commands["a"].on is False
    assert finished.commands["a"].write is True
    asks = _step(controller, 25.0, (0.0,) * 3, {"a": LoadReading(draw_a=(0.0,) * 3)})
    assert asks.commands["a"].on is True
    assert asks.commands["a"].current_a == 6.0


def test_an_idle_charger_gets_nothing_and_says_why() -> None:
    # A connected charger without a session is offered nothing: state idle with its reason.
    controller = _two_cars()
    result = _step(
        controller,
        0.0,
        (0.0,) * 3,
        {
            "a": LoadReading(drawing=False, draw_a=(0.0,) * 3, rest=IDLE),
            "b": LoadReading(connected=False),
        },
    )
    assert result.commands["a"].state is LoadState.IDLE
    assert result.commands["a"].reason == IDLE.reason
    assert _amps(result.commands["a"]) == 0.0


def _heater_and_car() -> tuple[Controller, float, float]:
    """1-phase 20 A site, no house load: heater (prio 1, 10 A) on, car (prio 2) gets 20 - 10."""
    site = Site(phases=1, main_breaker_a=20.0)
    plant = SiteConfig(
        site=site,
        circuits=(),
        loads=(_heater(), evse("car", phases=1, max_a=32.0, priority=2)),
        settings=QUICK,
    )
    controller = Controller(plant)
    heater_a = car_a = 0.0
    for n in range(3):
        result = _step(
            controller,
            5.0 * n,
            (heater_a + car_a,),
            {"heater": LoadReading(draw_a=(heater_a,)), "car": LoadReading(draw_a=(car_a,))},
        )
        heater_a, car_a = _amps(result.commands["heater"]), _amps(result.commands["car"])
    assert (heater_a, car_a) == (10.0, 10.0)
    return controller, 15.0, car_a


def test_a_satisfied_switch_stays_on_and_releases_its_reservation() -> None:
    # The heater reaches temperature: 0 W, reported satisfied. It stays switched on with 0 A
    # reserved, and the car takes the whole 20 A breaker.
    controller, now_s, car_a = _heater_and_car()
    results = []
    for n in range(2):
        result = _step(
            controller,
            now_s + 5.0 * n,
            (car_a,),
            {
                "heater": LoadReading(draw_a=(0.0,), rest=SATISFIED),
                "car": LoadReading(draw_a=(car_a,)),
            },
        )
        car_a = _amps(result.commands["car"])
        results.append(result)
    heater = results[-1].commands["heater"]
    assert heater.on is True
    assert heater.current_a == 0.0
    assert heater.state is LoadState.SATISFIED
    assert heater.reason == SATISFIED.reason
    assert all(r.commands["heater"].on for r in results)
    assert car_a == 20.0


def test_a_satisfied_switch_drawing_again_is_reserved_again() -> None:
    # Satisfied, the car went to 20 A. The thermostat calls for heat: the heater draws 10 A
    # again (no rest). Grid 20 + 10 = 30 A on a 20 A breaker; the heater (prio 1) gets its
    # 10 A back and the car is cut to 20 - 10 = 10 A in the same cycle.
    controller, now_s, car_a = _heater_and_car()
    for n in range(2):
        car_a = _amps(
            _step(
                controller,
                now_s + 5.0 * n,
                (car_a,),
                {
                    "heater": LoadReading(draw_a=(0.0,), rest=SATISFIED),
                    "car": LoadReading(draw_a=(car_a,)),
                },
            ).commands["car"]
        )
    assert car_a == 20.0
    again = _step(
        controller,
        now_s + 10.0,
        (car_a + 10.0,),
        {"heater": LoadReading(draw_a=(10.0,)), "car": LoadReading(draw_a=(car_a,))},
    )
    assert again.commands["heater"].on is True
    assert again.commands["heater"].current_a == 10.0
    assert again.commands["heater"].state is LoadState.ON
    assert again.commands["car"].current_a == 10.0
    assert again.commands["car"].write is True


def test_a_switch_we_keep_off_is_not_resting_and_starts_when_there_is_room() -> None:
    # 1-phase 20 A site. House 15 A: the 10 A heater does not fit (15 + 10 > 20) and stays off.
    # A "satisfied" report for a switch we keep off (switched on by hand, 0 W) is not a rest:
    # when the house drops to 5 A the engine reserves 10 A for it and switches it on.
    site = Site(phases=1, main_breaker_a=20.0)
    controller = Controller(SiteConfig(site=site, circuits=(), loads=(_heater(),), settings=QUICK))
    off = _step(controller, 0.0, (15.0,), {"heater": LoadReading(draw_a=(0.0,))})
    assert off.commands["heater"].on is False
    room = _step(controller, 5.0, (5.0,), {"heater": LoadReading(draw_a=(0.0,), rest=SATISFIED)})
    assert room.commands["heater"].on is True
    assert room.commands["heater"].current_a == 10.0
    assert room.commands["heater"].state is LoadState.ON


def test_mode_off_wins_over_a_satisfied_switch() -> None:
    # Mode off: the heater is switched off whatever its meter says.
    controller, now_s, car_a = _heater_and_car()
    result = _step(
        controller,
        now_s,
        (car_a,),
        {
            "heater": LoadReading(draw_a=(0.0,), rest=SATISFIED, mode=Mode.OFF),
            "car": LoadReading(draw_a=(car_a,)),
        },
    )
    assert result.commands["heater"].on is False
    assert result.commands["heater"].state is LoadState.OFF


def test_the_guard_switches_off_a_satisfied_switch_on_an_overloaded_circuit() -> None:
    # The heater sits alone on a 10 A circuit; something unmanaged on that circuit draws 11.5 A
    # while the heater, satisfied, draws 0.5 A: the circuit meter shows 12 A over its 10 A
    # limit. The engine reserves nothing for the heater, so only the guard can act: on the
    # second cycle that measures the overload it switches the heater off.
    site = Site(phases=1, main_breaker_a=40.0)
    plant = SiteConfig(
        site=site,
        circuits=(Circuit(id="boiler", limit_a=10.0),),
        loads=(_heater(circuit="boiler"),),
        settings=QUICK,
    )
    controller = Controller(plant)
    on = _step(
        controller,
        0.0,
        (0.0,),
        {"heater": LoadReading(draw_a=(0.0,))},
        circuit_a={"boiler": (0.0,)},
    )
    assert on.commands["heater"].on is True
    results = []
    for n in range(2):
        result = _step(
            controller,
            5.0 + 5.0 * n,
            (12.0,),
            {"heater": LoadReading(draw_a=(0.5,), rest=SATISFIED)},
            circuit_a={"boiler": (12.0,)},
        )
        results.append(result)
    first, second = results
    assert first.commands["heater"].on is True
    assert first.commands["heater"].state is LoadState.SATISFIED
    assert second.commands["heater"].on is False
    assert second.commands["heater"].write is True
    assert "measured overload boiler phase A" in second.commands["heater"].reason


def test_a_satisfied_switch_draw_is_trusted_only_up_to_its_rating() -> None:
    # Released, the heater is still on at its 10 A rating: that much (within the 1 A meter
    # tolerance, as measured) is its own draw. A meter showing 14 A (a report that lags, a
    # fault) is beyond 10 + 1 A: its 10 A rating counts as the heater's, the other 4 A as house.
    # Checked on the second released cycle, when the rest decided what is in force. The car
    # draws 5 A of its limit, so the grid (5 + 14 = 19 A) stays under the 20 A breaker.
    controller, now_s, _car_a = _heater_and_car()
    for n in range(2):
        result = _step(
            controller,
            now_s + 5.0 * n,
            (5.0 + 14.0,),
            {
                "heater": LoadReading(draw_a=(14.0,), rest=SATISFIED),
                "car": LoadReading(draw_a=(5.0,)),
            },
        )
        assert result.commands["heater"].state is LoadState.SATISFIED
    assert result.snapshot is not None
    heater = next(ld for ld in result.snapshot.loads if ld.id == "heater")
    assert heater.draw_a == (10.0,)
