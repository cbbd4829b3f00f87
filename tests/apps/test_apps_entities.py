"""What the apps publish must survive AppDaemon's REST cleaning on its way to HA."""

from __future__ import annotations

from typing import Any

from appdaemon.utils import clean_http_kwargs

from load_juggler.loads.entities import EntityPublisher, sensor_attrs


def _sent_through_appdaemon(state: Any, attributes: dict[str, Any]) -> dict[str, Any]:
    """The REST body AppDaemon 4.5.13's HASS plugin would post for one publish."""
    sent: list[dict[str, Any]] = []
    publisher = EntityPublisher(lambda entity_id, **kw: sent.append(kw))
    publisher.publish("sensor.x", state, attributes, now_s=0.0)
    (call,) = sent
    return clean_http_kwargs({"state": call["state"], "attributes": call["attributes"]})


def test_zero_amp_state_reaches_ha_as_text():
    # A paused charger: 0.0 A. AppDaemon drops 0 from the body, so it must travel as "0.0".
    body = _sent_through_appdaemon(0.0, sensor_attrs("Allocated", unit="A"))
    assert body["state"] == "0.0"
    assert body["attributes"]["unit_of_measurement"] == "A"


def test_false_and_zero_attributes_and_list_positions_survive():
    attrs = {"on": False, "service_ok": True, "managed_a": 0, "background_a": [0.0, 1.5, 0.0]}
    body = _sent_through_appdaemon("paused_by_us", attrs)
    assert body["state"] == "paused_by_us"
    assert body["attributes"] == {
        "on": "false",
        "service_ok": "true",
        "managed_a": "0",
        "background_a": ["0", 1.5, "0"],
    }


def test_nested_allocation_table_keeps_every_load():
    table = {"boiler": {"current_a": 0.0, "on": False}, "evse": {"current_a": 16.0, "on": True}}
    body = _sent_through_appdaemon("ok", {"allocation": table})
    assert body["attributes"]["allocation"] == {
        "boiler": {"current_a": "0", "on": "false"},
        "evse": {"current_a": 16.0, "on": "true"},
    }


class _AppDaemonStates:
    """AppDaemon 4.5's `State.set_state` bookkeeping for one entity: the attributes it is given
    are merged into the ones it last saw unless `replace`, then None values are cleaned away."""

    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {}

    def set_state(self, entity_id: str, **kw: Any) -> None:
        new = dict(kw["attributes"])
        merged = new if kw.get("replace") else {**self.attributes, **new}
        self.attributes = clean_http_kwargs(merged)


def test_an_attribute_left_out_does_not_keep_its_old_value_in_ha():
    states = _AppDaemonStates()
    publisher = EntityPublisher(states.set_state)
    publisher.publish("sensor.x", "paused_by_us", {"override": "paused", "last_sent_a": 6}, 0.0)
    publisher.publish("sensor.x", "charging", {"last_sent_a": None}, 5.0)
    assert states.attributes == {}
