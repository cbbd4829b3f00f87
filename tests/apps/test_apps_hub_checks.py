"""Hub checks against live apps: overload episodes reported, circuit meters read, load apps that
do not fit refused at registration, odd ratings warned, members that name no load, and a grid
meter whose sign is the wrong way round."""

from __future__ import annotations

import copy
import datetime
from typing import Any

from lj_support import (
    HUB_ARGS,
    START,
    calls,
    logs,
    published,
    quiet_site_with_charger,
    set_charger,
    set_grid,
    set_solar,
)

from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.loads.switch import SwitchLoad

SERVICE = "ocpp/set_charge_rate"
START_UTC = START.replace(tzinfo=datetime.UTC)


def hub_args(**changes: Any) -> dict[str, Any]:
    args = copy.deepcopy(HUB_ARGS)
    args.update(changes)
    return args


def limits(hass_mocks: Any, devid: str | None = None) -> list[float]:
    return [
        c["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for c in calls(hass_mocks, SERVICE)
        if devid is None or c["devid"] == devid
    ]


def events(hass_mocks: Any, name: str) -> list[dict[str, Any]]:
    return [
        dict(c.kwargs)
        for c in hass_mocks.hass_functions["fire_event"].call_args_list
        if c.args and c.args[0] == name
    ]


class Recorder:
    """Wraps the controller's step to keep the readings the hub hands it."""

    def __init__(self, hub: Hub) -> None:
        assert hub._controller is not None
        self.step = hub._controller.step
        self.readings: list[Any] = []
        hub._controller.step = self  # type: ignore[method-assign]

    def __call__(self, now_s: float, readings: Any) -> Any:
        self.readings.append(readings)
        return self.step(now_s, readings)


def test_measured_overload_episode_is_reported_once_with_an_event(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    ad(Hub, "lj_hub", **hub_args())
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_status")[0] == "ok"
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 30, 18, 18)  # a kettle on phase A: 30 A on a 25 A breaker
    time_travel.fast_forward(10).seconds()
    state, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert state == "overload"
    assert attrs["overloads"] == [
        {"node": "site", "phase": "A", "measured_a": 30.0, "limit_a": 25.0, "over_for_s": 5.0}
    ]
    assert logs(hass_mocks, "overload measured", "WARNING") == [
        "overload measured: site phase A 30.0 A > 25 A; cutting managed loads until it is gone"
    ]
    # The controller's own line for the episode (CycleResult.warnings) is logged too.
    assert logs(hass_mocks, "measured overload: site phase A", "WARNING") == [
        "measured overload: site phase A carries 30.0 A, limit 25.0 A"
    ]
    assert events(hass_mocks, "load_juggler_overload") == [
        {
            "hub": "lj_hub",
            "overloads": [
                {
                    "node": "site",
                    "phase": "A",
                    "measured_a": 30.0,
                    "limit_a": 25.0,
                    "over_for_s": 0.0,
                }
            ],
        }
    ]
    assert limits(hass_mocks)[-1] == 0.0  # the guard cut the car
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    set_grid(given_that, 24, 12, 12)
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_status")[0] == "ok"
    assert logs(hass_mocks, "overload over", "INFO") == [
        "overload over after 10 s (peak site phase A 30.0 A)"
    ]
    assert len(events(hass_mocks, "load_juggler_overload")) == 1


def test_a_circuit_meter_above_its_limit_is_an_overload_of_that_circuit(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    given_that.state_of("sensor.garage_current").is_set_to(
        "0", {"L1": 5.0, "L2": 5.0, "L3": 5.0, "unit_of_measurement": "A"}
    )
    circuits = {"garage": {"limit_a": 20, "current_sensor": "sensor.garage_current"}}
    ad(Hub, "lj_hub", **hub_args(circuits=circuits))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_status")[0] == "ok"
    given_that.state_of("sensor.garage_current").is_set_to(
        "0", {"L1": 5.0, "L2": 23.5, "L3": 5.0, "unit_of_measurement": "A"}
    )
    time_travel.fast_forward(5).seconds()
    state, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert state == "overload"
    assert attrs["overloads"] == [
        {"node": "garage", "phase": "B", "measured_a": 23.5, "limit_a": 20.0, "over_for_s": "0"}
    ]
    assert logs(hass_mocks, "overload measured", "WARNING") == [
        "overload measured: garage phase B 23.5 A > 20 A; cutting managed loads until it is gone"
    ]


def test_import_cap_at_zero_keeps_loads_off_the_grid_without_an_engine_error(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    args = hub_args()
    args["sensors"]["max_import"] = "sensor.cap"
    given_that.state_of("sensor.cap").is_set_to("0", {"unit_of_measurement": "W"})
    ad(Hub, "lj_hub", **args)
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", mode="solar_priority")
    time_travel.fast_forward(10).seconds()
    state, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert state == "ok"
    assert attrs["allocation"]["evse1"]["current_a"] == "0"
    assert logs(hass_mocks, "engine error") == []


def test_circuit_meters_reach_the_controller(ad: Any, given_that: Any, time_travel: Any) -> None:
    quiet_site_with_charger(given_that)
    given_that.state_of("sensor.garage_current").is_set_to(
        "0", {"L1": 3.0, "L2": 4.5, "L3": "unavailable", "unit_of_measurement": "A"}
    )
    given_that.state_of("sensor.shed_power").is_set_to("2.3", {"unit_of_measurement": "kW"})
    circuits = {
        "garage": {"limit_a": 20, "current_sensor": "sensor.garage_current"},
        "shed": {"max_power_w": 3000, "power_sensor": "sensor.shed_power"},
    }
    hub = ad(Hub, "lj_hub", **hub_args(circuits=circuits))
    rec = Recorder(hub)
    time_travel.fast_forward(5).seconds()
    assert rec.readings[-1].circuit_a == {"garage": (3.0, 4.5, None)}
    assert rec.readings[-1].circuit_power_w == {"shed": 2300.0}


def test_second_app_on_one_charger_or_switch_is_refused(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    ad(Hub, "lj_hub", **hub_args())
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    ad(OcppCharger, "evse1_copy", hub="lj_hub", charger="cp1")
    ad(SwitchLoad, "boiler", hub="lj_hub", switch="switch.boiler", power_w=2000)
    ad(SwitchLoad, "boiler2", hub="lj_hub", switch="switch.boiler", power_w=2000)
    assert logs(hass_mocks, "rejected load: ", "ERROR") == [
        "rejected load: app 'evse1_copy': key 'charger' = 'cp1' is invalid: charger 'cp1' "
        "connector 1 is already driven by app 'evse1'; two apps must not drive one device",
        "rejected load: app 'boiler2': key 'switch' = 'switch.boiler' is invalid: switch "
        "switch.boiler is already driven by app 'boiler'; two apps must not drive one device",
    ]
    assert ad.apps["lj_hub"].load_names == ["boiler", "evse1"]
    time_travel.fast_forward(30).seconds()  # the refused apps ask again every 10 s
    assert len(logs(hass_mocks, "rejected load: ", "ERROR")) == 2
    ad.stop("evse1")  # the first app goes away: the second one takes the charger
    time_travel.fast_forward(10).seconds()
    assert ad.apps["lj_hub"].load_names == ["boiler", "evse1_copy"]


def test_names_with_colliding_entity_ids_are_refused(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    quiet_site_with_charger(given_that)
    hub = ad(Hub, "lj_hub", **hub_args())
    ad(SwitchLoad, "warme", hub="lj_hub", switch="switch.a", power_w=2000)
    ad(SwitchLoad, "wärme", hub="lj_hub", switch="switch.b", power_w=2000)
    assert hub.load_names == ["warme"]
    assert logs(hass_mocks, "rejected load: ", "ERROR") == [
        "rejected load: app 'wärme': key 'name' = 'wärme' is invalid: its entities "
        "(sensor.load_juggler_warme_*) would be the same as those of app 'warme'; rename one "
        "of the two apps"
    ]


def test_profile_validity_the_refresh_cannot_keep_alive_is_refused(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    quiet_site_with_charger(given_that)
    hub = ad(Hub, "lj_hub", **hub_args(period_s=60))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", validity_s=100, refresh_s=30)
    assert hub.load_names == []
    assert logs(hass_mocks, "rejected load: ", "ERROR") == [
        "rejected load: app 'evse1': key 'validity_s' = 100.0 is invalid: the hub refreshes the "
        "profile only every period_s (60 s), so with refresh_s 30 s it would expire before the "
        "next write: needs >= 2 x period_s and > refresh_s + period_s (more than 120 s)"
    ]
    ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2", validity_s=150, refresh_s=100)
    assert logs(hass_mocks, "rejected load: app 'evse2': key 'validity_s' = 150.0", "ERROR")
    ad(OcppCharger, "evse3", hub="lj_hub", charger="cp3", validity_s=130, refresh_s=60)
    assert hub.load_names == ["evse3"]


def test_implausible_ratings_are_warned_about(ad: Any, given_that: Any, hass_mocks: Any) -> None:
    quiet_site_with_charger(given_that)
    args = hub_args(circuits={"garage": {"limit_a": 6}, "shed": {"max_power_w": 1000}})
    args["site"]["max_import_w"] = 17.25
    hub = ad(Hub, "lj_hub", **args)
    ad(SwitchLoad, "kettle", hub="lj_hub", switch="switch.kettle", power_w=2)
    ad(SwitchLoad, "heater", hub="lj_hub", switch="switch.heater", power_w=2000, circuit="shed")
    ad(
        OcppCharger,
        "evse1",
        hub="lj_hub",
        charger="cp1",
        circuit="garage",
        min_a=8,
        phases=1,
        phase_map=["c"],
    )
    assert hub.load_names == ["evse1", "heater", "kettle"]  # warned, not refused
    assert logs(hass_mocks, "did you mean", "WARNING") == [
        "app 'lj_hub': key 'site.max_import_w' = 17.25 W is implausibly small (kW given as W?): "
        "did you mean 17250 W?",
        "app 'kettle': key 'power_w' = 2 W is implausibly small for a switched load (kW given "
        "as W?): did you mean 2000 W?",
    ]
    assert logs(hass_mocks, "can never fit", "WARNING") == [
        "app 'heater': its minimum power (2000 W) can never fit under circuit 'shed' (1000 W): "
        "it will never be started",
        "app 'evse1': its minimum (8 A on site phase C = 8 A) can never fit under circuit "
        "'garage' (6 A): it will never be started",
    ]


def test_a_members_typo_is_an_error_and_unplaced_loads_get_nothing(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    set_charger(given_that, "cp2", "Charging")
    circuits = {"garage": {"limit_a": 20, "members": ["evse_1"]}}
    hub = ad(Hub, "lj_hub", **hub_args(circuits=circuits))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2", circuit="garage")
    time_travel.fast_forward(25).seconds()
    assert logs(hass_mocks, "names no registered", "ERROR") == []  # loads may still start
    time_travel.fast_forward(10).seconds()
    assert logs(hass_mocks, "names no registered", "ERROR") == [
        "app 'lj_hub': key 'circuits.garage.members' = 'evse_1' names no registered load app "
        "(did you mean 'evse1'?); loads without a circuit get nothing until every member is "
        "placed"
    ]
    time_travel.fast_forward(30).seconds()
    assert len(logs(hass_mocks, "names no registered", "ERROR")) == 1
    # evse1 (no circuit, not a member) may be the one meant: held at 0; evse2 is placed.
    assert limits(hass_mocks, "cp1")[-1] == 0.0
    assert published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0] == "0.0"
    assert "evse1" not in hub.last_result.commands  # not fed by the controller at all
    assert limits(hass_mocks, "cp2")[-1] == 16.0
    _, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert attrs["reason"].startswith("not placed")
    assert hub.load_names == ["evse1", "evse2"]


def test_export_with_no_source_says_grid_invert_is_wrong(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    set_grid(given_that, 3, 4, 5)  # import as positive, but the user set grid_invert
    set_solar(given_that, 10)
    args = hub_args()
    args["sensors"]["grid_invert"] = True
    ad(Hub, "lj_hub", **args)
    time_travel.fast_forward(60).seconds()
    assert logs(hass_mocks, "grid_invert", "WARNING") == []
    time_travel.fast_forward(10).seconds()
    time_travel.fast_forward(60).seconds()
    assert logs(hass_mocks, "grid_invert", "WARNING") == [
        "the grid reads as export (-3/-4/-5 A) for 60 s with no solar and no battery discharge, "
        "which is impossible: sensors.grid_invert is true but your meter already reports import "
        "as positive: set grid_invert: false. Until then headroom is computed from a wrong sign"
    ]
    set_solar(given_that, 3000)  # real sun: export is explained, no further warning
    time_travel.fast_forward(120).seconds()
    assert len(logs(hass_mocks, "grid_invert", "WARNING")) == 1


def test_loads_are_told_the_grid_stale_timeout(ad: Any, given_that: Any) -> None:
    quiet_site_with_charger(given_that)
    args = hub_args()
    args["control"]["grid_stale_timeout_s"] = 45
    hub = ad(Hub, "lj_hub", **args)
    ctx = hub._context(START_UTC, 230.0)
    assert ctx.stale_timeout_s == 45.0
