"""An OCPP charger (kind `evse`): its options, settings and apps.yaml parser.

Entity ids are derived the way the HA OCPP integration names them
(`sensor.<cpid>_current_import`, multi-connector `sensor.<cpid>_connector_<n>_current_import`),
each overridable under `entities:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...engine.model import LoadKind, Mode
from ..load_config import LoadConfigError, LoadSettings, slugify
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .charge_goal import GOAL_OPTIONS, ChargeGoalSettings, read_goal
from .common import COMMON_OPTIONS, read_common

_N = OptionType.NUMBER
_I = OptionType.INTEGER
_E = OptionType.ENTITY


def _entity(key: str, doc: str = "") -> Option:
    return Option(f"entities.{key}", _E, default_doc=f"`sensor.<charger>_{key}`", doc=doc)


EVSE_OPTIONS = Schema(
    "evse",
    (
        Option("min_a", _N, 6.0, above=0, maximum=80, doc="current range per phase"),
        Option("max_a", _N, 16.0, above=0, maximum=80, doc="current range per phase"),
        Option("charger", OptionType.TEXT, required=True, doc="the charge point id"),
        Option("devid", OptionType.TEXT, default_doc="`charger`", doc="devid of set_charge_rate"),
        Option(
            "device",
            OptionType.TEXT,
            default_doc="the device of `entities.status_connector`",
            doc="HA device (name or id) whose entities are used",
        ),
        Option("conn_id", _I, 1, minimum=1, maximum=16, doc="connector"),
        Option("connectors", _I, 1, minimum=1, maximum=16, doc="connectors of the charger"),
        Option(
            "unit_max_a",
            _N,
            above=0,
            maximum=1000,
            default_doc="the plugs' own maxima",
            doc="per phase, shared by the plugs of a charger with `connectors:`",
        ),
        Option(
            "concurrent",
            OptionType.BOOLEAN,
            False,
            doc="true: the plugs charge together; false: one car at a time",
        ),
        Option("rate_unit", OptionType.CHOICE, "auto", choices=("auto", "A", "W")),
        Option("profile_validity", OptionType.CHOICE, "absolute", choices=("relative", "absolute")),
        Option("validity_s", _N, 120.0, minimum=30, maximum=3600, doc="profile lifetime"),
        Option("refresh_s", _N, above=0, default_doc="2/3 of `validity_s`"),
        # Stack level 0 is left for the fail-safe base profile, which sits one level below ours.
        Option("stack_level", _I, 5, minimum=1, maximum=99),
        Option("profile_id", _I, minimum=1, default_doc="900 + `conn_id`"),
        Option("failsafe_profile_id", _I, minimum=1, default_doc="950 + `conn_id`"),
        Option("failsafe_a", _N, default_doc="`min_a`", doc="0 .. max_a"),
        Option("idle_power_w", _N, 100.0, minimum=0),
        Option("idle_timeout_s", _N, 60.0, minimum=0),
        Option(
            "verify_s",
            _N,
            30.0,
            minimum=5,
            maximum=3600,
            doc="time the charger has to follow a limit",
        ),
        _entity("current_import", "one entity with L1/L2/L3 attributes, or one per phase"),
        _entity("current_offered"),
        _entity("power_active_import"),
        _entity("power_offered"),
        _entity("status_connector"),
        _entity("voltage"),
        _entity("transaction_id"),
    ),
)
#: Every option an OCPP charger app reads, common ones first.
EVSE_SCHEMA = (
    COMMON_OPTIONS.with_defaults("evse", mode=Mode.CONTINUOUS, phases=3)
    + EVSE_OPTIONS
    + GOAL_OPTIONS
)


#: Keys of a charger with a list of connectors as a whole (`evse_connectors`).
_UNIT_KEYS = frozenset({"unit_max_a", "concurrent"})


@dataclass(frozen=True)
class OcppEntities:
    """The charger's HA entities; `current_import`: one entity (L1/L2/L3 attrs) or one per phase."""

    current_import: tuple[str, ...]
    current_offered: str
    power_active_import: str
    power_offered: str
    status_connector: str
    voltage: str
    transaction_id: str


@dataclass(frozen=True)
class OcppSettings:
    """How to drive one connector of an HA OCPP charger."""

    charger: str
    devid: str
    conn_id: int
    connectors: int
    entities: OcppEntities
    rate_unit: str  # "auto" | "A" | "W"
    profile_validity: str  # "relative" | "absolute"
    validity_s: float
    refresh_s: float
    stack_level: int
    profile_id: int
    idle_power_w: float
    idle_timeout_s: float
    #: The persistent base profile's limit (A per phase) that rules when ours has expired.
    failsafe_a: float
    failsafe_profile_id: int
    #: How long the charger may take to follow a limit before it counts as ignoring it.
    verify_s: float = 30.0
    #: The HA device (name or id) whose entities are looked up; None: the status entity's.
    device: str | None = None
    #: Deadline and tariff options (`charge_goal`); None when none is configured.
    goal: ChargeGoalSettings | None = None

    @property
    def failsafe_stack_level(self) -> int:
        """Just below our expiring profile: it rules once ours lapses, never while ours runs."""
        return self.stack_level - 1


