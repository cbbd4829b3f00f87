"""A trivial AppDaemon app that proves the e2e chain before any Load Juggler app is involved:
AppDaemon connects to the test HA, reads an input_number, calls the fake `ocpp.set_charge_rate` and
publishes an entity back into HA."""

from __future__ import annotations

from typing import Any

from appdaemon.plugins.hass.hassapi import Hass


class Smoke(Hass):
    """Each second: offer the charger as many amps as input_number.house_l1_a says, through an
    expiring TxDefaultProfile (what lifts a charger above its fail-safe default)."""

    def initialize(self) -> None:
        """Start ticking at once."""
        self.ticks = 0
        self.checked_schema = False
        self.run_every(self.tick, "immediate", 1)
        self.log("smoke: ready")

    def tick(self, cb_args: dict[str, Any]) -> None:
        """One cycle: read, write the charger, publish.

        AppDaemon 4.5.13 may start apps before it has fetched HA's service list, so a call can
        raise DomainException for the first second or so, and even before its HASS plugin has
        fetched HA's states (seen on a loaded machine: `All plugins ready` logged before the
        plugin's `Completed initialization`), so the input reads None; like any cycle it just
        tries again.
        """
        self.ticks += 1
        house_a = self.get_state("input_number.house_l1_a")
        if house_a is None:
            return
        wanted = float(house_a)
        try:
            if not self.checked_schema:
                refused = self.call_service(
                    "ocpp/set_charge_rate", devid="charger", limit_amps=6, bogus_field=1
                )
                self.log("smoke: call with an extra key -> success=%s", refused.get("success"))
                self.checked_schema = True
            result = self.call_service(
                "ocpp/set_charge_rate",
                devid="charger",
                conn_id=1,
                custom_profile={
                    "chargingProfileId": 77,
                    "stackLevel": 3,
                    "chargingProfileKind": "Relative",
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "duration": 10,
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": wanted}],
                    },
                },
            )
        except Exception as err:  # the point is to survive and retry
            self.log("smoke: service call failed, retrying next tick: %r", err)
            return
        self.set_state(
            "sensor.lj_e2e_smoke",
            state=self.ticks,
            attributes={"wanted_a": wanted, "service_ok": "yes" if result.get("success") else "no"},
            check_existence=False,
        )
