"""Chargers with several plugs: the unit's shared limit and, when sequential, one plug at a time.

A charger unit (`model.ChargeUnit`) is what its plugs hang on. To the allocation it is two
things:

- a circuit node: a node `<unit id>` under the plugs' own circuit (or the site) with the unit's
  `max_a` per phase, so concurrent plugs share it exactly as loads share a breaker, with no
  allocate-then-slash (`as_circuits`);
- for a sequential unit, an "at most one on" rule: every eligible plug but the holder waits,
  with reason `waiting for unit` (`waiting_for_unit`).

Who holds a sequential unit is a question of time, so the controller asks `UnitHolders` each
cycle: the plug that holds it keeps it until its car is finished, idle (not drawing) or
unplugged; it loses it mid-session only to a plug in a more urgent mode, and only after its
min on time. The next holder is the plug whose car draws, by mode urgency, then priority, then
id. `allocate` alone (a snapshot without holders) hands each unit to its first plug in that
order, so it keeps the rule by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from .errors import ConfigError
from .model import ChargeUnit, Circuit, Load, Mode, Snapshot

#: Reason of a plug of a sequential unit that another plug holds (the state says it too).
REASON_WAITING_FOR_UNIT = "waiting for unit"


def units_of(loads: Iterable[Load]) -> dict[str, tuple[ChargeUnit, tuple[Load, ...]]]:
    """Every unit named by `loads`, with its plugs in the order given."""
    found: dict[str, tuple[ChargeUnit, list[Load]]] = {}
    for load in loads:
        if load.unit is not None:
            found.setdefault(load.unit.id, (load.unit, []))[1].append(load)
    return {uid: (unit, tuple(plugs)) for uid, (unit, plugs) in found.items()}


def validate_units(circuits: Sequence[Circuit], loads: Sequence[Load]) -> None:
    """A unit's plugs agree on the unit and hang on one circuit; its id names nothing else."""
    circuit_ids = {c.id for c in circuits}
    load_ids = {ld.id for ld in loads}
    for uid, (unit, plugs) in units_of(loads).items():
        item = f"unit '{uid}'"
        if uid in circuit_ids or uid in load_ids or uid == "site":
            raise ConfigError(item, "id", uid, "must differ from every circuit and load id")
        if unit.max_a is not None and (
            isinstance(unit.max_a, bool)
            or not isinstance(unit.max_a, int | float)
            or not unit.max_a > 0
        ):
            raise ConfigError(item, "unit_max_a", unit.max_a, "must be a number > 0")
        for plug in plugs[1:]:
            if plug.unit != unit:
                raise ConfigError(
                    f"load '{plug.id}'",
                    "unit",
                    uid,
                    f"its unit settings differ from those of '{plugs[0].id}'",
                )
            if plug.circuit != plugs[0].circuit:
                raise ConfigError(
                    f"load '{plug.id}'",
                    "circuit",
                    plug.circuit,
                    f"plugs of unit '{uid}' must hang on one circuit ({plugs[0].circuit})",
                )


def as_circuits(snapshot: Snapshot) -> Snapshot:
    """The snapshot with every unit as a circuit node and its plugs moved under it.

    Idempotent: a unit already present as a circuit is left as it is.
    """
    units = units_of(snapshot.loads)
    known = {c.id for c in snapshot.circuits}
    added = tuple(
        Circuit(id=uid, parent=plugs[0].circuit, limit_a=unit.max_a)
        for uid, (unit, plugs) in units.items()
        if uid not in known
    )
    if not added:
        return snapshot
    moved = {c.id for c in added}
    loads = tuple(
        replace(ld, circuit=ld.unit.id) if ld.unit is not None and ld.unit.id in moved else ld
        for ld in snapshot.loads
    )
    return replace(snapshot, circuits=(*snapshot.circuits, *added), loads=loads)


def eligible(load: Load) -> bool:
    """A plug that could take the unit: connected and not in mode off."""
    return load.connected and Mode(load.mode) is not Mode.OFF


def rank(load: Load) -> tuple[bool, int, int, str]:
    """Order in which a sequential unit is handed on: a drawing car first, then urgency,
    priority and id."""
    return (not load.drawing, Mode(load.mode).urgency, load.priority, load.id)


def first_by_rank(plugs: Iterable[Load]) -> Load | None:
    return min((p for p in plugs if eligible(p)), key=rank, default=None)


def waiting_for_unit(snapshot: Snapshot) -> dict[str, str]:
    """Plug id -> holder id of every eligible plug of a sequential unit that must wait.

    A holder named in `snapshot.unit_holders` keeps the unit even while it cannot take current
    (its min off time puts it in mode off for one engine run): handing the unit on for that
    run would start the other plug only to stop it once the holder is back.
    """
    waiting: dict[str, str] = {}
    for uid, (unit, plugs) in units_of(snapshot.loads).items():
        if unit.concurrent:
            continue
        holder_id = snapshot.unit_holders.get(uid)
        if holder_id is None or all(p.id != holder_id for p in plugs):
            first = first_by_rank(plugs)
            holder_id = first.id if first is not None else None
        for plug in plugs:
            if plug.id != holder_id and eligible(plug):
                waiting[plug.id] = holder_id or ""
    return waiting


def waiting_reason(holder_id: str) -> str:
    return (
        f"{REASON_WAITING_FOR_UNIT}: {holder_id} holds it" if holder_id else REASON_WAITING_FOR_UNIT
    )


class UnitHolders:
    """Remembers which plug holds each sequential unit; `choose` is called once per cycle."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    def choose(
        self,
        now_s: float,
        loads: Sequence[Load],
        on_since_s: Mapping[str, float | None],
        min_on_s: float,
    ) -> dict[str, str]:
        """This cycle's holder of every sequential unit that has an eligible plug.

        `loads` are the cycle's engine loads (live mode; a resting car counts as not
        connected), `on_since_s` when each running plug was switched on (None: off).
        """
        chosen: dict[str, str] = {}
        for uid, (unit, plugs) in units_of(loads).items():
            if unit.concurrent:
                continue
            holder = self._keep(self._holders.get(uid), plugs, now_s, on_since_s, min_on_s)
            if holder is not None:
                chosen[uid] = holder.id
        self._holders = chosen
        return dict(chosen)

    @staticmethod
    def _keep(
        held_id: str | None,
        plugs: Sequence[Load],
        now_s: float,
        on_since_s: Mapping[str, float | None],
        min_on_s: float,
    ) -> Load | None:
        best = first_by_rank(plugs)
        held = next((p for p in plugs if p.id == held_id and eligible(p)), None)
        if held is None or best is None:
            return best
        if not held.drawing and best.drawing:
            return best  # its car is idle: the unit goes to a car that wants current
        more_urgent = Mode(best.mode).urgency < Mode(held.mode).urgency and best.drawing
        if more_urgent:
            since_s = on_since_s.get(held.id)
            if since_s is None or now_s - since_s >= min_on_s:
                return best
        return held
