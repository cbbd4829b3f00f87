"""A strict reader for one app's `self.args` that collects every problem, not just the first.

Users edit apps.yaml by hand; a typo found one restart at a time is a bad experience. Every getter
here records a `ConfigError` (app, key, value, what is allowed) and returns a usable fallback, so a
parse reports all problems at once. Keys nobody asked for are reported as unknown, with the nearest
allowed key as a hint (`max_amps` -> did you mean `max_a`?).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..engine.errors import ConfigError

#: Keys AppDaemon itself puts into `self.args` (AppConfig fields and app-level constraints).
APPDAEMON_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "config_path",
        "module",
        "class",
        "dependencies",
        "global_dependencies",
        "disable",
        "priority",
        "pin_app",
        "pin_thread",
        "log",
        "log_level",
        "plugin",
        "global",
    }
)

_ENTITY_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_SLUG_RE = re.compile(r"^[a-z0-9_]+$")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_float(value: Any) -> float | None:
    """A finite number from a YAML value: 25, 25.0, "25", "1.0" and "5e3" alike.

    YAML 1.1 (PyYAML, AppDaemon) reads `5e3` (no dot) and quoted numbers as strings; they are
    accepted the same way everywhere so one spelling does not work for one key and not another.
    Booleans are not numbers.
    """
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


class ArgReader:
    """Reads typed values from a mapping; records problems under `item` with a dotted key path."""

    def __init__(
        self,
        item: str,
        args: Mapping[str, Any],
        *,
        path: str = "",
        errors: list[ConfigError] | None = None,
        ignore: frozenset[str] = frozenset(),
    ) -> None:
        self.item = item
        self.args = args
        self.path = path
        self.errors: list[ConfigError] = [] if errors is None else errors
        self._ignore = ignore
        self._seen: set[str] = set()

    # -- plumbing

    def key(self, key: str) -> str:
        """The dotted path of `key`, as shown in messages (`site.voltage`)."""
        return f"{self.path}{key}"

    def error(self, key: str, value: Any, allowed: str) -> None:
        """Record one problem with `key` (relative to this reader)."""
        self.errors.append(ConfigError(self.item, self.key(key), value, allowed))

    def has(self, key: str) -> bool:
        self._seen.add(key)
        return key in self.args and self.args[key] is not None

    def raw(self, key: str, default: Any = None) -> Any:
        self._seen.add(key)
        value = self.args.get(key, default)
        return default if value is None else value

    def errors_for(self, *keys: str) -> bool:
        """Whether a problem was already recorded for one of `keys` (to avoid a second message)."""
        wanted = {self.key(k) for k in keys}
        return any(e.key in wanted for e in self.errors)

    def finish(self) -> None:
        """Report keys that no getter asked for; call after all reads of this level."""
        allowed = sorted(self._seen)
        for key in self.args:
            if key in self._seen or key in self._ignore:
                continue
            if isinstance(key, str) and key.startswith("constrain_") and not self.path:
                continue  # AppDaemon app constraints (constrain_input_boolean, ...)
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            self.error(
                str(key), self.args[key], f"unknown key; {hint}allowed: {', '.join(allowed)}"
            )

    def section(self, key: str) -> ArgReader:
        """A reader for a nested mapping; a missing section reads as empty (all defaults)."""
        value = self.raw(key, {})
        if not isinstance(value, Mapping):
            self.error(key, value, "must be a mapping of keys to values")
            value = {}
        return ArgReader(self.item, value, path=f"{self.key(key)}.", errors=self.errors)

    # -- typed getters

    def number(
        self,
        key: str,
        default: float | None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        above: float | None = None,
        required: bool = False,
    ) -> float | None:
        """A finite number within bounds (`above` is exclusive). Numeric strings are accepted."""
        if not self.has(key):
            if required:
                self.error(key, None, "required: a number")
            return default
        value = self.args[key]
        number = _as_float(value)
        if number is None:
            self.error(key, value, "must be a number")
            return default
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum:g}")
        if above is not None:
            bounds.append(f"> {above:g}")
        if maximum is not None:
            bounds.append(f"<= {maximum:g}")
        if (
            (minimum is not None and number < minimum)
            or (above is not None and number <= above)
            or (maximum is not None and number > maximum)
        ):
            self.error(key, value, "must be a number " + " and ".join(bounds))
            return default
        return number

    def integer(
        self,
        key: str,
        default: int | None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: Sequence[int] | None = None,
        required: bool = False,
    ) -> int | None:
        if not self.has(key):
            if required:
                self.error(key, None, "required: a whole number")
            return default
        value = self.args[key]
        number_f = _as_float(value)
        if number_f is None or not number_f.is_integer():
            self.error(key, value, "must be a whole number")
            return default
        number = int(number_f)
        if choices is not None and number not in choices:
            self.error(key, value, "must be one of " + ", ".join(str(c) for c in choices))
            return default
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            low = "" if minimum is None else f">= {minimum}"
            high = "" if maximum is None else f"<= {maximum}"
            self.error(
                key, value, "must be a whole number " + " and ".join(b for b in (low, high) if b)
            )
            return default
        return number

    def boolean(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        value = self.args[key]
        if isinstance(value, bool):
            return value
        self.error(key, value, "must be true or false")
        return default

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        """One of `choices`, compared case-insensitively; returns the canonical spelling."""
        if not self.has(key):
            return default
        value = self.args[key]
        if isinstance(value, str):
            for choice in choices:
                if value.strip().lower() == choice.lower():
                    return choice
        self.error(key, value, "must be one of " + ", ".join(choices))
        return default

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        if not self.has(key):
            if required:
                self.error(key, None, "required: a text value")
            return default
        value = self.args[key]
        if isinstance(value, str) and value.strip():
            return value.strip()
        if _is_number(value):
            return str(value)
        self.error(key, value, "must be a non-empty text value")
        return default

    def slug(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        """An identifier usable in entity ids: lower-case letters, digits and '_'."""
        value = self.string(key, default, required=required)
        if value is not None and value is not default and not _SLUG_RE.match(value):
            self.error(key, value, "must use only lower-case letters, digits and '_'")
            return default
        return value

    def entity(
        self, key: str, domains: Sequence[str] | None = None, *, required: bool = False
    ) -> str | None:
        """An entity id, optionally restricted to some domains (`switch`, `input_boolean`)."""
        if not self.has(key):
            if required:
                what = " or ".join(f"{d}.*" for d in domains) if domains else "an entity id"
                self.error(key, None, f"required: {what}")
            return None
        return self._check_entity(key, self.args[key], domains)

    def _check_entity(self, key: str, value: Any, domains: Sequence[str] | None) -> str | None:
        if not isinstance(value, str) or not _ENTITY_RE.match(value.strip()):
            self.error(key, value, "must be an entity id such as sensor.grid_current_l1")
            return None
        value = value.strip()
        if domains and value.split(".", 1)[0] not in domains:
            self.error(key, value, "must be an entity of domain " + " or ".join(domains))
            return None
        return value

    def entities(
        self, key: str, *, lengths: Sequence[int], domains: Sequence[str] | None = None
    ) -> tuple[str, ...] | None:
        """One entity id, or a list of them whose length is one of `lengths`."""
        if not self.has(key):
            return None
        value = self.args[key]
        if isinstance(value, str):
            one = self._check_entity(key, value, domains)
            return None if one is None else (one,)
        if isinstance(value, Sequence) and len(value) in lengths:
            checked = [self._check_entity(key, v, domains) for v in value]
            if any(c is None for c in checked):
                return None
            return tuple(c for c in checked if c is not None)
        counts = " or ".join(str(n) for n in lengths)
        self.error(key, value, f"must be one entity id or a list of {counts} entity ids")
        return None

    def names(self, key: str, *, length: int | None = None) -> tuple[str, ...] | None:
        """A list of names (phases, attributes, apps); a single name is a list of one."""
        if not self.has(key):
            return None
        value = self.args[key]
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, Sequence)
            or not all(isinstance(v, str) and v.strip() for v in value)
            or (length is not None and len(value) != length)
        ):
            count = f"{length} " if length is not None else ""
            self.error(key, value, f"must be a list of {count}names")
            return None
        return tuple(v.strip() for v in value)
