"""What the hub logs each cycle: the allocation when it changes, one DEBUG line otherwise.

A hub cycling every 5 s must not repeat the same allocation at INFO all day: the line comes when
a load's command, state or the site's status changes, and the quiet cycles get a DEBUG line with
the readings behind them. The controller's messages come first, at INFO while the site is OK and
at WARNING otherwise.

Pure: no AppDaemon import; `lines` returns (line, level) pairs for the hub's logger.
"""

from __future__ import annotations

from typing import Any

from .engine.control_types import Command, CycleResult, Readings, SiteStatus


class CycleLog:
    """Remembers the last logged allocation, to log the next one only when it differs."""

    def __init__(self) -> None:
        self._last_table: tuple[Any, ...] | None = None
        self._last_status: SiteStatus | None = None

    def lines(self, result: CycleResult, readings: Readings) -> list[tuple[str, str]]:
        """This cycle's log lines as (line, level)."""
        out: list[tuple[str, str]] = []
        for message in result.messages:
            out.append((message, "INFO" if result.status is SiteStatus.OK else "WARNING"))
        table = tuple(
            (name, cmd.on, round(cmd.current_a, 1), cmd.state.value)
            for name, cmd in sorted(result.commands.items())
        )
        summary = summary_of(result.commands) or "no loads"
        if table != self._last_table or result.status is not self._last_status:
            out.append((f"allocation [{result.status.value}]: {summary}", "INFO"))
        else:
            out.append(
                (
                    f"cycle [{result.status.value}]: grid {_fmt(readings.grid_a)} A, solar "
                    f"{_fmt(readings.solar_w)} W, battery {_fmt(readings.battery_soc_pct)} % "
                    f"{_fmt(readings.battery_power_w)} W; {summary}",
                    "DEBUG",
                )
            )
        self._last_table = table
        self._last_status = result.status
        return out


def summary_of(commands: dict[str, Command]) -> str:
    """`car 16 A charging (max current); heater off off (mode off)`, sorted by load name."""
    parts = []
    for name, cmd in sorted(commands.items()):
        value = f"{cmd.current_a:g} A" if cmd.on else "off"
        parts.append(f"{name} {value} {cmd.state.value} ({cmd.reason})")
    return "; ".join(parts)


def _fmt(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, tuple | list):
        return "/".join(_fmt(v) for v in value)
    return f"{value:g}" if isinstance(value, float | int) else str(value)
