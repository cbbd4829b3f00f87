"""The options every load kind has, and the reader of that common part of a load app's args.

A kind's schema is `COMMON_OPTIONS.with_defaults(...)` (its own `mode` and `phases` defaults)
plus its own options; `read_common` reads the common part through that schema, so a charger
and a plug apply the same rules to `priority` or `phase_map`, in apps.yaml and scenario files.
"""

from __future__ import annotations

from typing import Any

from ...engine.model import SITE_PHASES, LoadKind, Mode
from ..load_config import LoadSettings, parse_mode
from ..reader import ArgReader
from ..schedule import read_schedule
from ..schema import Option, OptionType, Schema

#: What `mode` allows, in every message about it (apps.yaml and scenario files).
MODE_ALLOWED = "must be one of " + ", ".join(m.value for m in Mode)


def _read_mode(r: ArgReader, option: Option, default: Any) -> Mode:
    """`Solar Priority`, `solar_priority`, `solar-priority`; an unquoted `off` (false) is off."""
    if not r.has(option.key):
        return default
    raw = r.raw(option.key)
    parsed = parse_mode(raw)
    if parsed is None:
        r.error(option.key, raw, MODE_ALLOWED)
        return default
    return parsed


def _read_phase_map(r: ArgReader, option: Option, default: Any) -> tuple[str, ...]:
    """The site phase of each load line; `default` (the first `phases` site phases) also
    says how many lines there are. Any case; a phase may repeat ([A, A, A]: a 3-phase
    charger on a 1-phase supply). `auto` is the default map, which the hub may then correct
    from what the meters show (see `is_auto_phase_map`)."""
    phases = len(default)
    if is_auto_phase_map(r.raw(option.key)):
        return tuple(default)
    names = r.names(option.key)
    if names is None:
        return tuple(default)
    upper = tuple(n.upper() for n in names)
    if len(upper) != phases or any(p not in SITE_PHASES for p in upper):
        r.error(
            option.key,
            list(names),
            f"must list {phases} site phase(s) of A, B, C (the site phase of L1, L2, L3)",
        )
        return tuple(default)
    return upper


def _read_schedule(r: ArgReader, option: Option, default: Any) -> tuple[Any, ...]:
    return read_schedule(r, option.key)


def is_auto_phase_map(value: object) -> bool:
    """`phase_map: auto` (any case): start from the default map, remap on evidence."""
    return isinstance(value, str) and value.strip().lower() == "auto"


def read_phase_map(r: ArgReader, phases: int) -> tuple[str, ...]:
    """`phase_map` for a load of `phases` lines (default: the first `phases` site phases)."""
    return COMMON_OPTIONS["phase_map"].read(r, SITE_PHASES[:phases])


COMMON_OPTIONS = Schema(
    "load",
    (
        Option("hub", OptionType.TEXT, required=True, doc="the hub's app name"),
        Option(
            "priority",
            OptionType.INTEGER,
            5,
            minimum=1,
            maximum=10,
            doc="1 (served first) .. 10 within one mode; ties by app name",
        ),
        Option(
            "mode",
            OptionType.CUSTOM,
            Mode.CONTINUOUS,
            parse=_read_mode,
            doc="continuous, solar_priority, solar_only, excess, off",
        ),
        Option(
            "mode_select",
            OptionType.ENTITY,
            domains=("input_select",),
            doc="an input_select whose option is the live mode",
        ),
        Option(
            "schedule",
            OptionType.CUSTOM,
            (),
            parse=_read_schedule,
            default_doc="none",
            doc="weekly mode windows: a list of `{days, from, to, mode}`",
        ),
        Option(
            "fix_mode_options",
            OptionType.BOOLEAN,
            False,
            doc="set the select's options when some are missing",
        ),
        Option("phases", OptionType.INTEGER, 3, choices=(1, 2, 3), doc="1, 2 or 3"),
        Option(
            "phase_map",
            OptionType.CUSTOM,
            SITE_PHASES,
            parse=_read_phase_map,
            default_doc="`[A, B, C]` (first `phases` of them)",
            doc="the site phase of the load's L1 (L2, L3); `auto`: the default, then "
            "the phase a 1-phase load's draw shows on (same as `auto_remap: true`)",
        ),
        Option(
            "auto_remap",
            OptionType.BOOLEAN,
            False,
            doc="1-phase loads: move the load to the site phase its draw shows on (else only tell)",
        ),
        Option(
            "circuit",
            OptionType.TEXT,
            default_doc="none (main breaker)",
            doc="a circuit id of the hub",
        ),
    ),
)


def read_common(r: ArgReader, name: str, kind: LoadKind, schema: Schema) -> LoadSettings:
    """The common options, then the kind's current range (`min_a`, `max_a`: a charger) or
    rated power (`power_w`: a plug), in the order problems are reported."""
    o = schema
    hub = o["hub"].read(r) or ""
    priority = o["priority"].read(r) or o.default("priority")
    mode = o["mode"].read(r)
    mode_select = o["mode_select"].read(r)
    schedule = o["schedule"].read(r)
    fix = o["fix_mode_options"].read(r)
    phases = o["phases"].read(r) or o.default("phases")
    auto_map = is_auto_phase_map(r.raw("phase_map"))
    phase_map = o["phase_map"].read(r, SITE_PHASES[:phases])
    auto_remap = bool(o["auto_remap"].read(r)) or auto_map
    circuit = o["circuit"].read(r)
    min_a, max_a = 6.0, 16.0
    power_w: float | None = None
    if "min_a" in o.names:
        min_a = o["min_a"].read(r) or o.default("min_a")
        max_a = o["max_a"].read(r) or o.default("max_a")
        if min_a > max_a:
            r.error("min_a", min_a, f"must be <= max_a ({max_a:g})")
    if "power_w" in o.names:
        power_w = o["power_w"].read(r)
    return LoadSettings(
        name=name,
        hub=hub,
        kind=kind,
        priority=priority,
        mode=mode,
        mode_select=mode_select,
        fix_mode_options=fix,
        phases=phases,
        phase_map=phase_map,
        auto_remap=auto_remap,
        circuit=circuit,
        min_a=min_a,
        max_a=max_a,
        power_w=power_w,
        schedule=schedule,
    )
