"""The Litestar application: wires storage, devices, runs, the live feed and the pages."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar, get
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from sqlalchemy import Engine, text

from hardware.errors import HardwareError
from server.api_docs import openapi_config
from server.auth.controllers import AuthController
from server.auth.forwarded import TrustedProxies
from server.auth.guards import coach_policy
from server.auth.headers import add_security_headers
from server.auth.middleware import SecurityMiddleware
from server.auth.service import AuthService
from server.catalog.service import Catalog
from server.config import Settings
from server.corrections.controllers import CorrectionsController
from server.corrections.service import CorrectionService
from server.days.controllers import DayPlansController
from server.days.service import DayPlanService
from server.db.session import make_engine
from server.devices.controllers import DevicesController
from server.devices.layouts import LayoutService, restore_main_layout
from server.devices.service import DeviceService
from server.errors import EXCEPTION_HANDLERS
from server.input_limits import check_input
from server.leaderboard import summary as board_summary
from server.leaderboard.controllers import LeaderboardController
from server.live.controllers import live_feed, live_since
from server.live.hub import LiveHub
from server.live.privacy import NameRedactor
from server.pages import PAGE_HANDLERS
from server.plans.controllers import PlansController
from server.plans.service import PlanService
from server.reports.controllers import ReportsController
from server.request_ids import add_request_id
from server.roster.controllers import AthletesController, RosterCsvController, TeamsController
from server.runs.controllers import RunsController
from server.runs.coordinator import Binding, RunCoordinator
from server.runs.recorder import RunRecorder
from server.settings.controllers import SettingsController
from server.sim.demo import Demo
from server.stations.actions import StationActionsController
from server.stations.controllers import StationsController
from server.stations.desk import StationDesk
from server.stations.flags import FlagsController, FlagService
from server.stations.links import StationLinksController
from server.stations.overview import StationsOverviewController
from server.stations.registry import Stations

log = logging.getLogger(__name__)

WEB_DIR = Path(str(files("web"))) / "static"


@dataclass
class Services:
    """Everything the routes and background jobs share, built once per app."""

    settings: Settings
    engine: Engine
    catalog: Catalog
    live: LiveHub
    recorder: RunRecorder
    coordinator: RunCoordinator
    devices: DeviceService
    scheduler: AsyncIOScheduler
    plans: PlanService
    stations: Stations
    demo: Demo | None = None


def build_services(
    settings: Settings,
    catalog: Catalog | None = None,
    on_rep: Callable[[dict[str, Any]], None] | None = None,
) -> Services:
    """Expects a migrated database (see server.db.session.migrate). `on_rep` hears every rep
    a plan session records (the headless `agility run PLAN` prints them)."""
    engine = make_engine(settings.db)
    catalog = catalog or Catalog.load()
    catalog.sync(engine)
    if board_summary.ensure_built(engine):
        log.info("leaderboard summary built from the stored reps")
    # /ws/live is public: names as the privacy setting says.
    live = LiveHub(redact=NameRedactor(engine))
    recorder = RunRecorder(engine, live)
    # The devices and the stations need each other: the devices ask the stations (built just
    # below) only once a port is open, which is after this function has returned.
    devices = DeviceService(
        # Every device event goes to the one station that holds its device (the main one else).
        lambda event: stations.on_device_event(event),
        live,
        # A device bound to a role is never forgotten for going quiet (hardware/registry.py).
        keep=lambda state: any(state.key in station.devices() for station in stations.all()),
    )
    coordinator = RunCoordinator(
        recorder, layout={}, readiness=devices.not_ready_reason, outputs=devices
    )

    def station_coordinator(name: str, layout: dict[str, Binding]) -> RunCoordinator:
        return RunCoordinator(
            recorder.for_station(name), layout, readiness=devices.not_ready_reason, outputs=devices
        )

    stations = Stations(engine, coordinator, station_coordinator)
    stations.load()
    scheduler = AsyncIOScheduler(timezone="UTC")
    plans = PlanService(
        engine,
        catalog,
        coordinator,
        live,
        scheduler,
        coordinator_of=lambda name: coordinator if name is None else stations.get(name).coordinator,
        on_rep=on_rep,
    )
    demo = None
    if settings.demo:
        plans.use_simulator(devices, settings.seed)
        demo = Demo(
            catalog,
            coordinator,
            devices,
            scheduler,
            settings.seed,
            busy=plans.claims_lane,
            stations=stations,
        )
    return Services(
        settings,
        engine,
        catalog,
        live,
        recorder,
        coordinator,
        devices,
        scheduler,
        plans,
        stations,
        demo,
    )


@get("/healthz", sync_to_thread=False, tags=["health"])
def healthz(services: Services) -> dict[str, Any]:
    """Liveness for scripts: the database answers and the devices the server holds."""
    with services.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "database": services.engine.url.get_backend_name(),
        "devices": len(services.devices.snapshot()),
        "live_clients": services.live.client_count,
    }


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    svc = services or build_services(settings)
    desk = StationDesk(svc.plans, svc.stations, svc.engine)  # keeps each station's unknown tags
    day_plans = DayPlanService(svc.engine, svc.plans, svc.stations, svc.catalog)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        svc.scheduler.start()
        try:
            # Nothing is under way at a start: reps a crash left open are closed, and the main
            # station is bound as it was last applied (other stations load their own).
            if orphans := svc.recorder.close_orphans():
                log.warning("%d rep(s) left open by the last run closed as interrupted", orphans)
            restore_main_layout(
                svc.engine,
                svc.coordinator,
                lambda device: next(
                    (s.name for s in svc.stations.all()[1:] if device in s.devices()), None
                ),
            )
            for url in settings.devices:
                try:
                    await svc.devices.open(url)
                except (HardwareError, ValueError) as exc:
                    # The server still starts: the coach can fix the cable or the kind and
                    # add the port again from the Devices page.
                    log.error("device %s not opened: %s", url, exc)
            if settings.usb_ids:
                svc.devices.watch_usb(settings.usb_ids)
            if svc.demo is not None:
                await svc.demo.start()
            # After the devices: a session due now may arm its first rep at once.
            await svc.plans.start()
            yield
        finally:
            await svc.plans.stop()
            if svc.demo is not None:
                await svc.demo.stop()
            svc.scheduler.shutdown(wait=False)
            await svc.devices.close_all()
            svc.engine.dispose()

    def corrections() -> CorrectionService:
        return CorrectionService(svc.engine, svc.live, svc.catalog)

    return Litestar(
        route_handlers=[
            healthz, live_feed, live_since, LeaderboardController, RunsController,
            CorrectionsController, DevicesController, PlansController, StationsController,
            FlagsController,
            StationActionsController, StationLinksController, StationsOverviewController,
            DayPlansController,
            AuthController, TeamsController, AthletesController,
            RosterCsvController, SettingsController, ReportsController, *PAGE_HANDLERS,
            create_static_files_router(path="/static", directories=[WEB_DIR],
                                       include_in_schema=False),
        ],
        dependencies={
            "services": Provide(lambda: svc, sync_to_thread=False),
            "db_engine": Provide(lambda: svc.engine, sync_to_thread=False),
            "catalog": Provide(lambda: svc.catalog, sync_to_thread=False),
            "live_hub": Provide(lambda: svc.live, sync_to_thread=False),
            "plan_service": Provide(lambda: svc.plans, sync_to_thread=False),
            "stations": Provide(lambda: svc.stations, sync_to_thread=False),
            "station_desk": Provide(lambda: desk, sync_to_thread=False),
            "day_plans": Provide(lambda: day_plans, sync_to_thread=False),
            "app_settings": Provide(lambda: svc.settings, sync_to_thread=False),
            "devices": Provide(lambda: svc.devices, sync_to_thread=False),
            "layouts": Provide(lambda: LayoutService(svc.engine, svc.coordinator),
                               sync_to_thread=False),
            "flags": Provide(lambda: FlagService(svc.engine, corrections()), sync_to_thread=False),
            "corrections": Provide(corrections, sync_to_thread=False),
        },
        lifespan=[lifespan],
        # Login, CSRF and the coach-only rule for every route: server/auth/.
        middleware=[SecurityMiddleware(AuthService(svc.engine),
                                       TrustedProxies.parse(settings.trusted_proxies))],
        guards=[coach_policy],
        before_send=[add_security_headers, add_request_id],  # on 404s too
        before_request=check_input,  # 64-bit ids, no NUL, finite numbers: server/input_limits.py
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=openapi_config("Agility drill orchestrator", "0.1.0"),  # offline docs
    )  # fmt: skip
