"""Options as data: one declaration per key gives its type, default, bounds and documentation.

apps.yaml and scenario files read the same keys (`priority`, `min_a`, `site.voltage`, ...). When
each parser spelled out its own bounds they drifted apart; here a key is declared once, and both
read it through the same `Option`: the apps collect every problem (`Option.read` on an
`ArgReader`), a scenario file stops at the first (`Option.check`). The README's option tables are
checked against these declarations (`tests/apps/test_apps_config_schema.py`), so the docs cannot
drift either.

Pure: no AppDaemon import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from ..engine.errors import ConfigError
from .reader import ArgReader


class OptionType(Enum):
    """How a value is read; each maps to one `ArgReader` getter (CUSTOM: the option's `parse`)."""

    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    TEXT = "text"
    ENTITY = "entity"
    CUSTOM = "custom"


#: What a scenario file is told when a key is written but left empty (`min_a:` with no value).
EMPTY_MESSAGE: dict[OptionType, str] = {
    OptionType.NUMBER: "must be a number",
    OptionType.INTEGER: "must be a whole number",
    OptionType.BOOLEAN: "must be true or false",
}

#: `parse(reader, option, default)` for a CUSTOM option: records problems on the reader.
CustomParse = Callable[[ArgReader, "Option", Any], Any]


class _Unset:
    """Marks "use the option's own default" (None is a real default: "not configured")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Option:
    """One key: its type, default, bounds (`above` is exclusive) and the README's wording.

    `shown_default` is what the README's default column says; it is derived from `default`
    unless the default is computed from other keys (`refresh_s`: "2/3 of `validity_s`").
    """

    name: str
    type: OptionType
    default: Any = None
    doc: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    choices: tuple[Any, ...] = ()
    domains: tuple[str, ...] | None = None
    default_doc: str | None = None
    parse: CustomParse | None = None

    @property
    def key(self) -> str:
        """The key within its section (`current_import` for `entities.current_import`)."""
        return self.name.rsplit(".", 1)[-1]

    def read(self, r: ArgReader, default: Any = UNSET) -> Any:
        """The value from `r`, or `default` (the option's own unless given) after a problem."""
        value = self.default if default is UNSET else default
        key, required = self.key, self.required
        if self.type is OptionType.NUMBER:
            return r.number(
                key,
                value,
                minimum=self.minimum,
                maximum=self.maximum,
                above=self.above,
                required=required,
            )
        if self.type is OptionType.INTEGER:
            return r.integer(
                key,
                value,
                minimum=None if self.minimum is None else int(self.minimum),
                maximum=None if self.maximum is None else int(self.maximum),
                choices=self.choices or None,
                required=required,
            )
        if self.type is OptionType.BOOLEAN:
            return r.boolean(key, value)
        if self.type is OptionType.CHOICE:
            return r.choice(key, value, [str(c) for c in self.choices])
        if self.type is OptionType.TEXT:
            return r.string(key, value, required=required)
        if self.type is OptionType.ENTITY:
            return r.entity(key, self.domains, required=required)
        if self.parse is None:
            raise TypeError(f"option {self.name} is CUSTOM but has no parse function")
        return self.parse(r, self, value)

    def check(self, item: str, value: Any, default: Any = UNSET) -> Any:
        """One value as a scenario file gives it: the value read, or the first problem raised.

        A key written without a value is refused (a scenario has no "left out" for it).
        """
        if value is None and self.type in EMPTY_MESSAGE:
            raise ConfigError(item, self.key, value, EMPTY_MESSAGE[self.type])
        r = ArgReader(item, {self.key: value})
        result = self.read(r, default)
        if r.errors:
            raise r.errors[0]
        return result

    def with_default(self, default: Any) -> Option:
        return replace(self, default=default)

    @property
    def shown_default(self) -> str:
        """The README's default column for this option."""
        if self.default_doc is not None:
            return self.default_doc
        if self.required:
            return "required"
        return _shown(self.default)


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, str):
        return f"`{value}`"
    return f"{value:g}"


@dataclass(frozen=True)
class Schema:
    """The options of one kind of thing (a load kind, the site), in the order they are read."""

    name: str
    options: tuple[Option, ...]

    def __post_init__(self) -> None:
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"schema {self.name} declares an option twice: {names}")

    def __getitem__(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(f"schema {self.name} has no option {name}")

    def __iter__(self) -> Iterator[Option]:
        return iter(self.options)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)

    def default(self, name: str) -> Any:
        return self[name].default

    def with_defaults(self, name: str, **defaults: Any) -> Schema:
        """The same options under another name with some defaults changed (a kind's own)."""
        unknown = set(defaults) - set(self.names)
        if unknown:
            raise KeyError(f"schema {self.name} has no option {sorted(unknown)}")
        return Schema(
            name,
            tuple(
                o.with_default(defaults[o.name]) if o.name in defaults else o for o in self.options
            ),
        )

    def __add__(self, other: Schema) -> Schema:
        return Schema(self.name, self.options + other.options)
