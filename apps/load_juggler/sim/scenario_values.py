"""How a scenario file's values are checked: the apps' options, raising at the first problem.

Shared options (`priority`, `site.voltage`, ...) are declared once in `config/` and read here
through `Option.check` or the apps' own section readers (`read_site`, ...), then `first_problem`
raises what they recorded. The helpers below cover what only a scenario file has: its
structure (mappings, lists, known keys) and spellings kept from its own format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import ArgReader
from ..config.schema import EMPTY_MESSAGE, Option, OptionType, Schema
from ..engine.errors import ConfigError


def plain(number: float) -> str:
    """A number as a person writes it: 31536000, 57.5 (not 3.1536e+07)."""
    return f"{number:.0f}" if float(number).is_integer() else f"{number:g}"


def first_problem(reader: ArgReader) -> None:
    """Raise the first problem a shared reader recorded (a scenario stops at one)."""
    if reader.errors:
        raise reader.errors[0]


def refuse_empty(item: str, data: Mapping[str, Any], schema: Schema) -> None:
    """A key of `schema` written without a value is refused, unless "none" is its default."""
    for option in schema:
        key = option.key
        empty = key in data and data[key] is None and option.type in EMPTY_MESSAGE
        if empty and (option.default is not None or option.required):
            raise ConfigError(item, key, None, EMPTY_MESSAGE[option.type])


def number(item: str, key: str, value: Any, **bounds: Any) -> float:
    """A scenario-only number, read as the apps read one (`"25"`, `5e3`; not NaN or inf)."""
    return float(Option(key, OptionType.NUMBER, **bounds).check(item, value))


def positive(item: str, key: str, value: Any) -> float:
    return number(item, key, value, above=0.0)


def non_negative(item: str, key: str, value: Any) -> float:
    return number(item, key, value, minimum=0.0)


def pct(item: str, key: str, value: Any) -> float:
    return number(item, key, value, minimum=0.0, maximum=100.0)


def boolean(item: str, key: str, value: Any) -> bool:
    return bool(Option(key, OptionType.BOOLEAN).check(item, value))


def text(item: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(item, key, value, "must be a non-empty string")
    return value


def choice(item: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    """Exactly one of `allowed` (a scenario's own keys: `type`, faults, `metering`)."""
    if value not in allowed:
        raise ConfigError(item, key, value, "must be one of: " + ", ".join(allowed))
    return str(value)


def mapping(item: str, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(item, key, value, "must be a mapping (key: value)")
    return value


def listed(item: str, key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(item, key, value, "must be a list")
    return value


def known_keys(item: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                item, str(key), data[key], "unknown key; allowed: " + ", ".join(allowed)
            )
