"""What a sensor reading leaves behind between cycles: warned episodes and the last valid value.

A sensor that glitches or goes stale every cycle must produce one warning line per episode, not
one per cycle (`WarnOnce`), and a value seen a while ago counts only until its timeout
(`HeldValue`). `checked` is the one plausibility gate every site reading passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .smoothing import finite_or_none


class WarnOnce:
    """Keys of the episodes that already produced their warning line."""

    def __init__(self) -> None:
        self._active: set[str] = set()

    def begin(self, key: str, line: str, warnings: list[str]) -> None:
        if key not in self._active:
            self._active.add(key)
            warnings.append(line)

    def end(self, key: str) -> None:
        self._active.discard(key)

    def track(self, key: str, active: bool, line: str, warnings: list[str]) -> None:
        """`begin` while `active`, `end` otherwise: one line when an episode starts."""
        if active:
            self.begin(key, line, warnings)
        else:
            self.end(key)


@dataclass
class HeldValue:
    """Last valid value and when it was seen; `get` is None once it is older than the timeout."""

    value: float | None = None
    seen_s: float | None = None

    def update(self, now_s: float, sample: float | None) -> None:
        if sample is not None:
            self.value = sample
            self.seen_s = now_s

    def stale(self, now_s: float, timeout_s: float) -> bool:
        return self.seen_s is not None and now_s - self.seen_s >= timeout_s

    def get(self, now_s: float, timeout_s: float) -> float | None:
        if self.seen_s is None or self.stale(now_s, timeout_s):
            return None
        return self.value


def checked(
    glitches: WarnOnce,
    key: str,
    raw: Any,
    plausible: Callable[[float], bool],
    unit: str,
    allowed: str,
    warnings: list[str],
) -> float | None:
    """A finite, plausible sample or None; a glitch gets one warning line per episode."""
    sample = finite_or_none(raw)
    if sample is None:
        return None
    if not plausible(sample):
        glitches.begin(
            key,
            f"{key} reading {raw!r} {unit} is implausible (allowed {allowed}): "
            "treated as unavailable, last good value held",
            warnings,
        )
        return None
    glitches.end(key)
    return sample
