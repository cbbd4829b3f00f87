"""Shared pytest setup.

appdaemontestframework is not a pytest plugin: its fixtures (`hass_mocks`, `given_that`,
`assert_that`, `time_travel`) come from the star import. The `ad` fixture adds what the framework
lacks for a multi-app system: `run_every` scheduled on the framework's clock (so `time_travel`
drives the hub's cycle), a working `get_app`, and per-app `args` (the framework shares one dict
between all app instances).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from appdaemon.models.config.app import AppConfig
from appdaemon.plugins.hass.hassapi import Hass
from appdaemontestframework.pytest_conftest import *  # noqa: F403
from appdaemontestframework.pytest_conftest import pytest_plugins  # noqa: F401


class AppHarness:
    """Builds apps by name with their own args; `get_app` finds them; `stop` terminates one."""

    def __init__(self, hass_mocks: Any) -> None:
        self.hass_mocks = hass_mocks
        self.apps: dict[str, Hass] = {}

    def __call__(self, cls: type[Hass], name: str, **args: Any) -> Any:
        app = cls(
            self.hass_mocks.AD,
            AppConfig(name=name, module=cls.__module__, **{"class": cls.__name__}),
        )
        # AppDaemon also puts its own keys into self.args; the apps must ignore them.
        app.args = {
            "name": name,
            "module": cls.__module__,
            "class": cls.__name__,
            "config_path": "/conf/apps/apps.yaml",
            **args,
        }
        self.apps[name] = app
        app.initialize()
        return app

    def stop(self, name: str) -> None:
        """What AppDaemon does when an app stops (removed, reloaded): terminate, drop its timers."""
        app = self.apps.pop(name)
        app.terminate()
        sched = self.hass_mocks.AD.sched
        sched._registered_callbacks = [
            cb
            for cb in sched._registered_callbacks
            if getattr(cb.callback_function, "__self__", None) is not app
        ]


@pytest.fixture
def ad(hass_mocks: Any) -> Iterator[Callable[..., Any]]:
    sched = hass_mocks.AD.sched
    harness = AppHarness(hass_mocks)

    def run_every(
        callback: Any, start: Any = None, interval: Any = 0, *args: Any, **kwargs: Any
    ) -> str:
        seconds = (
            interval.total_seconds() if hasattr(interval, "total_seconds") else float(interval)
        )
        now = sched.get_now_sync()
        first = now if start == "immediate" else now + datetime.timedelta(seconds=seconds)
        return sched.insert_schedule_sync(
            "run_every", first, callback, True, "run_every", interval=seconds, **kwargs
        )

    hass_mocks.hass_functions["run_every"].side_effect = run_every
    patch = mock.patch.object(
        Hass, "get_app", lambda self, name: harness.apps.get(name), create=True
    )
    patch.start()
    yield harness
    patch.stop()
