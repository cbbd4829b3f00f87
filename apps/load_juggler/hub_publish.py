"""What the hub publishes each cycle: the status entity's attributes and the site entities.

Available current and headroom per site phase, solar surplus, and per circuit the commanded
current and headroom, all computed from the controller's `CycleResult` and the loads' specs.
Pure apart from the `EntityPublisher` it writes through: no AppDaemon import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .config import HubConfig, slugify
from .engine.circuits import CircuitTree
from .engine.control_types import Command, CycleResult
from .engine.model import SITE_NODE, SITE_PHASES, Load
from .engine.node_totals import Share, node_totals, uniform_terms
from .loads.entities import EntityPublisher, sensor_attrs
from .overload_report import overload_attrs

#: Reasons that say "nothing held this load back" (left out of `binding_constraints`).
UNCONSTRAINED = frozenset({"max current", "mode off", "not connected", "fits", "load unavailable"})


def status_attributes(result: CycleResult) -> dict[str, Any]:
    """The status entity's attributes of one cycle: allocation, limits, overloads."""
    decision = result.decision
    allocation = {
        name: {
            "current_a": round(cmd.current_a, 2) if cmd.on else 0.0,
            "on": cmd.on,
            "state": cmd.state.value,
            "reason": cmd.reason,
        }
        for name, cmd in sorted(result.commands.items())
    }
    limits: dict[str, str] = {}
    if decision is not None:
        limits = {name: alloc.reason for name, alloc in sorted(decision.loads.items())}
    binding = sorted({r for r in limits.values() if r not in UNCONSTRAINED})
    extra: dict[str, Any] = {
        "allocation": allocation,
        "limits": limits,
        "binding_constraints": binding,
        "loads": sorted(allocation),
    }
    if decision is not None:
        extra["import_w"] = round(decision.import_w)
        extra["background_a"] = [round(a, 2) for a in decision.background_a]
    if result.messages:
        extra["last_message"] = result.messages[-1]
    if result.overloads:
        extra["overloads"] = overload_attrs(result.overloads)
    return extra


def publish_site(
    publisher: EntityPublisher,
    entity_id: Callable[[str], str],
    config: HubConfig,
    result: CycleResult,
    specs: Mapping[str, Load],
    now_s: float,
) -> None:
    """Site, phase and circuit entities of one cycle (nothing without an engine decision)."""
    site = config.site
    phases = SITE_PHASES[: site.phases]
    decision = result.decision
    if decision is None:
        return
    publisher.publish(
        entity_id("solar_surplus"),
        round(decision.surplus_w),
        sensor_attrs("Load Juggler solar surplus", "W", "power", icon="mdi:solar-power"),
        now_s,
    )
    commanded = _commanded_by_node(config, result.commands, specs)
    for i, phase in enumerate(phases):
        p = phase.lower()
        available = site.main_breaker_a - decision.background_a[i]
        publisher.publish(
            entity_id(f"available_current_phase_{p}"),
            round(available, 2),
            sensor_attrs(
                f"Load Juggler available current phase {phase}",
                "A",
                "current",
                limit_a=site.main_breaker_a,
            ),
            now_s,
        )
        used = commanded[SITE_NODE][phase]
        publisher.publish(
            entity_id(f"headroom_phase_{p}"),
            round(available - used, 2),
            sensor_attrs(
                f"Load Juggler headroom phase {phase}",
                "A",
                "current",
                limit_a=site.main_breaker_a,
                managed_a=round(used, 2),
                background_a=round(decision.background_a[i], 2),
            ),
            now_s,
        )
    for circuit in config.circuits:
        base = f"circuit_{slugify(circuit.id)}_"
        label = f"Load Juggler circuit {circuit.id}"
        node = decision.nodes.get(circuit.id)
        for phase in phases:
            p = phase.lower()
            used = commanded[circuit.id][phase]
            publisher.publish(
                entity_id(f"{base}allocated_phase_{p}"),
                round(used, 2),
                sensor_attrs(
                    f"{label} allocated phase {phase}",
                    "A",
                    "current",
                    limit_a=circuit.limit_a,
                    max_power_w=circuit.max_power_w,
                    engine_power_w=None if node is None else round(node.power_w),
                ),
                now_s,
            )
            if circuit.limit_a is not None:
                publisher.publish(
                    entity_id(f"{base}headroom_phase_{p}"),
                    round(circuit.limit_a - used, 2),
                    sensor_attrs(
                        f"{label} headroom phase {phase}",
                        "A",
                        "current",
                        limit_a=circuit.limit_a,
                    ),
                    now_s,
                )


def _commanded_by_node(
    config: HubConfig, commands: Mapping[str, Command], specs: Mapping[str, Load]
) -> dict[str, dict[str, float]]:
    """Commanded current per site phase of the site and of every circuit (with ancestors)."""
    shares: list[Share] = []
    for name, cmd in commands.items():
        spec = specs.get(name)
        if spec is not None and cmd.on:
            shares.append((spec.circuit, uniform_terms(spec, cmd.current_a), 0.0))
    phases = SITE_PHASES[: config.site.phases]
    return node_totals(shares, CircuitTree(config.circuits), phases).amps
