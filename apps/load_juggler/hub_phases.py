"""What the hub does with what the controller learned of the wiring (`engine.phase_watch`).

Each cycle: a finding the user should act on (a phase map that looks wrong, a remap, a grid
meter that reads backwards) is logged at WARNING and sent as a Home Assistant persistent
notification saying what to change in apps.yaml; a change of the lines a car uses is logged at
INFO. What was learned goes to the hub's state file (sections `phase_maps`, `phase_scores`,
`phases_in_use`), so an AppDaemon restart keeps it; at start it is read back, and whatever in
it cannot be used is logged and skipped. Every multi-line charger gets
`sensor.load_juggler_<app>_phases_in_use` (`L1`, `L1 L2`, `L1 L2 L3`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .config import slugify
from .engine.control_types import CycleResult
from .engine.controller import Controller
from .engine.model import Load
from .engine.phase_watch import SECTION_IN_USE, SECTION_MAPS, SECTION_SCORES, PhaseEvent
from .loads.entities import EntityPublisher, sensor_attrs
from .state_file import StateFile

#: The persistent notification service.
NOTIFY_SERVICE = "persistent_notification/create"
SECTIONS = (SECTION_MAPS, SECTION_SCORES, SECTION_IN_USE)

LogFn = Callable[[str, str], None]
CallService = Callable[..., Any]


def restore(controller: Controller, state: StateFile, log: LogFn) -> None:
    """Give the controller what the state file kept; a bad entry is logged and skipped."""
    sections = {section: state.get(section) for section in SECTIONS}
    if not any(sections.values()):
        return
    for problem in controller.restore_phases(sections):
        log(f"state file: {problem}: ignored", "WARNING")
    maps = controller.phase_watch.remapped
    if maps:
        shown = ", ".join(f"{name} on {phase}" for name, phase in sorted(maps.items()))
        log(f"learned phase maps restored: {shown}", "INFO")


def phases_in_use_entity(name: str) -> str:
    return f"sensor.load_juggler_{slugify(name)}_phases_in_use"


class PhaseNews:
    """Tells, keeps and publishes what one hub's controller learned of the wiring."""

    def __init__(self, hub: str, log: LogFn, call_service: CallService) -> None:
        self.hub = hub
        self._log = log
        self._call_service = call_service

    def cycle(
        self,
        result: CycleResult,
        controller: Controller,
        state: StateFile,
        publisher: EntityPublisher,
        loads: Iterable[Load],
        now_s: float,
    ) -> None:
        for event in result.phase_events:
            self._tell(event)
        for section, value in controller.phase_watch.state().items():
            try:
                state.put(section, value)
            except TypeError as err:  # a programming error: never stop the cycle for it
                self._log(f"state file section {section} not kept: {err}", "ERROR")
        watch = controller.phase_watch
        for load in loads:
            label = watch.lines_label(load.id)
            if label is None:
                continue
            publisher.publish(
                phases_in_use_entity(load.id),
                label,
                sensor_attrs(
                    f"{load.id} phases in use",
                    state_class=None,
                    icon="mdi:sine-wave",
                    lines=len(label.split()),
                ),
                now_s,
            )

    def _tell(self, event: PhaseEvent) -> None:
        if not event.notify:
            self._log(event.message, "INFO")
            return
        self._log(event.message, "WARNING")
        target = event.load_id or "site"
        try:
            self._call_service(
                NOTIFY_SERVICE,
                title="Load Juggler: check the wiring",
                message=event.message,
                notification_id=f"load_juggler_{slugify(self.hub)}_{event.kind}_{slugify(target)}",
            )
        except Exception as err:  # a notification must never stop the cycle
            self._log(f"could not send the notification ({err}): {event.message}", "WARNING")


def status_attributes(controller: Controller, loads: Iterable[Load]) -> dict[str, Any]:
    """The hub status entity's `detected_phase_map` (per load app whose evidence says another
    map than configured) and `grid_inverted` (the grid meter reads backwards)."""
    watch = controller.phase_watch
    detected = {}
    for load in loads:
        found = watch.detected_map(load.id)
        if found is not None:
            detected[load.id] = list(found)
    return {"detected_phase_map": detected, "grid_inverted": watch.grid_inverted}
