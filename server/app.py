"""The Litestar application: wires storage, devices, runs, the live feed and the pages."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar, MediaType, Response, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from sqlalchemy import Engine, text

from server.catalog.service import Catalog
from server.config import Settings
from server.db.session import make_engine
from server.demo import Demo
from server.devices.service import DeviceManager
from server.errors import EXCEPTION_HANDLERS
from server.leaderboard.controllers import LeaderboardController
from server.live.controllers import live_feed
from server.live.hub import LiveHub
from server.plans.controllers import PlansController
from server.plans.service import PlanService
from server.runs.controllers import RunsController
from server.runs.coordinator import RunCoordinator
from server.runs.recorder import RunRecorder

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
    devices: DeviceManager
    scheduler: AsyncIOScheduler
    plans: PlanService
    demo: Demo | None = None


def build_services(settings: Settings, catalog: Catalog | None = None) -> Services:
    """Expects a migrated database (see server.db.session.migrate)."""
    engine = make_engine(settings.db)
    catalog = catalog or Catalog.load()
    catalog.sync(engine)
    live = LiveHub()
    recorder = RunRecorder(engine, live)
    coordinator = RunCoordinator(recorder, layout={})
    devices = DeviceManager(coordinator.on_device_event)
    coordinator.readiness = devices.not_ready_reason
    scheduler = AsyncIOScheduler(timezone="UTC")
    plans = PlanService(engine, catalog, coordinator, live, scheduler)
    services = Services(
        settings, engine, catalog, live, recorder, coordinator, devices, scheduler, plans
    )
    if settings.demo:
        services.demo = Demo(catalog, coordinator, devices, scheduler, settings.seed)
    return services


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


@get("/api/devices", sync_to_thread=False, tags=["devices"])
def list_devices(services: Services) -> list[dict[str, Any]]:
    """Every identified device with its clock-sync quality and link counters."""
    return services.devices.snapshot()


@get("/", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    return Response((WEB_DIR / "index.html").read_bytes(), media_type=MediaType.HTML)


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    svc = services or build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        svc.scheduler.start()
        try:
            for url in settings.devices:
                await svc.devices.open(url)
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

    return Litestar(
        route_handlers=[
            healthz, list_devices, index, live_feed, LeaderboardController, RunsController,
            PlansController,
            create_static_files_router(path="/static", directories=[WEB_DIR],
                                       include_in_schema=False),
        ],
        dependencies={
            "services": Provide(lambda: svc, sync_to_thread=False),
            "db_engine": Provide(lambda: svc.engine, sync_to_thread=False),
            "catalog": Provide(lambda: svc.catalog, sync_to_thread=False),
            "live_hub": Provide(lambda: svc.live, sync_to_thread=False),
            "plan_service": Provide(lambda: svc.plans, sync_to_thread=False),
        },
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(title="Agility drill orchestrator", version="0.1.0",
                                     path="/schema"),
    )  # fmt: skip
