"""The replay reads a charger with a `connectors:` list as the app does: one load per plug,
each needing its own connector's entities, sharing the charger's unit."""

from __future__ import annotations

from pathlib import Path

import yaml

from load_juggler.engine.model import ChargeUnit
from load_juggler.history.setup import load_site, needed_entities

from .replaying import APPS


def test_a_two_plug_charger_is_two_loads_with_their_connector_entities(tmp_path: Path) -> None:
    entries = yaml.safe_load(APPS.read_text())
    hub = next(name for name, args in entries.items() if args.get("module") == "load_juggler.hub")
    apps = {
        hub: entries[hub],
        "twin": {
            "module": "load_juggler.loads.ocpp",
            "class": "OcppCharger",
            "hub": hub,
            "charger": "twin",
            "concurrent": True,
            "unit_max_a": 20,
            "connectors": [{"conn_id": 1, "name": "left"}, {"conn_id": 2, "name": "right"}],
        },
    }
    path = tmp_path / "apps.yaml"
    path.write_text(yaml.safe_dump(apps))
    site = load_site(path)
    assert [item.load.id for item in site.loads] == ["twin_left", "twin_right"]
    assert {item.load.unit for item in site.loads} == {ChargeUnit("twin", 20.0, True)}
    needed = needed_entities(site)
    assert needed["sensor.twin_connector_2_current_import"] == "twin_right: entities.current_import"
    assert needed["sensor.twin_connector_1_status_connector"] == (
        "twin_left: entities.status_connector"
    )
