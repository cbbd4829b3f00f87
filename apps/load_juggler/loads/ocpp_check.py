"""Whether the charger does what our profile says.

The integration never reports a rejected custom profile to the caller on OCPP 1.6 (only a
warning in HA's log), and some chargers accept a profile and go on offering their own default.
So after a limit is sent, the charger's offered current (`current_offered`, else the car's
draw) must come down to it within `verify_s`. If it does not, that is logged once (WARNING) and
shown as `profile_check` on the load's state entity; with `rate_unit: auto` the other unit is
tried once. The controller meanwhile counts any draw above the command as background
(engine/trust.py), so the house stays protected while the charger disobeys.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..config import OcppSettings
from .capabilities import DeviceHost
from .ocpp_profiles import ProfileWriter

#: Offered current or draw up to this much above the limit still counts as following it
#: (rounding, a W limit converted to A, meter resolution).
FOLLOW_TOLERANCE_A = 1.0
#: The integration's default MeterValues interval: a reading HA last updated before our limit
#: is judged only this long after `verify_s` (HA keeps `last_updated` while the value stays the
#: same, so a charger that goes on offering the same 32 A never shows a newer one).
METER_INTERVAL_S = 60.0
#: `profile_check` while the charger offers or draws more than our limit after `verify_s`.
IGNORES_PROFILE = "charger ignores our profile"


@dataclass(frozen=True)
class Observed:
    """What the charger showed this cycle: its offered current and the car's highest line, each
    with when HA last updated it (None: not known), and whether a transaction runs (outside
    one, offered and draw say nothing about our profile)."""

    offered_a: float | None
    offered_at_s: float | None
    draw_max_a: float | None
    draw_at_s: float | None
    in_session: bool


class ObeyCheck:
    """Compares what the charger offers (or the car draws) with the limit in force."""

    def __init__(self, host: DeviceHost, ocpp: OcppSettings, profiles: ProfileWriter) -> None:
        self._host = host
        self._ocpp = ocpp
        self._profiles = profiles
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._trial = False  # the other unit is on trial
        self._tried_other_unit = False

    @property
    def problem(self) -> str | None:
        """`charger ignores our profile: ...` while it does, else None."""
        with self._lock:
            return self._problem

    def check(self, now_s: float, seen: Observed) -> None:
        """One look: follows (ends an episode), not yet due, or ignores our profile.

        A reading HA updated before the limit was sent may just be late (MeterValues come every
        minute or so): it is judged only METER_INTERVAL_S after `verify_s`, one updated since at
        `verify_s`.
        """
        limit_a, since_s = self._profiles.in_force
        if limit_a is None or not seen.in_session:
            return
        if seen.offered_a is not None:
            shown, at_s, what = seen.offered_a, seen.offered_at_s, "offers"
        elif seen.draw_max_a is not None:
            shown, at_s, what = seen.draw_max_a, seen.draw_at_s, "draws"
        else:
            return
        if shown <= limit_a + FOLLOW_TOLERANCE_A:
            self._follows()
            return
        waited_s = now_s - since_s
        late = at_s is not None and at_s < since_s  # a reading from before our limit
        if waited_s < self._ocpp.verify_s + (METER_INTERVAL_S if late else 0.0):
            return
        self._ignores(
            f"{IGNORES_PROFILE}: charger '{self._ocpp.charger}' {what} {shown:g} A "
            f"{waited_s:.0f} s after we sent {limit_a:g} A",
            offered=what == "offers",
        )

    def _ignores(self, problem: str, offered: bool) -> None:
        """Log the episode once; in `rate_unit: auto` try the other unit once, when the
        charger's own offered current shows it (a draw may lag or be the car's doing)."""
        with self._lock:
            first = self._problem is None
            self._problem = problem
            end_trial = self._trial
            self._trial = False
            try_other = offered and self._ocpp.rate_unit == "auto" and not self._tried_other_unit
            if try_other:
                self._tried_other_unit = self._trial = True
        if first:
            self._host.log(
                f"{problem} (limit {self._ocpp.verify_s:g} s, `verify_s`); its draw above our "
                "limit counts as house load until it follows",
                level="WARNING",
            )
        if end_trial:
            unit = self._profiles.end_trial(keep=False)
            self._host.log(f"the other unit did not help; charging rate unit {unit} again")
        elif try_other:
            unit = "W" if self._profiles.unit == "A" else "A"
            self._host.log(f"rate_unit auto: trying charging rate unit {unit} once")
            self._profiles.try_unit(unit)

    def _follows(self) -> None:
        with self._lock:
            was = self._problem
            self._problem = None
            trial, self._trial = self._trial, False
        if trial:
            unit = self._profiles.end_trial(keep=True)
            self._host.log(f"charger follows our profile in {unit}: using it from now on")
        elif was is not None:
            self._host.log(f"charger '{self._ocpp.charger}' follows our profile again")
