"""The README documents every SG Ready and climate boost option with its declared default."""

from __future__ import annotations

from test_apps_config_schema import expected, readme_table

from load_juggler.config.kinds.climate_boost import CLIMATE_BOOST_OPTIONS, CLIMATE_BOOST_SCHEMA
from load_juggler.config.kinds.sg_ready import SG_READY_OPTIONS, SG_READY_SCHEMA
from load_juggler.engine.model import Mode


def test_the_readme_lists_every_sg_ready_option() -> None:
    table = readme_table(
        "### SG Ready heat pump (`module: load_juggler.loads.sg_ready`, `class: SgReadyLoad`)"
    )
    assert table == expected(SG_READY_OPTIONS)
    assert table["min_state_s"] == "600" and table["allow_block"] == "false"
    assert (SG_READY_SCHEMA.default("mode"), SG_READY_SCHEMA.default("phases")) == (
        Mode.SOLAR_ONLY,
        3,
    )


def test_the_readme_lists_every_climate_boost_option() -> None:
    table = readme_table(
        "### Climate boost (`module: load_juggler.loads.climate_boost`, `class: ClimateBoostLoad`)"
    )
    assert table == expected(CLIMATE_BOOST_OPTIONS)
    assert table["boost_c"] == "1.5"
    assert (CLIMATE_BOOST_SCHEMA.default("mode"), CLIMATE_BOOST_SCHEMA.default("phases")) == (
        Mode.SOLAR_ONLY,
        1,
    )
