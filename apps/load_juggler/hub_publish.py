"""What the hub publishes each cycle: the status entity and the site entities.

The status entity (`sensor.<prefix>_status`) carries the allocation, the limits and the
overloads, or the configuration problems; the site entities the available current and headroom
per site phase, the solar surplus, and per circuit the commanded current and headroom, all
computed from the controller's `CycleResult` and the loads' specs. Pure apart from the
`EntityPublisher` it writes through: no AppDaemon import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .config import HubConfig, slugify
from .engine.circuits import CircuitTree
from .engine.control_types import Command, CycleResult
from .engine.model import SITE_NODE, SITE_PHASES, Circuit, Decision, Load, Site
from .engine.node_totals import Share, node_totals, uniform_terms
from .loads.entities import EntityPublisher, SetState, sensor_attrs
from .overload_report import overload_attrs

#: Reasons that say "nothing held this load back" (left out of `binding_constraints`).
UNCONSTRAINED = frozenset({"max current", "mode off", "not connected", "fits", "load unavailable"})


class HubEntities:
    """The entities of one hub, named `sensor.<entity_prefix>_*`, written through one publisher.

    `problems` are the hub's configuration errors: while there are any the status entity says
    `error` and carries them (the first as `reason`).
    """

    def __init__(self, set_state: SetState, hub: str) -> None:
        self.publisher = EntityPublisher(set_state)
        self.hub = hub
        self.prefix = "load_juggler"
        self.problems: list[str] = []
        #: The hub's `dry_run`: the status entity says it, so nobody forgets it is on.
        self.dry_run = False
        #: What was learned of the wiring (`hub_phases.status_attributes`), on the status entity.
        self.phase_attrs: dict[str, Any] = {}

    def entity_id(self, suffix: str) -> str:
        return f"sensor.{self.prefix}_{suffix}"

    def status(self, state: str, now_s: float, extra: Mapping[str, Any]) -> None:
        attrs = sensor_attrs(
            "Load Juggler status",
            device_class="enum",
            state_class=None,
            icon="mdi:scale-balance",
            hub=self.hub,
            dry_run=self.dry_run,
            **self.phase_attrs,
            **extra,
        )
        if self.problems:
            attrs["problems"] = self.problems
            attrs["reason"] = self.problems[0]
        self.publisher.publish(self.entity_id("status"), state, attrs, now_s)

    def cycle(
        self, config: HubConfig, result: CycleResult, specs: Mapping[str, Load], now_s: float
    ) -> None:
        """The status entity and, with an engine decision, the site and circuit entities."""
        self.status(result.status.value, now_s, status_attributes(result))
        decision = result.decision
        if decision is None:
            return
        self.publisher.publish(
            self.entity_id("solar_surplus"),
            round(decision.surplus_w),
            sensor_attrs("Load Juggler solar surplus", "W", "power", icon="mdi:solar-power"),
            now_s,
        )
        commanded = _commanded_by_node(config, result.commands, specs)
        self._site_phases(config.site, decision, commanded[SITE_NODE], now_s)
        phases = SITE_PHASES[: config.site.phases]
        for circuit in config.circuits:
            node = decision.nodes.get(circuit.id)
            power_w = None if node is None else round(node.power_w)
            self._circuit(circuit, phases, power_w, commanded[circuit.id], now_s)

    def _site_phases(
        self, site: Site, decision: Decision, commanded: Mapping[str, float], now_s: float
    ) -> None:
        """Available current (breaker minus background) and headroom per site phase."""
        for i, phase in enumerate(SITE_PHASES[: site.phases]):
            p = phase.lower()
            available = site.main_breaker_a - decision.background_a[i]
            self.publisher.publish(
                self.entity_id(f"available_current_phase_{p}"),
                round(available, 2),
                sensor_attrs(
                    f"Load Juggler available current phase {phase}",
                    "A",
                    "current",
                    limit_a=site.main_breaker_a,
                ),
                now_s,
            )
            used = commanded[phase]
            self.publisher.publish(
                self.entity_id(f"headroom_phase_{p}"),
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

    def _circuit(
        self,
        circuit: Circuit,
        phases: Sequence[str],
        engine_power_w: float | None,
        commanded: Mapping[str, float],
        now_s: float,
    ) -> None:
        """One circuit's commanded current and, under a current limit, headroom per phase."""
        base = f"circuit_{slugify(circuit.id)}_"
        label = f"Load Juggler circuit {circuit.id}"
        for phase in phases:
            p = phase.lower()
            used = commanded[phase]
            self.publisher.publish(
                self.entity_id(f"{base}allocated_phase_{p}"),
                round(used, 2),
                sensor_attrs(
                    f"{label} allocated phase {phase}",
                    "A",
                    "current",
                    limit_a=circuit.limit_a,
                    max_power_w=circuit.max_power_w,
                    engine_power_w=engine_power_w,
                ),
                now_s,
            )
            if circuit.limit_a is not None:
                self.publisher.publish(
                    self.entity_id(f"{base}headroom_phase_{p}"),
                    round(circuit.limit_a - used, 2),
                    sensor_attrs(
                        f"{label} headroom phase {phase}",
                        "A",
                        "current",
                        limit_a=circuit.limit_a,
                    ),
                    now_s,
                )

    def taken_by(self, owner: Any) -> str | None:
        """The WARNING when another hub (`owner`, the status entity's `hub`) wrote our prefix.

        Two hubs on one `entity_prefix` would overwrite each other's entities every cycle; one
        written by another hub means a second site shares the prefix (or a renamed hub left it
        behind until HA restarts).
        """
        if not owner or owner == self.hub:
            return None
        return (
            f"{self.entity_id('status')} was published by hub '{owner}': if that hub still "
            f"runs, give one of them its own entity_prefix, or both write "
            f"sensor.{self.prefix}_* (ignore this after renaming a hub)"
        )


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