def parse_ocpp(
    name: str, args: Mapping[str, Any], item: str | None = None
) -> tuple[LoadSettings, OcppSettings]:
    """Parse an OCPP charger app's `self.args`; raises LoadConfigError listing every problem.

    `name` is the load's name; `item`, what messages call it (default `app '<name>'`): one
    connector of a charger with several is `app '<app>' connectors[<n>] ('<name>')`.
    """
    # `unit_max_a` / `concurrent` belong to a charger with a connector list (below).
    r = ArgReader(item or f"app '{name}'", args, ignore=APPDAEMON_KEYS | _UNIT_KEYS)
    o = EVSE_SCHEMA
    common = read_common(r, name, LoadKind.EVSE, o)
    charger = o["charger"].read(r) or "charger"
    devid = o["devid"].read(r, charger) or charger
    device = o["device"].read(r)
    conn_id = o["conn_id"].read(r) or 1
    connectors = o["connectors"].read(r) or 1
    if conn_id > connectors and r.has("connectors"):
        r.error("conn_id", conn_id, f"must be <= connectors ({connectors})")
    rate_unit = o["rate_unit"].read(r)
    validity = o["profile_validity"].read(r)
    validity_s = o["validity_s"].read(r) or o.default("validity_s")
    refresh_s = o["refresh_s"].read(r, validity_s * 2 / 3) or validity_s * 2 / 3
    if refresh_s >= validity_s:
        r.error("refresh_s", refresh_s, f"must be < validity_s ({validity_s:g})")
        refresh_s = validity_s * 2 / 3
    stack = o["stack_level"].read(r)
    profile_id = o["profile_id"].read(r, 900 + conn_id) or 900 + conn_id
    failsafe_id = o["failsafe_profile_id"].read(r, 950 + conn_id) or 950 + conn_id
    if failsafe_id == profile_id:
        r.error(
            "failsafe_profile_id",
            failsafe_id,
            f"must differ from profile_id ({profile_id}): one profile would replace the other",
        )
    failsafe_a = _failsafe_a(r, common)
    idle_w = o["idle_power_w"].read(r)
    idle_s = o["idle_timeout_s"].read(r)
    verify_s = o["verify_s"].read(r)
    goal = read_goal(r)
    entities = _ocpp_entities(r.section("entities"), charger, conn_id, connectors, common.phases)
    for key in sorted(_UNIT_KEYS):
        if args.get(key) is not None:
            r.error(key, args[key], "only for a charger with a list under 'connectors:'")
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    settings = OcppSettings(
        charger=charger,
        devid=devid,
        conn_id=conn_id,
        connectors=connectors,
        entities=entities,
        rate_unit=rate_unit,
        profile_validity=validity,
        validity_s=validity_s,
        refresh_s=refresh_s,
        stack_level=stack if stack is not None else o.default("stack_level"),
        profile_id=profile_id,
        idle_power_w=idle_w if idle_w is not None else o.default("idle_power_w"),
        idle_timeout_s=idle_s if idle_s is not None else o.default("idle_timeout_s"),
        failsafe_a=failsafe_a,
        failsafe_profile_id=failsafe_id,
        verify_s=verify_s if verify_s is not None else o.default("verify_s"),
        device=device,
        goal=goal,
    )
    return common, settings


def _failsafe_a(r: ArgReader, common: LoadSettings) -> float:
    """`failsafe_a`: 0 .. max_a, default the load's min_a."""
    if not r.has("failsafe_a"):
        return common.min_a
    value = EVSE_OPTIONS["failsafe_a"].read(r)
    if value is None:  # not a number: already reported
        return common.min_a
    if not 0.0 <= value <= common.max_a:
        r.error(
            "failsafe_a",
            r.raw("failsafe_a"),
            f"must be a number from 0 to max_a ({common.max_a:g}): the current per phase the "
            "charger keeps when Load Juggler stops refreshing its profile",
        )
        return common.min_a
    return value


def _ocpp_entities(
    e: ArgReader, charger: str, conn_id: int, connectors: int, phases: int
) -> OcppEntities:
    cpid = slugify(charger)
    scope = f"{cpid}_connector_{conn_id}_" if connectors > 1 else f"{cpid}_"

    def one(key: str) -> str:
        return EVSE_OPTIONS[f"entities.{key}"].read(e) or f"sensor.{scope}{key}"

    current = e.entities("current_import", lengths=(1, phases)) or (
        f"sensor.{scope}current_import",
    )
    entities = OcppEntities(
        current_import=current,
        current_offered=one("current_offered"),
        power_active_import=one("power_active_import"),
        power_offered=one("power_offered"),
        status_connector=one("status_connector"),
        voltage=one("voltage"),
        transaction_id=one("transaction_id"),
    )
    e.finish()
    return entities
