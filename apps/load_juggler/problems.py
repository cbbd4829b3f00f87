"""How an app tells the user its apps.yaml entry is wrong: the same shape for the hub and loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def report_config_problems(
    log: Callable[..., Any], problems: list[str], consequence: str, reloaded: str
) -> None:
    """One ERROR line per problem, then one saying what the app does about it.

    A user scanning the log for ERROR finds every problem at once instead of fixing them one
    reload at a time.
    """
    for problem in problems:
        log(problem, level="ERROR")
    log(
        f"{consequence}: {len(problems)} configuration problem(s) above; "
        f"fix apps.yaml and AppDaemon reloads {reloaded}",
        level="ERROR",
    )
