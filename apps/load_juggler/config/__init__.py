"""apps.yaml parsing: app args -> engine objects and adapter settings, all problems at once.

No AppDaemon import here: the hub and load apps call these functions with their `self.args`.
"""

from .hub_config import GridSensors, HubConfig, HubConfigError, SensorConfig, parse_hub
from .kinds.evse import OcppEntities, OcppSettings, parse_ocpp
from .kinds.switch import SwitchSettings, parse_switch
from .load_config import (
    MODE_OPTIONS,
    MODE_WORDS,
    LoadConfigError,
    LoadSettings,
    parse_mode,
    slugify,
)
from .reader import APPDAEMON_KEYS, ArgReader

__all__ = [
    "APPDAEMON_KEYS",
    "MODE_OPTIONS",
    "MODE_WORDS",
    "ArgReader",
    "GridSensors",
    "HubConfig",
    "HubConfigError",
    "LoadConfigError",
    "LoadSettings",
    "OcppEntities",
    "OcppSettings",
    "SensorConfig",
    "SwitchSettings",
    "parse_hub",
    "parse_mode",
    "parse_ocpp",
    "parse_switch",
    "slugify",
]
