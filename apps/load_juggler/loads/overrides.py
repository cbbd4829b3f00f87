"""A load's live overrides, set by commands from Home Assistant (`commands.py`).

Each part is independent and has its own end:
- `mode` (set_mode): until `mode_until_s` (None: until changed, or until the mode select is
  changed by hand after it began);
- boost: continuous until `boost_energy_wh` more has been delivered or `boost_until_s`;
- pause: off until resume;
- `min_a`/`max_a` (set_current_limits): a narrower current range, until changed.
The hub keeps them in its state file (section "overrides") so a restart keeps them: they are
plain JSON there (`to_json` / `from_json`). Pure: no AppDaemon import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from ..engine.model import Mode

#: What `override` and `override_until` say when nothing is in force or nothing ends.
NONE = "none"


@dataclass(frozen=True)
class LoadOverride:
    """Every override of one load; a part that is None is not set."""

    mode: Mode | None = None
    mode_since_s: float = 0.0
    mode_until_s: float | None = None
    boost_since_s: float | None = None
    boost_energy_wh: float | None = None
    boost_delivered_wh: float = 0.0
    boost_until_s: float | None = None
    paused_since_s: float | None = None
    min_a: float | None = None
    max_a: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.mode is None
            and self.boost_since_s is None
            and self.paused_since_s is None
            and self.min_a is None
            and self.max_a is None
        )

    @property
    def boosting(self) -> bool:
        return self.boost_since_s is not None

    @property
    def paused(self) -> bool:
        return self.paused_since_s is not None

    def without_mode(self) -> LoadOverride:
        return replace(self, mode=None, mode_since_s=0.0, mode_until_s=None)

    def without_boost(self) -> LoadOverride:
        return replace(
            self,
            boost_since_s=None,
            boost_energy_wh=None,
            boost_delivered_wh=0.0,
            boost_until_s=None,
        )

    def expired(self, now_s: float) -> tuple[LoadOverride, list[str]]:
        """Without the parts that have ended by `now_s`, and a line for each one that did."""
        ended: list[str] = []
        current = self
        if current.mode is not None and _due(current.mode_until_s, now_s):
            ended.append(f"set_mode {current.mode.value} ended (until {_clock(current)})")
            current = current.without_mode()
        if current.boosting:
            target = current.boost_energy_wh
            if target is not None and current.boost_delivered_wh >= target:
                ended.append(f"boost ended: {target / 1000:g} kWh delivered")
                current = current.without_boost()
            elif _due(current.boost_until_s, now_s):
                ended.append(
                    f"boost ended at its time ({current.boost_delivered_wh / 1000:.2f} kWh "
                    "delivered)"
                )
                current = current.without_boost()
        return current, ended

    def attributes(self) -> dict[str, Any]:
        """`override` (what is in force, in words) and `override_until` (ISO UTC of its end),
        for the load's state entity; NONE when there is none: AppDaemon drops a None value on
        its way to HA and merges attributes, so a None would leave the last override shown."""
        words: list[str] = []
        ends: list[float] = []
        if self.paused:
            words.append("paused")
        if self.boosting:
            target = self.boost_energy_wh
            left = (
                f" ({self.boost_delivered_wh / 1000:.2f} of {target / 1000:g} kWh)"
                if target is not None
                else ""
            )
            words.append(f"boost{left}")
            if self.boost_until_s is not None:
                ends.append(self.boost_until_s)
        if self.mode is not None:
            words.append(f"mode {self.mode.value}")
            if self.mode_until_s is not None:
                ends.append(self.mode_until_s)
        if self.min_a is not None or self.max_a is not None:
            low = "" if self.min_a is None else f"min {self.min_a:g} A"
            high = "" if self.max_a is None else f"max {self.max_a:g} A"
            words.append(" ".join(w for w in (low, high) if w))
        until = _iso(min(ends)) if ends and not self.paused else NONE
        return {"override": ", ".join(words) or NONE, "override_until": until}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mode"] = self.mode.value if self.mode is not None else None
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_json(cls, data: Any) -> LoadOverride | None:
        """The override kept in the state file; None for anything that is not one."""
        if not isinstance(data, dict):
            return None
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        try:
            if values.get("mode") is not None:
                values["mode"] = Mode(values["mode"])
            for key, value in values.items():
                if key != "mode" and value is not None and not isinstance(value, int | float):
                    return None
            return cls(**values)
        except (TypeError, ValueError):
            return None


def _due(until_s: float | None, now_s: float) -> bool:
    return until_s is not None and now_s >= until_s


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _clock(override: LoadOverride) -> str:
    return _iso(override.mode_until_s) if override.mode_until_s is not None else "-"
