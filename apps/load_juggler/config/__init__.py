"""apps.yaml parsing: app args -> engine objects and adapter settings, all problems at once.

No AppDaemon import here: the hub and load apps call these functions with their `self.args`.
"""

from .hub_config import GridSensors, HubConfig, HubConfigError, SensorConfig, parse_hub
from .load_config import (
    MODE_OPTIONS,
    MODE_WORDS,
    LoadConfigError,
    LoadSettings,
    OcppEntities,
    OcppSettings,
    SwitchSettings,
    parse_mode,
    parse_ocpp,
    parse_switch,
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
