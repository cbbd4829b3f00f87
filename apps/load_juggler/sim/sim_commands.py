"""A scenario timeline's `commands:`, carried out by the hub's own `CommandDesk`.

```yaml
timeline:
  - {t: 300, commands: [{command: boost, load: evse1, energy_kwh: 2}]}
```
Each entry is checked when the scenario is read (`parse_command`, the hub's checker, at the
entry's time) and carried out by the same desk the hub uses, so a timed mode, a boost counted
in delivered energy, a pause or a narrowed current range act as they do live. The mode in force
comes from the same `effective_mode` rules as a load app's: a timeline `mode` change stands for
the HA select and, like a change by hand, ends a set_mode command that came before it.
`reset_charger` is refused: the simulated chargers keep no profiles. A command that is refused
only at run time (resume a load that is not paused) is a message of the run, as in the hub's log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from ..command_schema import CommandError, CommandRequest, CommandTarget, parse_command
from ..commands import CommandDesk
from ..engine.control_types import SiteConfig
from ..engine.errors import ConfigError
from ..engine.model import Load, Mode
from ..loads.effective_mode import ModeInputs, effective_mode
from ..state_file import StateFile
from .scenario_values import listed, mapping

#: Commands a simulation cannot carry out, and why.
NOT_SIMULATED = {"reset_charger": "the simulated chargers keep no charging profiles"}


def scenario_clock(t_s: float, start_s: float = 0.0, zone: tzinfo = UTC) -> datetime:
    """The scenario's wall clock at t: `start` + t in `start`'s offset (without a `start`,
    t = 0 is 1970-01-01 00:00 UTC, so `until: "07:00"` is t = 25200)."""
    return datetime.fromtimestamp(start_s + t_s, zone)


def parse_commands(
    item: str,
    raw: Any,
    t_s: float,
    loads: Sequence[Load],
    start_s: float = 0.0,
    zone: tzinfo = UTC,
) -> tuple[CommandRequest, ...]:
    """The `commands:` list of timeline entry `item` at time `t_s`, each checked as the hub
    checks an HA event on the scenario's wall clock (`start_s`, `zone`: the scenario's `start`),
    so `until: "22:00"` is 22:00 where a deadline's "07:00" is (the run's desk counts on that
    clock too); the first problem raised, naming the entry (`commands[1]`)."""
    targets = {ld.id: CommandTarget(ld.id, ld.kind, ld.min_a, ld.max_a) for ld in loads}
    requests: list[CommandRequest] = []
    for index, entry in enumerate(listed(item, "commands", raw)):
        key = f"commands[{index}]"
        data = mapping(item, key, entry)
        command = data.get("command")
        if command in NOT_SIMULATED:
            raise ConfigError(item, key, dict(data), f"{command}: {NOT_SIMULATED[command]}")
        try:
            request = parse_command(data, scenario_clock(t_s, start_s, zone), zone, targets)
        except CommandError as err:
            raise ConfigError(item, key, dict(data), str(err)) from None
        requests.append(request)
    return tuple(requests)


class SimCommands:
    """The overrides of one run, and the modes and plant they make."""

    def __init__(self) -> None:
        self.desk = CommandDesk(StateFile(None, lambda line, level: None))
        #: When the timeline last changed each load's live mode (the select, by hand).
        self._mode_changed_s: dict[str, float] = {}

    def mode_changed(self, load_id: str, t_s: float) -> None:
        self._mode_changed_s[load_id] = t_s

    def carry_out(
        self, requests: Sequence[CommandRequest], t_s: float, configured: Mapping[str, Load]
    ) -> list[str]:
        """Carry out one entry's commands; the log line of each."""
        targets = {
            name: CommandTarget(name, ld.kind, ld.min_a, ld.max_a)
            for name, ld in configured.items()
        }
        lines = []
        for request in requests:
            try:
                outcome = self.desk.carry_out(request, t_s, targets)
            except CommandError as err:
                lines.append(f"command refused: {err}")
            else:
                lines.append(f"command {request.command}: {outcome.message}")
        return lines

    def upkeep(self, t_s: float, delivered_wh: Mapping[str, float]) -> list[str]:
        """Count boost energy, end what is due (as the hub does every cycle)."""
        lines, _changed = self.desk.upkeep(t_s, delivered_wh, self._mode_changed_s)
        return [f"override: {line}" for line in lines]

    def modes(self, live: Mapping[str, str], t_s: float) -> dict[str, str]:
        """Each load's mode in force: its live mode unless an override rules."""
        result = dict(live)
        for load_id in self.desk.names():
            if load_id not in live:
                continue
            mode = Mode(live[load_id])
            choice = effective_mode(
                ModeInputs(
                    now_s=t_s,
                    configured=mode,
                    select_mode=mode,
                    select_changed_s=self._mode_changed_s.get(load_id),
                    override=self.desk.override_of(load_id),
                )
            )
            result[load_id] = choice.mode.value
        return result

    def shaped(self, config: SiteConfig, configured: Mapping[str, Load]) -> SiteConfig:
        """`config` with the commanded distribution and current ranges (inside the configured
        ones, as a load app narrows its engine load)."""
        distribution = self.desk.distribution
        if distribution is not None and config.site.distribution is not distribution:
            config = replace(config, site=replace(config.site, distribution=distribution))
        loads = []
        for ld in config.loads:
            base = configured.get(ld.id, ld)
            override = self.desk.override_of(ld.id)
            max_a, min_a = base.max_a, base.min_a
            if override is not None and override.max_a is not None:
                max_a = min(max_a, override.max_a)
            if override is not None and override.min_a is not None:
                min_a = max(min_a, override.min_a)
            loads.append(replace(ld, min_a=min(min_a, max_a), max_a=max_a))
        shaped = tuple(loads)
        return config if shaped == config.loads else replace(config, loads=shaped)
