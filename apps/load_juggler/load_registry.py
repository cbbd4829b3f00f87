"""The hub's registry of load apps: who is registered, as which engine load, and what changed.

Load apps register from their own threads while the hub's cycle runs in its own: every access
goes through one lock, and the cycle works on copies. The registry also knows which loads must
wait: a load with no circuit of its own while some circuit's `members` entry names no registered
app may be the one that entry meant (a typo), so it is not placed until the members are.

Pure: no AppDaemon import.
"""

from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar

from .engine.model import Load
from .load_checks import LoadFacts


class _App(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def app_name(self) -> str: ...


App = TypeVar("App", bound=_App)
#: The engine loads of a changed registry, None when nothing changed.
ChangedLoads = tuple[Load, ...] | None


class LoadRegistry(Generic[App]):
    """Registered load apps with their engine load (`specs`) and registration facts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loads: dict[str, App] = {}
        self.specs: dict[str, Load] = {}
        self._facts: dict[str, LoadFacts] = {}
        self._dirty = True
        self._last_unplaced: set[str] = set()

    def add(self, load: App, spec: Load, facts: LoadFacts) -> tuple[bool, int]:
        """Register (or replace) `load`; whether it replaced one, and how many there are."""
        with self._lock:
            replaced = load.name in self._loads
            self._loads[load.name] = load
            self.specs[load.name] = spec
            self._facts[load.name] = facts
            self._dirty = True
            return replaced, len(self._loads)

    def remove(self, load: App) -> int | None:
        """Forget `load` if it is the registered one; how many are left (None: was not)."""
        with self._lock:
            if self._loads.get(load.name) is not load:
                return None
            del self._loads[load.name]
            del self.specs[load.name]
            self._facts.pop(load.name, None)
            self._dirty = True
            return len(self._loads)

    def clear(self) -> None:
        """Forget every load app."""
        with self._lock:
            self._loads.clear()

    def holds(self, load: App) -> bool:
        with self._lock:
            return self._loads.get(load.name) is load

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._loads)

    def member_names(self) -> set[str]:
        """What a circuit's `members` may name: every registered load, and the app of each
        (a charger app whose plugs are loads of their own)."""
        with self._lock:
            return {*self._loads, *(load.app_name for load in self._loads.values())}

    def others(self) -> list[LoadFacts]:
        """The registration facts of every registered load app."""
        with self._lock:
            return [f for name, f in self._facts.items() if name in self._loads]

    def specs_copy(self) -> dict[str, Load]:
        with self._lock:
            return dict(self.specs)

    def for_cycle(self, members_missing: bool) -> tuple[dict[str, App], set[str], ChangedLoads]:
        """The load apps, the names of those not placed (see the module docstring), and the
        engine loads to hand the controller, None when nothing changed since the last call."""
        with self._lock:
            loads = dict(self._loads)
            unplaced = {name for name in loads if members_missing and self._waits(name)}
            specs = tuple(s for name, s in self.specs.items() if name not in unplaced)
            if unplaced != self._last_unplaced:
                self._dirty = True
            self._last_unplaced = unplaced
            dirty, self._dirty = self._dirty, False
        return loads, unplaced, specs if dirty else None

    def _waits(self, name: str) -> bool:
        """No circuit of its own (it may be the load a misspelt members entry meant, so it must
        not be fed as if under the main breaker alone). Caller holds the lock."""
        spec = self.specs.get(name)
        return spec is not None and spec.circuit is None
