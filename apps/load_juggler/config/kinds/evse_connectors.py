"""An OCPP charger with several plugs: `connectors:` as a list, and the unit they share.

One `OcppCharger` app per physical charger; each entry of its `connectors:` list is a load of
its own (`<app>_<name>`) that reads and writes its connector (`conn_id`) exactly as a
single-connector charger app does. So a connector's options are the app's options with the
entry's keys on top, parsed by the same `parse_ocpp`: one parser, one set of messages.
`unit_max_a` and `concurrent` belong to the charger as a whole (`model.ChargeUnit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...engine.model import ChargeUnit
from ..load_config import LoadConfigError, slugify
from ..reader import APPDAEMON_KEYS, ArgReader
from .evse import EVSE_OPTIONS, EVSE_SCHEMA

#: What a connector entry may set; everything else is the charger's.
CONNECTOR_KEYS = (
    "conn_id",
    "name",
    "priority",
    "mode",
    "mode_select",
    "fix_mode_options",
    "min_a",
    "max_a",
    "phases",
    "phase_map",
    "failsafe_a",
    "profile_id",
    "failsafe_profile_id",
    "entities",
)
#: Keys of the charger as a whole, not handed to its connectors.
UNIT_KEYS = ("connectors", "unit_max_a", "concurrent")


@dataclass(frozen=True)
class ConnectorPlan:
    """One connector as a load: its name, where its options came from, the args it parses."""

    name: str
    item: str
    args: dict[str, Any]


@dataclass(frozen=True)
class ChargerPlan:
    """A charger with a list of connectors: the unit they share and each connector's load."""

    unit: ChargeUnit
    connectors: tuple[ConnectorPlan, ...]


def has_connector_list(args: Mapping[str, Any]) -> bool:
    return isinstance(args.get("connectors"), list)


def split_connectors(app: str, args: Mapping[str, Any]) -> ChargerPlan:
    """The unit and the per-connector args of an app whose `connectors:` is a list.

    Raises LoadConfigError listing every problem of the list and of the unit keys; the
    connectors' own options are checked when each connector parses its args.
    """
    r = ArgReader(f"app '{app}'", args, ignore=APPDAEMON_KEYS)
    entries = args.get("connectors")
    assert isinstance(entries, list)
    if len(entries) < 2:
        r.error(
            "connectors",
            entries,
            "a list of two or more connectors (each with conn_id); a charger with one "
            "connector needs no list",
        )
    unit_max_a = EVSE_OPTIONS["unit_max_a"].read(r)
    concurrent = bool(EVSE_OPTIONS["concurrent"].read(r))
    shared = {k: v for k, v in args.items() if k not in UNIT_KEYS}
    count = max([len(entries), *(_conn_id(e) for e in entries)])
    plans: list[ConnectorPlan] = []
    seen_ids: dict[int, int] = {}
    seen_names: dict[str, int] = {}
    for n, entry in enumerate(entries):
        key = f"connectors[{n}]"
        if not isinstance(entry, Mapping):
            r.error(key, entry, "must be a mapping with conn_id and the connector's own keys")
            continue
        for unknown in sorted(set(entry) - set(CONNECTOR_KEYS)):
            r.error(
                f"{key}.{unknown}",
                entry[unknown],
                f"not a connector key; a connector may set: {', '.join(CONNECTOR_KEYS)}"
                + ("; the charger's keys go on the app" if unknown in EVSE_SCHEMA.names else ""),
            )
        conn_id = entry.get("conn_id")
        if isinstance(conn_id, bool) or not isinstance(conn_id, int) or not 1 <= conn_id <= 16:
            r.error(f"{key}.conn_id", conn_id, "required: a whole number from 1 to 16")
            continue
        if conn_id in seen_ids:
            r.error(f"{key}.conn_id", conn_id, f"already used by connectors[{seen_ids[conn_id]}]")
            continue
        seen_ids[conn_id] = n
        raw_name = entry.get("name", f"connector_{conn_id}")
        name = slugify(str(raw_name)) if isinstance(raw_name, str | int) else ""
        if not name:
            r.error(f"{key}.name", raw_name, "must be a short text (letters, digits, _)")
            continue
        if name in seen_names:
            r.error(f"{key}.name", raw_name, f"already used by connectors[{seen_names[name]}]")
            continue
        seen_names[name] = n
        own = {k: v for k, v in entry.items() if k != "name"}
        merged: dict[str, Any] = {**shared, **own, "connectors": count}
        if isinstance(shared.get("entities"), Mapping) and isinstance(own.get("entities"), Mapping):
            merged["entities"] = {**shared["entities"], **own["entities"]}
        plans.append(ConnectorPlan(f"{app}_{name}", f"app '{app}' {key} ('{name}')", merged))
    if r.errors:
        raise LoadConfigError(r.errors)
    return ChargerPlan(ChargeUnit(app, unit_max_a, concurrent), tuple(plans))


def _conn_id(entry: Any) -> int:
    value = entry.get("conn_id") if isinstance(entry, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def load_entries(
    app: str, args: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any], ChargeUnit | None]]:
    """The loads an OCPP charger app makes, as (name, args, unit): itself, or one per entry of
    its `connectors:` list (for tools that read apps.yaml as the apps do: the simulator)."""
    if not has_connector_list(args):
        return [(app, dict(args), None)]
    plan = split_connectors(app, args)
    return [(part.name, part.args, plan.unit) for part in plan.connectors]
