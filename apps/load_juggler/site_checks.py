"""Run-time checks of the site's wiring in apps.yaml: what the readings show to be impossible.

Some mistakes parse fine and only show in the live readings: a `grid_invert` that turns import
into export (a house that "exports" at night with no solar and no battery), a circuit `members`
entry naming a load app that never registers (a typo that leaves the real load outside its
breaker). These are found here and reported once; the hub decides what to do with them.

Pure: no AppDaemon import.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .site_readings import Episodes

#: Export per phase (A) that no source explains, for how long (s), before the grid_invert hint.
PHANTOM_EXPORT_A = 2.0
PHANTOM_EXPORT_S = 60.0
#: Load apps get this long (and `MEMBER_CHECK_CYCLES` cycles) to register before a circuit
#: `members` entry that names none of them is reported.
MEMBER_CHECK_S = 30.0
MEMBER_CHECK_CYCLES = 2
#: Solar below this is "no solar"; battery power above minus this is "not discharging".
NO_SOLAR_W = 50.0
NO_DISCHARGE_W = 50.0


class PhantomExport:
    """Sustained export with nothing that could export: the grid meter's sign is the wrong way.

    Every phase must read more than `PHANTOM_EXPORT_A` of export for `PHANTOM_EXPORT_S` while
    solar is below `NO_SOLAR_W` (or not configured) and the battery is not discharging (or not
    configured). Then `update` returns the warning once; it re-arms once the export stops.
    """

    def __init__(self, invert: bool, has_solar: bool, has_battery: bool) -> None:
        self.invert = invert
        self.has_solar = has_solar
        self.has_battery = has_battery
        self._since_s: float | None = None
        self._warned = False

    def update(
        self,
        now_s: float,
        grid_a: tuple[float | None, ...] | None,
        solar_w: float | None,
        battery_w: float | None,
    ) -> str | None:
        values = list(grid_a or ())
        exporting = bool(values) and all(v is not None and v < -PHANTOM_EXPORT_A for v in values)
        no_solar = (solar_w is not None and solar_w < NO_SOLAR_W) if self.has_solar else True
        no_battery = (
            (battery_w is not None and battery_w > -NO_DISCHARGE_W) if self.has_battery else True
        )
        if not (exporting and no_solar and no_battery):
            self._since_s = None
            self._warned = False
            return None
        if self._since_s is None:
            self._since_s = now_s
        if self._warned or now_s - self._since_s < PHANTOM_EXPORT_S:
            return None
        self._warned = True
        shown = "/".join(f"{v:g}" for v in values if v is not None)
        if self.invert:
            fix = (
                "sensors.grid_invert is true but your meter already reports import as "
                "positive: set grid_invert: false"
            )
        else:
            fix = "your meter reports export as positive: set sensors.grid_invert: true"
        solar = "no solar" if self.has_solar else "no solar sensor (if this site has no PV)"
        return (
            f"the grid reads as export ({shown} A) for {now_s - self._since_s:g} s with {solar} "
            f"and no battery discharge, which is impossible: {fix}. Until then headroom is "
            "computed from a wrong sign"
        )


@dataclass(frozen=True)
class MissingMember:
    """A `circuits.<id>.members` entry that names no registered load app."""

    circuit: str
    name: str
    closest: str | None

    def line(self, hub: str) -> str:
        hint = (
            f"did you mean '{self.closest}'?"
            if self.closest
            else "no registered load app has a similar name"
        )
        return (
            f"app '{hub}': key 'circuits.{self.circuit}.members' = '{self.name}' names no "
            f"registered load app ({hint}); loads without a circuit get nothing until every "
            "member is placed"
        )


def missing_members(
    members: dict[str, tuple[str, ...]], registered: Iterable[str]
) -> list[MissingMember]:
    """Every member name with no registered load app, with the closest registered name."""
    names = sorted(registered)
    out = []
    for circuit, listed in members.items():
        for name in listed:
            if name in names:
                continue
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            out.append(MissingMember(circuit, name, close[0] if close else None))
    return out


class MemberCheck:
    """Circuit `members` entries naming no registered load app, one ERROR per episode.

    Apps start in any order, so a member is reported only once load apps had time to register
    (`MEMBER_CHECK_S` and `MEMBER_CHECK_CYCLES` after the hub started), and an INFO line ends
    the episode when the app registers after all.
    """

    def __init__(
        self, members: Mapping[str, tuple[str, ...]], hub: str, started_s: float, episodes: Episodes
    ) -> None:
        self.members = dict(members)
        self.hub = hub
        self.started_s = started_s
        self.episodes = episodes
        self.cycles = 0

    def update(self, now_s: float, registered: Iterable[str]) -> bool:
        """One cycle's check; whether some member names no registered load app."""
        self.cycles += 1
        missing = missing_members(self.members, registered)
        due = self.cycles > MEMBER_CHECK_CYCLES and now_s - self.started_s >= MEMBER_CHECK_S
        names = {f"member:{m.circuit}:{m.name}" for m in missing}
        for key in self.episodes.keys("member:"):
            if key not in names:
                _, circuit, name = key.split(":", 2)
                self.episodes.end(key, f"circuit '{circuit}' member '{name}' has registered")
        if due:
            for m in missing:
                self.episodes.begin(f"member:{m.circuit}:{m.name}", m.line(self.hub), "ERROR")
        return bool(missing)
