"""The simulated site: chargers with a car behind them, switch plugs, and the grid CTs.

Every tick (and right after every service call) the plant recomputes what each car draws from the
limit its charger's profiles allow now, then the grid current per site phase as
house load + chargers + plugs - solar (+ battery charging), and tells the entities to write their
states. Import is positive, export negative, like a grid CT that Load Juggler reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from .profiles import Profile, ProfileError, ProfileStore, parse_profile

DOMAIN = "fake_ocpp"
SIGNAL_UPDATE = f"{DOMAIN}_update"
PHASES = ("L1", "L2", "L3")
STATION_PROFILE_ID = 1000  # what HA OCPP uses for its ChargePointMaxProfile
STATION_STACK_LEVEL = 8  # the ChargeProfileMaxStackLevel the fake charger reports
FIRST_TRANSACTION_ID = 1001


@dataclass
class ChargerSim:
    """One connector of a charger and the car plugged into it (a charger with `connectors: N`
    is N of these with one cpid, as the integration names them:
    `sensor.<cpid>_connector_<n>_<measurand>`)."""

    cpid: str
    default_limit_a: float
    max_current_a: float
    car_connected: bool
    car_phases: int
    car_max_a: float
    car_min_a: float
    phase_map: list[str]
    voltage: float
    store: ProfileStore = field(default_factory=ProfileStore)
    offered_a: float = 0.0
    limit_source: str = "default"
    draw_a: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    calls: int = 0
    rejected: int = 0
    last_call: dict[str, Any] | None = None
    last_error: str | None = None
    #: The integration's transaction sensor: it keeps the last id after StopTransaction.
    transaction_id: int = 0
    #: A transaction runs (StartTransaction without StopTransaction since).
    in_transaction: bool = False
    #: The per-line currents last reported above 0: the integration keeps them as attributes
    #: when the state drops to 0 (StopTransaction, SuspendedEV/EVSE).
    lines_a: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    #: Accepts every profile and goes on offering its own default (as some chargers do).
    ignores_profiles: bool = False
    initial: dict[str, Any] = field(default_factory=dict)
    conn_id: int = 1
    connectors: int = 1
    #: MeterValues come this often (the integration's default is 60 s): current, power and
    #: offered current are what the last meter values said, status and transaction at once.
    meter_interval_s: float = 60.0
    meter_at: datetime | None = None
    metered_draw_a: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    metered_lines_a: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    metered_offered_a: float = 0.0

    def __post_init__(self) -> None:
        self.initial = {
            "car_connected": self.car_connected,
            "car_phases": self.car_phases,
            "car_max_a": self.car_max_a,
            "meter_interval_s": self.meter_interval_s,
        }
        if self.car_connected:
            self.transaction_id = FIRST_TRANSACTION_ID
            self.in_transaction = True

    def set_custom_profile(self, raw: Any, conn_id: int) -> None:
        """`custom_profile` goes to the charger as-is, on connector `conn_id` (HA OCPP: default 0).
        A TxProfile needs a running transaction, and its transactionId must be that one."""
        profile = parse_profile(raw, conn_id, dt_util.utcnow())
        if profile.purpose == "TxProfile":
            if not self.in_transaction:
                raise ProfileError(
                    f"TxProfile for transaction {profile.transaction_id} without a running "
                    "transaction"
                )
            if profile.transaction_id not in (None, self.transaction_id):
                raise ProfileError(
                    f"TxProfile for transaction {profile.transaction_id}, "
                    f"running is {self.transaction_id}"
                )
        self.store.install(profile)

    def set_station_limit(self, limit: float, unit: str) -> None:
        """What HA OCPP 1.6 sends for limit_amps / limit_watts: a Relative station-wide profile
        without duration or validTo, so it stays until replaced or cleared."""
        raw = {
            "chargingProfileId": STATION_PROFILE_ID,
            "stackLevel": STATION_STACK_LEVEL,
            "chargingProfileKind": "Relative",
            "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingSchedule": {
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(limit)}],
            },
        }
        self.store.install(parse_profile(raw, 0, dt_util.utcnow()))

    def clear_profiles(self) -> None:
        """`ocpp.clear_profile`: ClearChargingProfile without filters."""
        self.store.clear()

    def note_call(self, data: dict[str, Any]) -> None:
        """Count an accepted set_charge_rate so tests can see that the apps wrote."""
        self.calls += 1
        self.last_call = data

    def note_rejected(self, data: dict[str, Any], error: str) -> None:
        """Remember a refused call: the diagnostic entity shows it to the tests."""
        self.rejected += 1
        self.last_call = data
        self.last_error = error

    def set_car(self, connected: bool | None, phases: int | None, max_a: float | None) -> None:
        """Plug the car in or out, or change what it can take."""
        if connected is not None and connected != self.car_connected:
            self.car_connected = connected
            if connected:
                self.transaction_id = max(self.transaction_id, FIRST_TRANSACTION_ID - 1) + 1
                self.in_transaction = True
            else:  # StopTransaction: the integration keeps showing the old id
                self.in_transaction = False
                self.store.end_transaction()
            self.meter_at = None  # Start/StopTransaction carry a meter value: report at once
        if phases is not None:
            self.car_phases = phases
        if max_a is not None:
            self.car_max_a = max_a

    def reset(self) -> None:
        """Back to the configured car, no profiles, no counted calls."""
        self.store.clear()
        self.set_car(connected=self.initial["car_connected"], phases=None, max_a=None)
        self.car_phases = self.initial["car_phases"]
        self.car_max_a = self.initial["car_max_a"]
        self.calls = self.rejected = 0
        self.last_call = self.last_error = None
        self.ignores_profiles = False
        self.meter_interval_s = self.initial["meter_interval_s"]
        self.meter_at = None

    def step(self, now: datetime) -> None:
        """The car takes min(offer, its max) on its phases, nothing below its minimum."""
        limit, self.limit_source = self.store.limit_a(
            now,
            self.voltage,
            self.default_limit_a,
            transaction=self.in_transaction,
            connector=self.conn_id,
        )
        if self.ignores_profiles:
            limit, self.limit_source = self.default_limit_a, "default (ignores profiles)"
        self.offered_a = round(max(0.0, min(limit, self.max_current_a)), 2)
        per_phase = 0.0
        if self.car_connected and self.offered_a >= self.car_min_a:
            per_phase = min(self.offered_a, self.car_max_a)
        self.draw_a = {
            phase: per_phase if index < self.car_phases else 0.0
            for index, phase in enumerate(PHASES)
        }
        if any(self.draw_a.values()):
            self.lines_a = dict(self.draw_a)
        if self.meter_at is None or (now - self.meter_at).total_seconds() >= self.meter_interval_s:
            self.meter_at = now
            self.metered_draw_a = dict(self.draw_a)
            self.metered_lines_a = dict(self.lines_a)
            self.metered_offered_a = self.offered_a

    @property
    def prefix(self) -> str:
        """Start of its entity ids: `<cpid>_`, or `<cpid>_connector_<n>_` with several."""
        if self.connectors > 1:
            return f"{self.cpid}_connector_{self.conn_id}_"
        return f"{self.cpid}_"

    @property
    def status(self) -> str:
        """OCPP StatusNotification values for this connector."""
        if not self.car_connected:
            return "Available"
        if any(self.draw_a.values()):
            return "Charging"
        return "SuspendedEVSE"

    def profiles_summary(self, now: datetime) -> list[dict[str, Any]]:
        """All installed profiles, active or lapsed."""
        profiles: list[Profile] = self.store.profiles
        return [profile.summary(now, self.voltage) for profile in profiles]


@dataclass
class PlugSim:
    """A switch with a fixed load on one site phase."""

    name: str
    power_w: float
    phase: str
    is_on: bool = False

    def current_a(self, voltage: float) -> float:
        """Current on the plug's phase."""
        return self.power_w / voltage if self.is_on else 0.0


