"""An EV charger of the Home Assistant OCPP integration (lbbrhzn/ocpp) as a Load Juggler load.

Per-device knowledge only: which HA entities tell what the charger does (`ocpp_status.py`,
`ocpp_lines.py`), and how a limit is sent (`ocpp_profiles.py`: an expiring charging profile over
a persistent fail-safe one). This module puts them together as the charger's capabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..config import LoadConfigError, LoadSettings, OcppSettings, parse_ocpp
from ..config.kinds.evse_connectors import has_connector_list, split_connectors
from ..engine.control_types import Command, LoadReading
from ..problems import report_config_problems
from .base import LoadApp, utc_now
from .capabilities import CycleContext, DeviceHost, ExtraEntity
from .load_entities import LoadEntities
from .ocpp_check import ObeyCheck, Observed
from .ocpp_discovery import Discovery, discover
from .ocpp_lines import LineCurrents
from .ocpp_profiles import ProfileWriter
from .ocpp_service import ChargeRateService, ha_charger_ids
from .ocpp_status import (
    CONNECTOR_STATUS,
    FINISHING,
    NO_SESSION_STATUSES,
    TX_STATUSES,
    ConnectorStatus,
    StatusSeen,
    is_offline,
)


def updated_s(full: dict[str, Any] | None) -> float | None:
    """When HA last updated an entity (epoch s); None when it does not say."""
    raw = (full or {}).get("last_updated")
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


#: A charger voltage outside this range (V) is not believed; the site voltage is used instead.
PLAUSIBLE_VOLTAGE_V = (100.0, 480.0)


class OcppDevice:
    """One connector of an HA OCPP charger: reads status and lines, writes charging profiles."""

    def __init__(
        self,
        host: DeviceHost,
        settings: LoadSettings,
        ocpp: OcppSettings,
        single_charger: Callable[[], bool] = lambda: True,
    ) -> None:
        self._host = host
        self._settings = settings
        self._ocpp = ocpp
        self._status = ConnectorStatus(host, ocpp)
        self._lines = LineCurrents(host, ocpp, settings.phases)
        self._service = ChargeRateService(host, ocpp, single_charger)
        self._profiles = ProfileWriter(host, ocpp, self._lines, self.voltage_v, self._service)
        self._check = ObeyCheck(host, ocpp, self._profiles)
        self._idle_since_s: float | None = None
        self._offered_a: float | None = None

    @property
    def last_sent_a(self) -> float | None:
        return self._profiles.last_sent_a

    # -- ChecksEntities

    def check_entities(self) -> None:
        e = self._ocpp.entities
        wanted = (*e.current_import, e.status_connector)
        missing = [eid for eid in wanted if not self._host.exists(eid)]
        if missing:
            self._host.log(
                f"charger '{self._ocpp.charger}': entity {', '.join(missing)} not found; check "
                "'charger' (the OCPP charge point id used in its entity ids) or override it under "
                "'entities:'. Until it appears the charger counts as unavailable",
                level="WARNING",
            )

    # -- ReadsState

    def _observe(self) -> StatusSeen:
        """The connector status; a reconnect makes the fail-safe due, a connector without
        a session forgets how many phases the last car used."""
        seen = self._status.observe()
        if seen.reconnected:
            self._profiles.reconnected()
        if seen.key in NO_SESSION_STATUSES:
            self._lines.new_car()
        return seen

    def read(self, ctx: CycleContext) -> LoadReading:
        seen = self._observe()
        key = seen.key
        self._offered_a = self._read_offered_a(ctx.voltage_v)
        # The most one line may carry: our range, or more when the charger offers more.
        line_max_a = max(self._settings.max_a, self._offered_a or 0.0)
        flowing = self._status.current_may_flow()
        draw = self._lines.read(ctx, self._profiles.last_sent_a, flowing, line_max_a)
        power_w = self._host.power_w(self._ocpp.entities.power_active_import, "kW")
        if draw is not None and key not in NO_SESSION_STATUSES:
            self._lines.note_draw(draw)
        self._verify(ctx.now_s, draw, key in TX_STATUSES)
        if key is None or is_offline(key):
            return LoadReading(connected=False, drawing=False, draw_a=draw, available=False)
        rest = self._status.rest(key)
        if rest is not None:
            self._idle_since_s = None
            return LoadReading(
                connected=True, drawing=False, draw_a=draw, available=True, rest=rest
            )
        known = CONNECTOR_STATUS.get(key)
        if known is None:
            self._status.warn_unknown(str(seen.raw))
            connected, drawing = True, None
        elif key == FINISHING:
            connected, drawing = True, None  # a new session already: goes by power like Preparing
        else:
            connected, drawing = known
        if drawing is None:
            drawing = self._drawing_by_power(power_w, ctx.now_s)
        else:
            self._idle_since_s = None
        return LoadReading(connected=connected, drawing=drawing, draw_a=draw, available=True)

    def _verify(
        self, now_s: float, draw: tuple[float | None, ...] | None, in_session: bool
    ) -> None:
        """Hand this cycle's offered current and draw, with their HA timestamps, to the check."""
        e = self._ocpp.entities
        known = [a for a in draw or () if a is not None]
        offered_from = e.current_offered if self._host.full(e.current_offered) else e.power_offered
        seen = Observed(
            offered_a=self._offered_a,
            offered_at_s=updated_s(self._host.full(offered_from)),
            draw_max_a=max(known, default=None),
            draw_at_s=updated_s(self._host.full(e.current_import[0])),
            in_session=in_session,
        )
        self._check.check(now_s, seen)

    def _drawing_by_power(self, power_w: float | None, now_s: float) -> bool:
        """SuspendedEV/Preparing: drawing while power flows and `idle_timeout_s` after it stops."""
        if power_w is not None and power_w >= self._ocpp.idle_power_w:
            self._idle_since_s = None
            return True
        if self._idle_since_s is None:
            self._idle_since_s = now_s
        return now_s - self._idle_since_s < self._ocpp.idle_timeout_s

    def _read_offered_a(self, site_voltage_v: float) -> float | None:
        e = self._ocpp.entities
        offered = self._host.current_a(e.current_offered, self.voltage_v(site_voltage_v))
        if offered is not None:
            return offered
        power_w = self._host.power_w(e.power_offered, "kW")
        if power_w is None:
            return None
        # Offered power is the charger's, on all of its configured phases.
        return round(power_w / (self.voltage_v(site_voltage_v) * self._settings.phases), 1)

    def voltage_v(self, site_voltage_v: float) -> float:
        """The charger's own voltage reading when plausible, else the site's."""
        volts = self._host.voltage_v(self._ocpp.entities.voltage)
        low, high = PLAUSIBLE_VOLTAGE_V
        return volts if volts is not None and low <= volts <= high else site_voltage_v

    # -- AppliesCommand, NeedsUpkeep, KeepsChargingAlone

    def apply(self, command: Command, ctx: CycleContext) -> None:
        target_a = round(command.current_a, 1) if command.on else 0.0
        transaction_id = self._status.transaction_id()
        self._profiles.write_limit(target_a, command.write, transaction_id, ctx, command.reason)

    def running_transaction(self) -> int | None:
        """The running transaction's id (None outside a session; see `ConnectorStatus`)."""
        return self._status.transaction_id()

    def session_changed(self, ctx: CycleContext) -> bool:
        """The connector status or transaction id changed: a transaction that started (or
        changed, or ended) gets the limit in force now, in a profile for it, rather than at the
        next refresh; True when a limit was sent."""
        self._observe()
        return self._profiles.resend_for_transaction(self._status.transaction_id(), ctx)

    def upkeep(self, ctx: CycleContext) -> None:
        """With or without a hub: notice a reconnect and keep the fail-safe profile installed.

        Only this timer (every WATCHDOG_S, and once at start) writes the fail-safe profile, so a
        charger that refuses it is retried once per tick, not once per tick and hub cycle.
        """
        self._observe()
        self._profiles.ensure_failsafe(ctx)

    def safe_current_a(self, reading: LoadReading) -> float:
        """Without a hub: a charging car at min_a or failsafe_a, whichever is lower; else 0 A."""
        if reading.available and reading.connected and reading.drawing:
            return min(self._settings.min_a, self._ocpp.failsafe_a)
        return 0.0

    # -- PublishesState

    def attributes(self) -> dict[str, Any]:
        written = self._profiles.attributes()
        return {
            "charger": self._ocpp.charger,
            "conn_id": self._ocpp.conn_id,
            "connector_status": self._status.text,
            "offered_a": self._offered_a,
            "last_sent_a": written["last_sent_a"],
            "rate_unit": written["rate_unit"],
            "failsafe_a": self._ocpp.failsafe_a,
            "failsafe_installed": written["failsafe_installed"],
            "profile_check": self._check.problem or "ok",
            "sends_devid": self._service.with_devid,
        }

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        return ()


