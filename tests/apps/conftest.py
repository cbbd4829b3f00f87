"""App-test setup: AppDaemon's `render_template` has no Home Assistant behind it here.

The framework does not mock it, and the real method is a coroutine that would be created and
never awaited. Every app test sees a template call fail as it does without HA; a test that
lists a device patches it with its own answer (`test_apps_ocpp_discovery.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from appdaemon.plugins.hass.hassapi import Hass


def _no_templates(self: Any, template: str, *args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("no Home Assistant to render templates in app tests")


@pytest.fixture(autouse=True)
def no_templates() -> Iterator[None]:
    with mock.patch.object(Hass, "render_template", _no_templates):
        yield
