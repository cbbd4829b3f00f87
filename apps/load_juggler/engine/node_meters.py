"""Meters on the nodes of the site: the grid meter at the main breaker and the circuit meters.

Every such meter is read the same way, wherever it hangs: per site phase, an implausible sample
is a glitch (one warning, treated as unavailable), and the sample minus the trusted managed draw
behind the node feeds that node phase's background filter, which follows a rise at once
(`RiseFirstEma`). A meter that had a valid sample and has none this cycle is *blind*: its
background is held (see `_update_background`). What differs is only what follows: the grid
meter's staleness is the controller's to judge, a circuit meter without a valid value for
`grid_stale_timeout_s` is ignored here (the circuit falls back to its configured accounting).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .control_types import Readings, SiteConfig
from .model import SITE_PHASES, Circuit, Site
from .plausible import (
    circuit_bound_a,
    circuit_plausible,
    circuit_power_plausible,
    import_bound_text,
)
from .sample_memory import WarnOnce, checked
from .smoothing import RiseFirstEma

NodePhase = tuple[str, str]


class PhaseRead(NamedTuple):
    """One meter's reading this cycle: `fresh` when every phase had a valid sample, `held`
    when some phase has none but had one before (the meter is blind, not yet stale)."""

    fresh: bool
    held: bool


@dataclass
class CircuitBackgrounds:
    """Background of the metered circuits that are not stale, per site phase and in watts;
    `blind` lists the circuits whose meter is held this cycle."""

    amps: dict[str, tuple[float, ...]] = field(default_factory=dict)
    watts: dict[str, float] = field(default_factory=dict)
    blind: set[str] = field(default_factory=set)


class NodeMeters:
    """Background filters and memories of the grid and circuit meters; one per `SiteSensors`."""

    def __init__(self, alpha: float, glitches: WarnOnce, stale: WarnOnce) -> None:
        self._alpha = alpha
        self._glitches = glitches
        self._stale = stale
        self._background_a: dict[NodePhase, RiseFirstEma] = {}
        self._last_raw_a: dict[NodePhase, float] = {}
        self._background_w: dict[str, RiseFirstEma] = {}
        self._seen_s: dict[str, float] = {}
        self._metered_a: set[str] = set()
        self._metered_w: set[str] = set()

    def read_phases(
        self,
        node: str,
        label: str,
        raw: Any,
        phases: Sequence[str],
        plausible: Callable[[float, float], bool],
        allowed: Callable[[float], str],
        draw_a: Mapping[str, float],
        measured: dict[NodePhase, float | None],
        warnings: list[str],
    ) -> PhaseRead:
        """Check `raw` (one value per phase) and feed each phase's background filter; the
        plausible samples (None where unavailable or a glitch) go into `measured`.

        `plausible(amps, managed_a)` gets the phase's trusted managed draw too: an import the
        managed loads explain is a measurement, however far above the breaker (`plausible`);
        `allowed(managed_a)` words the bound for the warning."""
        values = list(raw) if isinstance(raw, list | tuple) else []
        fresh = len(values) >= len(phases)
        held = False
        for i, phase in enumerate(phases):
            key = (node, phase)
            managed_a = draw_a.get(phase, 0.0)
            sample = checked(
                self._glitches,
                f"{label} phase {phase}",
                values[i] if i < len(values) else None,
                lambda a, d=managed_a: plausible(a, d),
                "A",
                allowed(managed_a),
                warnings,
            )
            measured[key] = sample
            if sample is None:
                fresh = False
                held = held or key in self._last_raw_a
            ema = self._background_a.setdefault(key, RiseFirstEma(self._alpha))
            self._update_background(ema, key, sample, managed_a)
        return PhaseRead(fresh, held)

    def background(self, node: str, phases: Sequence[str]) -> tuple[float, ...] | None:
        """The node's filtered background per phase, None until every phase has one."""
        values = [self._background_a.get((node, p)) for p in phases]
        if all(ema is not None and ema.value is not None for ema in values):
            return tuple(ema.value for ema in values)  # type: ignore[union-attr,misc]
        return None

    def _update_background(
        self, ema: RiseFirstEma, key: NodePhase, sample: float | None, draw_a: float
    ) -> None:
        """Feed a meter sample minus the managed draw behind it into its background filter.

        A missing sample holds the background, unless the last valid sample minus this cycle's
        trusted draw is higher: a load whose draw no longer counts as its own (cut, or found
        not obeying) must not leave its current hidden while the meter is blind. So a missing
        or glitching sample never leaves more room than the last valid one repeated would.
        """
        if sample is not None:
            self._last_raw_a[key] = sample
            ema.update(sample - draw_a)
            return
        last_a = self._last_raw_a.get(key)
        if last_a is not None and ema.value is not None and last_a - draw_a > ema.value:
            ema.value = last_a - draw_a

    def circuits(
        self,
        now_s: float,
        started_s: float,
        plant: SiteConfig,
        readings: Readings,
        draw_a: Mapping[str, Mapping[str, float]],
        draw_w: Mapping[str, float],
        measured: dict[NodePhase, float | None],
        warnings: list[str],
    ) -> CircuitBackgrounds:
        """Background (meter minus trusted managed draw) of every metered circuit not stale;
        `draw_a` / `draw_w` are the trusted managed draw behind each node."""
        site = plant.site
        clock = _Clock(now_s, started_s, plant.settings.grid_stale_timeout_s)
        phases = SITE_PHASES[: site.phases]
        circuit_a = readings.circuit_a if isinstance(readings.circuit_a, dict) else {}
        circuit_w = readings.circuit_power_w if isinstance(readings.circuit_power_w, dict) else {}
        out = CircuitBackgrounds()
        for circuit in plant.circuits:
            cid = circuit.id
            if cid in circuit_a:
                self._metered_a.add(cid)
            if cid in circuit_w:
                self._metered_w.add(cid)
            if cid in self._metered_a:
                bound = circuit_bound_a(site, circuit.limit_a)
                read = self.read_phases(
                    cid,
                    f"circuit {cid}",
                    circuit_a.get(cid),
                    phases,
                    lambda a, d, c=circuit: circuit_plausible(site, c.limit_a, a, d),
                    lambda d, b=bound: import_bound_text(-b, b, d),
                    draw_a.get(cid, {}),
                    measured,
                    warnings,
                )
                stale = self._stale_after(
                    f"circuit {cid} current",
                    read.fresh,
                    clock,
                    f"circuit '{cid}' current meter has no valid value for "
                    f"{clock.timeout_s:.0f} s: its limit is checked from the configured loads only",
                    warnings,
                )
                if read.held and not stale:
                    out.blind.add(cid)
                background = self.background(cid, phases)
                if not stale and background is not None:
                    out.amps[cid] = background
            if cid in self._metered_w:
                raw_w = circuit_w.get(cid)
                self._circuit_power(clock, site, circuit, raw_w, draw_w, out, warnings)
        return out

    def _circuit_power(
        self,
        clock: _Clock,
        site: Site,
        circuit: Circuit,
        raw: Any,
        draw_w: Mapping[str, float],
        out: CircuitBackgrounds,
        warnings: list[str],
    ) -> None:
        """A circuit's power meter: its background in `out.watts` unless stale."""
        cid = circuit.id
        sample = checked(
            self._glitches,
            f"circuit {cid} power",
            raw,
            lambda w: circuit_power_plausible(site, circuit.max_power_w, w, draw_w.get(cid, 0.0)),
            "W",
            "twice its max_power_w plus the managed loads' draw",
            warnings,
        )
        if sample is not None:
            ema_w = self._background_w.setdefault(cid, RiseFirstEma(self._alpha))
            ema_w.update(sample - draw_w.get(cid, 0.0))
        stale = self._stale_after(
            f"circuit {cid} power",
            sample is not None,
            clock,
            f"circuit '{cid}' power meter has no valid value for {clock.timeout_s:.0f} s: "
            "its power limit is checked from the configured loads only",
            warnings,
        )
        held_w = self._background_w.get(cid)
        if sample is None and held_w is not None and not stale:
            out.blind.add(cid)
        if not stale and held_w is not None and held_w.value is not None:
            out.watts[cid] = held_w.value

    def _stale_after(
        self, key: str, fresh: bool, clock: _Clock, line: str, warnings: list[str]
    ) -> bool:
        """Whether meter `key` has had no fresh reading for the timeout (counted from the start
        if it never had one); one warning line when it goes stale."""
        if fresh:
            self._seen_s[key] = clock.now_s
        stale = clock.now_s - self._seen_s.get(key, clock.started_s) >= clock.timeout_s
        self._stale.track(key, stale, line, warnings)
        return stale


class _Clock(NamedTuple):
    """This cycle's time, when the sensors started, and when a circuit meter goes stale."""

    now_s: float
    started_s: float
    timeout_s: float
