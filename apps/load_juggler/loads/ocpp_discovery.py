"""Finding a charger's entities from its HA device instead of from its charge point id alone.

Users rename entities, and some chargers publish what the integration's defaults do not
assume (Alfen: per-phase current as `_current_import_l1`, `_l2`, `_l3` instead of `L1`..`L3`
attributes). So the app asks HA, once at start, for the entities of the charger's device
(`device:`, a device name or id; by default the device of its status entity) and of the
connector's own device ("<charger device> Connector <n>", which the integration makes when a
charger has more than one connector), maps them by suffix, and uses what it found; separate
per-phase current entities win over attributes. Explicit `entities:` overrides win over both.
Without an answer (HA unreachable, a template error, an unknown device) the derived names stay.

Pure apart from the one `render_template` call handed in.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..config import OcppEntities

#: Entity keys found by the suffix of their object id (`sensor.<anything>_<key>`).
SUFFIX_KEYS = (
    "current_import",
    "current_offered",
    "power_active_import",
    "power_offered",
    "status_connector",
    "voltage",
    "transaction_id",
)
PHASE_KEYS = ("current_import_l1", "current_import_l2", "current_import_l3")

_TEMPLATE = (
    "{%- set d = device_id(ref) or ref -%}"
    "{%- set name = device_attr(d, 'name') or '' -%}"
    "{%- set tail = ' Connector ' ~ conn -%}"
    "{%- set base = name[: name | length - tail | length] if name.endswith(tail) else name -%}"
    "{%- set b = device_id(base) if base else none -%}"
    "{%- set c = device_id(base ~ tail) if base else none -%}"
    "{{ {'device': name, 'charger': device_entities(b or d) | list,"
    " 'connector': (device_entities(c) | list) if c else []} | tojson }}"
)


@dataclass(frozen=True)
class Discovery:
    """What the device listing found, and the entities the app will use."""

    device: str
    found: dict[str, str]
    entities: OcppEntities
    per_phase: bool

    def describe(self, charger: str) -> str:
        """The one line logged at start."""
        e = self.entities
        current = ", ".join(e.current_import)
        how = "separate per-phase entities" if self.per_phase else "L1/L2/L3 attributes"
        missing = [k for k in SUFFIX_KEYS if k not in self.found and k != "current_import"]
        if not self.per_phase and "current_import" not in self.found:
            missing.insert(0, "current_import")
        tail = f"; not on the device (derived name kept): {', '.join(missing)}" if missing else ""
        return (
            f"charger '{charger}': device '{self.device}' lists {len(self.found)} known "
            f"entities; current_import = {current} ({how}), status = {e.status_connector}, "
            f"offered = {e.current_offered}, transaction = {e.transaction_id}{tail}"
        )


def device_template(ref: str, conn_id: int) -> str:
    """The template that lists the entities of the charger's device and of its connector's."""
    return (
        "{%- set ref = "
        + json.dumps(ref)
        + " -%}{%- set conn = "
        + str(conn_id)
        + " -%}"
        + (_TEMPLATE)
    )


def parse_answer(answer: Any) -> tuple[str, list[str]] | None:
    """(device name, entity ids, the connector's first) from the rendered template, or None."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            try:
                answer = ast.literal_eval(answer)
            except (ValueError, SyntaxError):
                return None
    if not isinstance(answer, Mapping):
        return None
    lists = [answer.get("connector"), answer.get("charger")]
    if not all(isinstance(x, list) for x in lists):
        return None
    entities = [e for part in lists for e in part if isinstance(e, str)]
    if not entities:
        return None
    return str(answer.get("device") or "?"), entities


def by_suffix(entity_ids: list[str]) -> dict[str, str]:
    """Key -> the first entity (a sensor) whose object id ends in `_<key>` (or is `<key>`)."""
    found: dict[str, str] = {}
    for entity_id in entity_ids:
        domain, _, object_id = entity_id.partition(".")
        if domain != "sensor":
            continue
        for key in (*SUFFIX_KEYS, *PHASE_KEYS):
            if key not in found and (object_id == key or object_id.endswith(f"_{key}")):
                found[key] = entity_id
    return found


def discover(
    render: Callable[[str], Any],
    ref: str,
    conn_id: int,
    derived: OcppEntities,
    overridden: frozenset[str],
    phases: int,
) -> Discovery | str:
    """The entities to use, or why the device could not be listed (a line to log).

    `derived` are the names from `charger` (and `entities:`); `overridden` the keys the user
    set under `entities:`, which are kept as they are.
    """
    try:
        answer = render(device_template(ref, conn_id))
    except Exception as err:  # HA unreachable, template error, AppDaemon without HA
        return f"{type(err).__name__}: {err}"
    parsed = parse_answer(answer)
    if parsed is None:
        return f"no device '{ref}' with entities in Home Assistant"
    device, entity_ids = parsed
    found = by_suffix(entity_ids)
    chosen: dict[str, Any] = {}
    for key in SUFFIX_KEYS:
        if key in found and key not in overridden and key != "current_import":
            chosen[key] = found[key]
    per_phase = False
    if "current_import" not in overridden:
        lines = [found.get(k) for k in PHASE_KEYS[:phases]]
        if all(lines):
            chosen["current_import"] = tuple(lines)
            per_phase = True
        elif "current_import" in found:
            chosen["current_import"] = (found["current_import"],)
    else:
        per_phase = len(derived.current_import) > 1
    return Discovery(device, found, replace(derived, **chosen), per_phase)
