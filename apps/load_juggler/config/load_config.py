"""What every load app's settings hold, whatever its kind: `LoadSettings`, modes, entity names.

Pure: no AppDaemon import. Each kind's options and parser live in `config/kinds/` (`evse`: an
OCPP charger, `switch`: a switched load), reading the common options of `kinds/common.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..engine.errors import ConfigError
from ..engine.model import Load, LoadKind, Mode

#: The options a mode `input_select` must offer, in the order we set them.
MODE_WORDS: dict[Mode, str] = {
    Mode.CONTINUOUS: "Continuous",
    Mode.SOLAR_PRIORITY: "Solar Priority",
    Mode.SOLAR_ONLY: "Solar Only",
    Mode.EXCESS: "Excess",
    Mode.OFF: "Off",
}
MODE_OPTIONS: tuple[str, ...] = tuple(MODE_WORDS.values())


def parse_mode(value: Any) -> Mode | None:
    """'Solar Priority', 'solar_priority', 'solar-priority' -> Mode.SOLAR_PRIORITY; else None.

    YAML reads an unquoted `mode: off` as false: that is `off`.
    """
    if isinstance(value, Mode):
        return value
    if value is False:
        return Mode.OFF
    if not isinstance(value, str):
        return None
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    try:
        return Mode(key)
    except ValueError:
        return None


def slugify(text: str) -> str:
    """Entity-id part from a name, like HA's slugify: accents folded (`wärme` -> `warme`)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", folded.lower())).strip("_")


class LoadConfigError(Exception):
    """A load app's args have problems; `problems` holds one ConfigError per problem."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadSettings:
    """What every load app declares; `min_a`/`max_a` are per phase."""

    name: str
    hub: str
    kind: LoadKind
    priority: int
    mode: Mode
    mode_select: str | None
    fix_mode_options: bool
    phases: int
    phase_map: tuple[str, ...]
    circuit: str | None
    min_a: float
    max_a: float
    power_w: float | None = None
    auto_remap: bool = False

    def engine_load(self, voltage_v: float, circuit: str | None, mode: Mode | None = None) -> Load:
        """The static engine view of this load; a plug's current is rated power / (V x phases).

        Shared by the load apps and the simulator's `--example`, so the demo balances exactly
        what the apps would.
        """
        if self.kind is LoadKind.PLUG:
            amps = (self.power_w or 0.0) / (voltage_v * self.phases)
            min_a = max_a = round(amps, 3)
        else:
            min_a, max_a = self.min_a, self.max_a
        return Load(
            id=self.name,
            kind=self.kind,
            mode=mode or self.mode,
            priority=self.priority,
            phases=self.phases,
            phase_map=self.phase_map,
            min_a=min_a,
            max_a=max_a,
            power_w=self.power_w,
            circuit=circuit,
            auto_remap=self.auto_remap,
        )
