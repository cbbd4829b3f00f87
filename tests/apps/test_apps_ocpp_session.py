"""The OCPP charger as the HA OCPP integration really behaves: sessions, versions, obedience.

Measured against the integration (0.5.2 and 0.8.4): a TxProfile for a finished transaction is
rejected, `set_charge_rate` before 0.8.0 refuses `devid`, and a rejected profile is only a
warning in HA's log, so the charger's offered current is what tells whether it obeys.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from lj_support import (
    HUB_ARGS,
    START,
    fire_state,
    limit_calls,
    logs,
    published,
    set_charger,
    set_grid,
    set_solar,
)

from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger

TX = "sensor.cp1_transaction_id"
STATUS = "sensor.cp1_status_connector"


def site(ad: Any, given_that: Any, status: str = "Charging", tx: str = "unknown", **kw: Any) -> Any:
    """Hub + one 3-phase charger, house 10 A per phase under a 25 A breaker."""
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", status, (0.0, 0.0, 0.0), transaction_id=tx)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    return ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", **kw)


def purpose(call: dict[str, Any]) -> tuple[str, int | None]:
    profile = call["custom_profile"]
    return profile["chargingProfilePurpose"], profile.get("transactionId")


def limit_of(call: dict[str, Any]) -> float:
    return call["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]


def unit_of(call: dict[str, Any]) -> str:
    return call["custom_profile"]["chargingSchedule"]["chargingRateUnit"]


# -- 2. TxProfile only in a session


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Charging", ("TxProfile", 7)),
        ("SuspendedEV", ("TxProfile", 7)),
        ("SuspendedEVSE", ("TxProfile", 7)),
        # No running transaction: a TxProfile would be rejected by the charger.
        ("Preparing", ("TxDefaultProfile", None)),
        ("Finishing", ("TxDefaultProfile", None)),
        ("Available", ("TxDefaultProfile", None)),
        ("Unavailable", ("TxDefaultProfile", None)),
    ],
)
def test_a_tx_profile_only_in_a_session_status(
    ad: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
    status: str,
    expected: tuple[str, int | None],
) -> None:
    site(ad, given_that, status, tx="7")
    time_travel.fast_forward(5).seconds()
    assert purpose(limit_calls(hass_mocks)[-1]) == expected


def test_the_id_shown_on_entering_preparing_is_an_old_one(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A car plugs in (Preparing) while the sensor still shows 41, the last session's id.
    Should the charger go to SuspendedEVSE before StartTransaction, 41 is not its id."""
    site(ad, given_that, "Preparing", tx="41")
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "SuspendedEVSE", transaction_id="41")
    time_travel.fast_forward(5).seconds()
    assert purpose(limit_calls(hass_mocks)[-1]) == ("TxDefaultProfile", None)
    set_charger(given_that, "cp1", "Charging", transaction_id="42")  # StartTransaction
    time_travel.fast_forward(5).seconds()
    assert purpose(limit_calls(hass_mocks)[-1]) == ("TxProfile", 42)


# -- 3. a limit sent at once when a transaction starts, changes or ends


def test_listens_to_the_status_and_transaction_entities(ad: Any, given_that: Any, hass_mocks: Any):
    site(ad, given_that)
    watched = {
        c.args[1] for c in hass_mocks.hass_functions["listen_state"].call_args_list if c.args[1:]
    }
    assert {TX, STATUS} <= watched


