"""The hub's `circuits:` section: the breaker tree under the main breaker, members and meters.

Pure: no AppDaemon import. The tree's loop and membership checks are the engine's own
(`engine.validate.parent_loop`, `member_conflicts`), worded here for apps.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.model import Circuit
from ..engine.validate import member_conflicts, parent_loop
from .reader import ArgReader
from .site_config import CIRCUIT_OPTIONS


@dataclass(frozen=True)
class CircuitMeter:
    """A circuit's own meter, read each cycle into `Readings.circuit_a` / `circuit_power_w`.

    `current` holds one entity per site phase, or one entity whose `current_attributes` carry
    the phases (A, mA, or W/kW/MW per phase converted with the phase voltage); `power` one
    entity with the circuit's total power (W/kW/MW). Either may be None.
    """

    current: tuple[str, ...] | None = None
    current_attributes: tuple[str, ...] | None = None
    power: str | None = None


def parse_circuits(
    r: ArgReader, site_phases: int
) -> tuple[tuple[Circuit, ...], dict[str, tuple[str, ...]], dict[str, CircuitMeter]]:
    """`circuits:`: the tree (a parent "site" is the main breaker), members, and meters."""
    section = r.section("circuits")
    circuits: list[Circuit] = []
    members: dict[str, tuple[str, ...]] = {}
    meters: dict[str, CircuitMeter] = {}
    for cid in list(section.args):
        c = section.section(str(cid))
        if not isinstance(cid, str) or not cid.strip() or cid == "site":
            section.error(str(cid), cid, "circuit ids must be non-empty names other than 'site'")
            continue
        limit = CIRCUIT_OPTIONS["limit_a"].read(c)
        power = CIRCUIT_OPTIONS["max_power_w"].read(c)
        parent = c.string("parent", None)
        listed = c.names("members")
        current, attributes = phase_entities(
            c, "current_sensor", "current_phase_attributes", site_phases
        )
        power_sensor = c.entity("power_sensor")
        c.finish()
        if current or power_sensor:
            meters[cid] = CircuitMeter(
                current=current, current_attributes=attributes, power=power_sensor
            )
        if limit is None and power is None:
            section.error(cid, dict(c.args), "a circuit needs limit_a and/or max_power_w")
        circuits.append(Circuit(id=cid, parent=parent, limit_a=limit, max_power_w=power))
        if listed:
            members[cid] = listed
    ids = {c.id for c in circuits}
    for circuit in circuits:
        if circuit.parent is not None and circuit.parent not in ids and circuit.parent != "site":
            section.error(
                f"{circuit.id}.parent",
                circuit.parent,
                "must be another circuit id ("
                + (", ".join(sorted(ids - {circuit.id})) or "none")
                + ") or omitted for the main breaker",
            )
    parents = {c.id: (None if c.parent == "site" else c.parent) for c in circuits}
    for cid in parents:
        if parent_loop(parents, cid) is not None:
            section.error(f"{cid}.parent", parents[cid], "circuits must form a tree (loop found)")
    for cid, load, first in member_conflicts(members):
        section.error(
            f"{cid}.members",
            load,
            f"a load can be in one circuit only; '{load}' is also in '{first}'",
        )
    fixed = tuple(
        Circuit(id=c.id, parent=parents[c.id], limit_a=c.limit_a, max_power_w=c.max_power_w)
        for c in circuits
    )
    return fixed, members, meters


def phase_entities(
    s: ArgReader, key: str, attrs_key: str, phases: int
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """One entity per site phase, or one entity with per-phase attributes; wiring slips refused.

    Copy-paste mistakes read as a healthy meter while one phase goes unwatched: the same entity
    for two phases, the same attribute for two phases, or a list of entities and attribute names
    at once (which would silently read the first entity's attributes only).
    """
    entities = s.entities(key, lengths=(1, phases), domains=None)
    attrs = s.names(attrs_key, length=phases)
    if entities and len(set(entities)) != len(entities):
        twice = next(e for e in entities if entities.count(e) > 1)
        s.error(key, list(entities), f"lists {twice} for two phases; give one entity per phase")
    if attrs and len(set(attrs)) != len(attrs):
        twice = next(a for a in attrs if attrs.count(a) > 1)
        s.error(
            attrs_key, list(attrs), f"names attribute '{twice}' for two phases; give one per phase"
        )
    if entities and attrs is not None and len(entities) > 1:
        s.error(
            attrs_key,
            list(attrs),
            f"goes with one entity in {s.key(key)}, not {len(entities)}: give one entity per "
            "phase, or one entity with per-phase attributes",
        )
    if not entities:
        if attrs is not None and not s.errors_for(key):
            s.error(attrs_key, list(attrs), f"names attributes of {s.key(key)}, which is not given")
        return None, None
    if (len(entities) == 1 and phases > 1) or attrs is not None:
        return entities, attrs or ("L1", "L2", "L3")[:phases]
    return entities, None