class OcppCharger(LoadApp):
    """An HA OCPP charger; apps.yaml: `charger: <cpid>` + the common load keys.

    One connector: this app is the load. A list under `connectors:`: this app builds one
    `OcppConnector` per entry, each a load of its own (`ocpp_connectors.py`), and is none itself.
    """

    KIND = "ocpp"

    def initialize(self) -> None:
        #: The connectors' loads of a charger with a `connectors:` list (empty otherwise).
        self.connector_loads: list[OcppCharger] = []
        self._discovery: Discovery | str | None = None
        if has_connector_list(self.args):
            self._start_connectors()
            return
        super().initialize()
        if not self.config_ok:
            return
        e = self.ocpp.entities
        for entity_id in (e.transaction_id, e.status_connector):
            self.listen_state(self._on_session_entity, entity_id)

    def terminate(self) -> None:
        for connector in self.connector_loads:
            connector.terminate()
        super().terminate()

    def config_item(self) -> str | None:
        """What configuration messages call this load (None: `app '<name>'`)."""
        return None

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, OcppDevice]:
        common, ocpp = parse_ocpp(self.name, args, self.config_item())
        self.ocpp = self._with_device_entities(ocpp, common.phases, args.get("entities"))
        self.charger = OcppDevice(self.host, common, self.ocpp, self._single_charger)
        self.goals = self.goal_reader(self.ocpp.goal)
        return common, self.charger

    def _with_device_entities(
        self, ocpp: OcppSettings, phases: int, overrides: Any
    ) -> OcppSettings:
        """The settings with the entities found on the charger's HA device (`ocpp_discovery`);
        asked once per start, and what was found and will be used is logged once."""
        if self._discovery is None:
            overridden = frozenset(overrides) if isinstance(overrides, dict) else frozenset()
            ref = ocpp.device or ocpp.entities.status_connector
            self._discovery = discover(
                self.render_template, ref, ocpp.conn_id, ocpp.entities, overridden, phases
            )
            if isinstance(self._discovery, Discovery):
                self.log(self._discovery.describe(ocpp.charger))
            else:
                self.log(
                    f"charger '{ocpp.charger}': entities not looked up on its device "
                    f"({self._discovery}); using the entity ids derived from 'charger'"
                )
        if isinstance(self._discovery, Discovery):
            return replace(ocpp, entities=self._discovery.entities)
        return ocpp

    def _start_connectors(self) -> None:
        """Build and start one load per entry of `connectors:`; this app is none itself."""
        from .ocpp_connectors import OcppConnector  # it subclasses this class

        self._link = None
        self.config_ok = False
        self.settings = None
        self.problems: list[str] = []
        self._entities = LoadEntities(self.name, self.set_state)
        try:
            plan = split_connectors(self.name, dict(self.args))
        except LoadConfigError as err:
            self.problems = [str(p) for p in err.problems]
            report_config_problems(self.log, self.problems, "not started", "this app")
            self.publish_state("error", self.problems[0])
            return
        self.config_ok = True
        unit = plan.unit
        how = "concurrent" if unit.concurrent else "sequential: one car at a time"
        limit = f"unit_max_a {unit.max_a:g} A" if unit.max_a is not None else "no unit_max_a"
        self.log(
            f"charger with {len(plan.connectors)} connectors ({how}, {limit}): loads "
            + ", ".join(c.name for c in plan.connectors)
        )
        for part in plan.connectors:
            connector = OcppConnector(self, part.name, part.args, unit, part.item)
            connector.initialize()
            self.connector_loads.append(connector)

    def _on_session_entity(
        self, entity: str, attribute: str, old: Any, new: Any, cb_args: dict[str, Any]
    ) -> None:
        """A transaction starts, changes or ends: its limit goes out now, not at the next
        refresh (a car plugged in with 4 A of room drew the charger's default meanwhile)."""
        if self._link is None:
            return
        ctx, _last_s, _on_own = self._link.silence(utc_now(self))
        with self._apply_lock:
            try:
                self.charger.session_changed(ctx)
            except Exception as err:  # never let a callback error stop the app
                self.host.call_failed("sending the limit", f"{type(err).__name__}: {err}")

    def clear_profiles(self) -> tuple[bool, str]:
        """`ocpp.clear_profile` on this charger (every profile of every connector); the caller
        sends ours again at once (`resend`) on every connector it drives."""
        ok, detail = self.host.call("ocpp/clear_profile", devid=self.ocpp.devid)
        return ok, "" if ok else f"ocpp/clear_profile failed: {detail}"

    def _single_charger(self) -> bool:
        """True when every OCPP charger app on this load's hub drives this charger (devid):
        an integration without `devid` then reaches it as its first charger."""
        assert self.settings is not None
        try:
            hub = self.get_app(self.settings.hub)
            names = list(hub.load_names) if hub is not None else None
        except Exception:
            names = None
        if names is None:
            return False
        devids = {self.ocpp.devid}
        siblings = {load.name: load for load in self.sibling_loads()}
        for name in names:
            try:
                app = siblings.get(name) or self.get_app(name)
            except Exception:
                return False
            if app is None:
                # A load without an app of its own: a connector of another charger app,
                # which may be another charger.
                return False
            ocpp = getattr(app, "ocpp", None)
            if ocpp is not None:
                devids.add(ocpp.devid)
        return len(devids) == 1 and self._ha_has_one_charger()

    def _ha_has_one_charger(self) -> bool:
        """True when Home Assistant shows a single OCPP charger. At start a second charger's
        app may not have registered with the hub yet, so the hub's list alone cannot tell that
        a call without `devid` (to the integration's first charger) lands on this one."""
        try:
            sensors = self.get_state("sensor")
        except Exception:
            return False
        return len(ha_charger_ids(sensors)) == 1

    def session_id(self) -> str | None:
        """The running transaction's id (its delivered energy is kept under it)."""
        charger = getattr(self, "charger", None)
        tx = charger.running_transaction() if charger is not None else None
        return None if tx is None else f"transaction {tx}"

    def sibling_loads(self) -> list[OcppCharger]:
        """The loads of this charger app (its connectors; none for a single connector)."""
        return self.connector_loads

    @property
    def last_sent_a(self) -> float | None:
        """The last limit the charger accepted (None before the first success)."""
        return self.charger.last_sent_a
