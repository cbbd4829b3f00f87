"""One module per load kind: its options (a `Schema`), its settings and its apps.yaml parser.

`common` holds the options every load has (hub, priority, mode, phases, ...); a kind adds its
own (`evse`: the OCPP charger, `switch`: a switched plug or relay). The scenario parser reads a
scenario's loads through the same options, so both files accept and refuse the same values.
"""

from .common import COMMON_OPTIONS
from .evse import EVSE_OPTIONS, EVSE_SCHEMA, parse_ocpp
from .switch import SWITCH_OPTIONS, SWITCH_SCHEMA, parse_switch

__all__ = [
    "COMMON_OPTIONS",
    "EVSE_OPTIONS",
    "EVSE_SCHEMA",
    "SWITCH_OPTIONS",
    "SWITCH_SCHEMA",
    "parse_ocpp",
    "parse_switch",
]
