"""The hub's registry of load apps (`load_registry`): what the cycle gets, and when the
controller must be given a new load set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from load_juggler.config import LoadSettings
from load_juggler.engine.model import Load
from load_juggler.load_checks import LoadFacts
from load_juggler.load_registry import LoadRegistry


@dataclass
class App:
    name: str


def facts(name: str) -> LoadFacts:
    # The registry only stores the facts; their settings play no part here.
    return LoadFacts(name=name, settings=cast(LoadSettings, None))


def test_the_load_set_goes_to_the_controller_only_when_it_changed() -> None:
    registry: LoadRegistry[App] = LoadRegistry()
    car, heater = App("car"), App("heater")
    assert registry.for_cycle(False) == ({}, set(), ())  # the first cycle sets up the plant
    assert registry.add(car, Load("car", circuit="garage"), facts("car")) == (False, 1)
    loads, unplaced, changed = registry.for_cycle(False)
    assert (loads, unplaced, changed) == ({"car": car}, set(), (Load("car", circuit="garage"),))
    assert registry.for_cycle(False)[2] is None  # nothing changed since
    assert registry.add(heater, Load("heater"), facts("heater")) == (False, 2)
    assert registry.add(heater, Load("heater", max_a=10.0), facts("heater")) == (True, 2)
    assert [ld.id for ld in registry.for_cycle(False)[2] or ()] == ["car", "heater"]
    assert registry.remove(App("heater")) is None  # another instance of that name: kept
    assert registry.names() == ["car", "heater"]
    assert registry.remove(heater) == 1
    assert registry.for_cycle(False)[2] == (Load("car", circuit="garage"),)
    assert registry.holds(car) and not registry.holds(heater)


def test_a_load_without_circuit_waits_while_a_member_is_missing() -> None:
    registry: LoadRegistry[App] = LoadRegistry()
    car, heater = App("car"), App("heater")
    registry.add(car, Load("car", circuit="garage"), facts("car"))
    registry.add(heater, Load("heater"), facts("heater"))
    registry.for_cycle(False)
    loads, unplaced, changed = registry.for_cycle(True)
    assert set(loads) == {"car", "heater"}
    assert unplaced == {"heater"}
    assert changed == (Load("car", circuit="garage"),)  # the heater is left out
    assert registry.for_cycle(True)[2] is None  # still waiting: no change
    _, unplaced, changed = registry.for_cycle(False)  # the member registered
    assert unplaced == set()
    assert [ld.id for ld in changed or ()] == ["car", "heater"]


def test_only_registered_apps_count_as_others_and_clear_empties_it() -> None:
    registry: LoadRegistry[App] = LoadRegistry()
    car = App("car")
    registry.add(car, Load("car"), facts("car"))
    assert [f.name for f in registry.others()] == ["car"]
    assert registry.specs_copy() == {"car": Load("car")}
    registry.clear()
    assert registry.others() == []
    assert registry.names() == []