class Plant:
    """The whole test site, owned by the fake_ocpp integration."""

    def __init__(self, hass: HomeAssistant, conf: dict[str, Any]) -> None:
        self.hass = hass
        #: False: `ocpp.set_charge_rate` refuses `devid`, as releases before 0.8.0 do.
        self.accepts_devid = True
        self.voltage: float = conf["voltage"]
        self.house_entities: list[str] = conf["house_a"]
        self.solar_entity: str = conf["solar_w"]
        self.battery_entity: str | None = conf.get("battery_w")
        self.fault_entity: str | None = conf.get("grid_fault")
        self.chargers = [
            ChargerSim(
                voltage=self.voltage,
                conn_id=conn_id,
                **{"default_limit_a": charger["max_current_a"], **charger},
            )
            for charger in conf["chargers"]
            for conn_id in range(1, charger.get("connectors", 1) + 1)
        ]
        self.plugs = [PlugSim(**plug) for plug in conf["plugs"]]
        #: Variable-power loads: {number, enable, phase}; they draw the number's W while enabled.
        self.power_loads: list[dict[str, Any]] = conf.get("power_loads", [])
        self.grid_a: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.grid_available = True

    def charger_for(self, devid: str | None, conn_id: int | None = None) -> ChargerSim:
        """HA OCPP falls back to the first charger when devid is missing or unknown; a
        connector by `conn_id` (its first one when not given)."""
        return self.connectors_of(devid, conn_id)[0]

    def connectors_of(self, devid: str | None, conn_id: int | None = None) -> list[ChargerSim]:
        """The connectors a call reaches: `conn_id` 0 (or none) on a charger with several
        reaches all of them, as a profile for connector 0 does."""
        if not self.chargers:
            raise KeyError("no charger configured")
        cpid = devid if any(c.cpid == devid for c in self.chargers) else self.chargers[0].cpid
        group = [c for c in self.chargers if c.cpid == cpid]
        if conn_id:
            chosen = [c for c in group if c.conn_id == conn_id]
            if chosen:
                return chosen
        return group

    def reset(self) -> None:
        """Reset every charger (profiles, counters, car) and switch plugs off."""
        for charger in self.chargers:
            charger.reset()
        for plug in self.plugs:
            plug.is_on = False

    def _number(self, entity_id: str | None) -> float:
        """An input entity's value; a missing or non-numeric one counts as 0."""
        if entity_id is None:
            return 0.0
        state = self.hass.states.get(entity_id)
        try:
            return float(state.state) if state is not None else 0.0
        except ValueError:
            return 0.0

    def _is_on(self, entity_id: str | None) -> bool:
        state = self.hass.states.get(entity_id) if entity_id else None
        return state is not None and state.state == "on"

    def update(self) -> None:
        """Recompute the site and let every entity write its state (HA drops unchanged ones)."""
        now = dt_util.utcnow()
        grid = {
            phase: self._number(entity)
            for phase, entity in zip(PHASES, self.house_entities, strict=True)
        }
        for charger in self.chargers:
            charger.step(now)
            for charger_phase, site_phase in zip(PHASES, charger.phase_map, strict=True):
                grid[site_phase] += charger.draw_a[charger_phase]
        for plug in self.plugs:
            grid[plug.phase] += plug.current_a(self.voltage)
        for load in self.power_loads:
            enable = load.get("enable")
            if enable is None or self._is_on(enable):
                grid[load["phase"]] += max(0.0, self._number(load["number"])) / self.voltage
        per_phase_w = (self._number(self.battery_entity) - self._number(self.solar_entity)) / 3
        for phase in PHASES:
            grid[phase] += per_phase_w / self.voltage
        self.grid_a = {phase: round(value, 2) for phase, value in grid.items()}
        self.grid_available = not self._is_on(self.fault_entity)
        async_dispatcher_send(self.hass, SIGNAL_UPDATE)