def test_a_new_transaction_gets_its_tx_profile_at_once(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    site(ad, given_that, "Preparing")
    time_travel.fast_forward(5).seconds()  # 12:00:05, hub cycle: the min, 6 A, TxDefault
    assert [purpose(c) for c in limit_calls(hass_mocks)] == [("TxDefaultProfile", None)]
    time_travel.fast_forward(2).seconds()  # 12:00:07: no hub cycle until 12:00:10
    set_charger(given_that, "cp1", "Charging", transaction_id="42")
    assert fire_state(hass_mocks, TX, "42", "unknown") == 1
    sent = limit_calls(hass_mocks)
    assert len(sent) == 2
    assert purpose(sent[-1]) == ("TxProfile", 42)
    assert limit_of(sent[-1]) == 6.0  # the limit in force, not more
    assert sent[-1]["custom_profile"]["chargingSchedule"]["startSchedule"] == (
        "2026-06-01T12:00:07Z"
    )
    # The status entity firing for the same session sends nothing more.
    assert fire_state(hass_mocks, STATUS, "Charging", "Preparing") == 1
    assert len(limit_calls(hass_mocks)) == 2


def test_a_changed_or_ended_transaction_is_answered_at_once(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    site(ad, given_that, "Charging", tx="42")
    time_travel.fast_forward(5).seconds()
    assert purpose(limit_calls(hass_mocks)[-1]) == ("TxProfile", 42)
    set_charger(given_that, "cp1", "Charging", transaction_id="43")
    fire_state(hass_mocks, TX, "43", "42")
    assert purpose(limit_calls(hass_mocks)[-1]) == ("TxProfile", 43)
    # StopTransaction: the integration keeps 43, the status says the session is over.
    set_charger(given_that, "cp1", "Finishing", transaction_id="43")
    fire_state(hass_mocks, STATUS, "Finishing", "Charging")
    assert purpose(limit_calls(hass_mocks)[-1]) == ("TxDefaultProfile", None)
    n = len(limit_calls(hass_mocks))
    fire_state(hass_mocks, STATUS, "Finishing", "Finishing")  # no change: nothing sent
    assert len(limit_calls(hass_mocks)) == n


def test_nothing_is_sent_on_a_session_change_before_the_first_limit(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    site(ad, given_that, "Preparing")
    set_charger(given_that, "cp1", "Charging", transaction_id="42")
    fire_state(hass_mocks, TX, "42", "unknown")
    assert limit_calls(hass_mocks) == []  # the hub has decided nothing yet


# -- 4. set_charge_rate without devid on an integration older than 0.8.0

DEVID_REFUSED = "extra keys not allowed @ data['devid']"


def old_integration(calls: list[dict[str, Any]]) -> Any:
    def call_service(service: str, **data: Any) -> dict[str, Any]:
        calls.append(data)
        if "devid" in data:
            raise ValueError(DEVID_REFUSED)
        return {"success": True}

    return call_service


def use_old_integration(hass_mocks: Any, calls: list[dict[str, Any]]) -> None:
    """An integration before 0.8.0, and `get_state("sensor")` answered as AppDaemon does
    (every sensor's state by entity id), so the app can count HA's OCPP chargers."""
    hass_mocks.hass_functions["call_service"].side_effect = old_integration(calls)
    get_state = hass_mocks.hass_functions["get_state"]
    every = get_state.side_effect

    def by_domain(entity_id: str | None = None, **kw: Any) -> Any:
        if entity_id == "sensor":
            return {k: v for k, v in every().items() if k.startswith("sensor.")}
        return every(entity_id, **kw)

    get_state.side_effect = by_domain


def test_an_old_integration_gets_calls_without_devid_when_one_charger(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    cp = site(ad, given_that, "Charging", tx="7")
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 6.0
    warned = logs(hass_mocks, "refuses 'devid'", "WARNING")
    assert len(warned) == 1
    assert DEVID_REFUSED in warned[0] and "0.8.0" in warned[0]
    # Remembered: after the first refusal every call goes without devid at once.
    refused = [c for c in calls if "devid" in c]
    assert len(refused) == 1
    n = len(calls)
    time_travel.fast_forward(90).seconds()  # refresh of the profile
    assert len(calls) > n
    assert all("devid" not in c for c in calls[n:])
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["sends_devid"] == "false"
    assert logs(hass_mocks, "upgrade", "ERROR") == []


def test_an_old_integration_with_two_chargers_gets_nothing_and_one_error(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    cp = site(ad, given_that, "Charging", tx="7")
    set_charger(given_that, "cp2", "Charging", transaction_id="8")
    ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2")
    n = len(calls)  # evse1 started alone and sent its fail-safe without devid
    time_travel.fast_forward(15).seconds()
    assert cp.last_sent_a is None
    assert len(calls) > n and all("devid" in c for c in calls[n:])
    errors = logs(hass_mocks, "Upgrade the HA OCPP integration to 0.8.0", "ERROR")
    assert len(errors) == 2  # one per charger app, once
    assert any("charger 'cp1'" in e for e in errors)


def test_an_old_integration_at_start_before_the_second_charger_app_registers(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """The hub lists evse1 only, but HA already shows a second OCPP charger (cp2, its app not
    started yet): a call without devid could reach cp2, so none is made and the user is told."""
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    set_charger(given_that, "cp2", "Charging", transaction_id="8")
    cp = site(ad, given_that, "Charging", tx="7")
    time_travel.fast_forward(15).seconds()
    assert calls and all("devid" in c for c in calls)
    assert cp.last_sent_a is None
    errors = logs(hass_mocks, "Upgrade the HA OCPP integration to 0.8.0", "ERROR")
    assert len(errors) == 1 and "charger 'cp1'" in errors[0]
    assert logs(hass_mocks, "sending without 'devid'", "WARNING") == []


def test_an_old_integration_counts_a_two_plug_charger_in_ha_as_one(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """HA's OCPP sensors: cp1 and, under per-connector names, its own second plug: one
    charger, so the call goes without devid."""
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    given_that.state_of("sensor.cp1_connector_2_status_connector").is_set_to("Available")
    cp = site(ad, given_that, "Charging", tx="7")
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 6.0
    assert any("devid" not in c for c in calls)
    assert logs(hass_mocks, "upgrade", "ERROR") == []


def test_other_service_errors_are_not_taken_for_an_old_integration(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hass_mocks.hass_functions["call_service"].side_effect = RuntimeError("charger is unavailable")
    site(ad, given_that, "Charging", tx="7")
    time_travel.fast_forward(5).seconds()
    assert all("devid" in c for c in limit_calls(hass_mocks))
    assert logs(hass_mocks, "refuses 'devid'") == []


# -- 5. checked against what the charger does


def offered(given_that: Any, amps: float, at: datetime.datetime | None = None) -> None:
    given_that.state_of("sensor.cp1_current_offered").is_set_to(str(amps), {}, last_updated=at)


def cut_to_10_a(ad: Any, given_that: Any, time_travel: Any, **kw: Any) -> Any:
    """A car at 15 A; the house takes 5 A more: cut to 10 A at 12:00:15."""
    cp = site(ad, given_that, "Charging", tx="7", **kw)
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="7")
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()  # 12:00:10: 15 A
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0), transaction_id="7")
    set_grid(given_that, 30, 30, 30)
    time_travel.fast_forward(5).seconds()  # 12:00:15: cut to 10 A
    assert cp.last_sent_a == 10.0
    set_grid(given_that, 25, 25, 25)
    return cp


def test_a_charger_that_keeps_offering_more_is_reported_once_and_tried_in_watts(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    cut_to_10_a(ad, given_that, time_travel)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0), transaction_id="7")
    offered(given_that, 16.0)
    time_travel.fast_forward(25).seconds()  # 12:00:40, 25 s after the cut: not yet
    assert logs(hass_mocks, "ignores our profile") == []
    time_travel.fast_forward(5).seconds()  # 12:00:45: 30 s
    warned = logs(hass_mocks, "ignores our profile", "WARNING")
    assert warned == [
        "charger ignores our profile: charger 'cp1' offers 16 A 30 s after we sent 10 A "
        "(limit 30 s, `verify_s`); its draw above our limit counts as house load until it follows"
    ]
    attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")[1]
    assert attrs["profile_check"].startswith("charger ignores our profile: charger 'cp1' offers")
    # rate_unit auto: the same limit once in W (10 A x 230 V x 3 lines), at the next cycle.
    time_travel.fast_forward(5).seconds()
    last = limit_calls(hass_mocks)[-1]
    assert (unit_of(last), limit_of(last)) == ("W", 6900.0)
    # In W the charger follows: W is kept, the episode ends with one line.
    offered(given_that, 10.0)
    time_travel.fast_forward(5).seconds()
    assert len(logs(hass_mocks, "follows our profile in W")) == 1
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["profile_check"] == "ok"
    time_travel.fast_forward(60).seconds()
    assert unit_of(limit_calls(hass_mocks)[-1]) == "W"
    assert len(warned) == 1 and len(logs(hass_mocks, "ignores our profile", "WARNING")) == 1


def test_the_other_unit_is_dropped_when_it_does_not_help(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    cut_to_10_a(ad, given_that, time_travel)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0), transaction_id="7")
    offered(given_that, 16.0)
    time_travel.fast_forward(35).seconds()  # 12:00:50: judged, W sent
    assert unit_of(limit_calls(hass_mocks)[-1]) == "W"
    time_travel.fast_forward(30).seconds()  # 30 s of W, still 16 A offered: back to A
    time_travel.fast_forward(5).seconds()
    assert unit_of(limit_calls(hass_mocks)[-1]) == "A"
    assert len(logs(hass_mocks, "did not help")) == 1
    n = len(limit_calls(hass_mocks))
    time_travel.fast_forward(120).seconds()  # tried once only: the refreshes stay in A
    later = limit_calls(hass_mocks)[n:]
    assert later and {unit_of(c) for c in later} == {"A"}
    assert len(logs(hass_mocks, "ignores our profile", "WARNING")) == 1


def test_an_offered_reading_from_before_the_limit_is_not_judged_at_once(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """MeterValues come every minute: a 16 A offer HA updated before the cut (12:00:15) is
    judged only 30 + 60 s after it; a reading updated since, at 30 s."""
    cut_to_10_a(ad, given_that, time_travel)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0), transaction_id="7")
    before_cut = START + datetime.timedelta(seconds=12)
    offered(given_that, 16.0, before_cut)
    time_travel.fast_forward(45).seconds()  # 12:01:00, 45 s after the cut
    assert logs(hass_mocks, "ignores our profile") == []
    offered(given_that, 16.0, START + datetime.timedelta(seconds=61))  # a new meter value
    time_travel.fast_forward(5).seconds()
    assert len(logs(hass_mocks, "ignores our profile", "WARNING")) == 1


def test_an_offer_that_never_changes_is_judged_a_meter_interval_later(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """HA keeps `last_updated` while a value stays the same: a charger that goes on offering
    16 A never shows a newer reading, and is judged 30 + 60 s after the cut."""
    cut_to_10_a(ad, given_that, time_travel)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0), transaction_id="7")
    offered(given_that, 16.0, START)
    time_travel.fast_forward(85).seconds()  # 12:01:40, 85 s after the cut
    assert logs(hass_mocks, "ignores our profile") == []
    time_travel.fast_forward(5).seconds()  # 90 s
    assert len(logs(hass_mocks, "offers 16 A 90 s after we sent 10 A", "WARNING")) == 1


def test_a_draw_above_the_limit_is_reported_but_changes_no_unit(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """Without an offered current the car's draw is judged; a draw may be the car's or the
    meter's doing, so no other unit is tried on it."""
    cut_to_10_a(ad, given_that, time_travel)
    time_travel.fast_forward(35).seconds()  # still 15 A a line
    warned = logs(hass_mocks, "ignores our profile", "WARNING")
    assert len(warned) == 1
    assert "charger 'cp1' draws 15 A" in warned[0]
    assert {unit_of(c) for c in limit_calls(hass_mocks)} == {"A"}


def test_rate_unit_a_is_never_switched(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    cut_to_10_a(ad, given_that, time_travel, rate_unit="A", verify_s=10)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0), transaction_id="7")
    offered(given_that, 16.0)
    time_travel.fast_forward(10).seconds()  # verify_s 10
    assert len(logs(hass_mocks, "offers 16 A 10 s after we sent 10 A", "WARNING")) == 1
    time_travel.fast_forward(30).seconds()
    assert {unit_of(c) for c in limit_calls(hass_mocks)} == {"A"}


def test_a_charger_that_follows_is_not_reported(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    cut_to_10_a(ad, given_that, time_travel)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0), transaction_id="7")
    offered(given_that, 11.0)  # within 1 A of the limit
    time_travel.fast_forward(60).seconds()
    assert logs(hass_mocks, "ignores our profile") == []
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["profile_check"] == "ok"


@pytest.mark.parametrize("bad", [4, 4000, "soon"])
def test_bad_verify_s_is_refused(ad: Any, given_that: Any, hass_mocks: Any, bad: Any) -> None:
    cp = site(ad, given_that, verify_s=bad)
    assert not cp.config_ok
    assert any("'verify_s'" in line for line in logs(hass_mocks, "verify_s", "ERROR"))


def test_a_second_charger_stops_calls_without_devid(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    site(ad, given_that, "Charging", tx="7")
    time_travel.fast_forward(5).seconds()
    assert any("devid" not in c for c in calls)  # alone: sent without devid
    set_charger(given_that, "cp2", "Charging", transaction_id="8")
    ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2")
    n = len(calls)
    time_travel.fast_forward(100).seconds()
    assert all("devid" in c for c in calls[n:])  # never to the integration's first charger
    assert len(logs(hass_mocks, "charger 'cp1'. Upgrade", "ERROR")) == 1
