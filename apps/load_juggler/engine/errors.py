"""The one error type for bad configuration or input, shaped so a user can fix it."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A bad value: names the item, the key, the value and what is allowed.

    `str(err)` is a single line such as
    ``load 'evse1': key 'min_a' = 20 is invalid: must be <= max_a (16)``.
    """

    def __init__(self, item: str, key: str, value: Any, allowed: str) -> None:
        self.item = item
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{item}: key '{key}' = {value!r} is invalid: {allowed}")
