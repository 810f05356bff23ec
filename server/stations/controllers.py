"""Station routes: a station is a resource with its devices, its start spacing and its sessions.

The session routes of /api/plans/sessions/{id} (progress, pause, resume, go, swap, skip,
abort) work on a station's session as on any other: a session knows its station.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Controller, delete, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from server.auth.guards import requires_coach
from server.plans.service import PlanService
from server.plans.store import SessionInfo
from server.stations.registry import MAIN, Stations


@dataclass
class StationRequest:
    bindings: dict[str, Any] = field(default_factory=dict)
    """The course's roles and their devices, as a layout's bindings: {"role": {"device",
    "channel"}}, with a gate rule if wanted ("trigger", "channels", "rearm_ms", "window_ms")."""
    min_start_spacing_s: float = 0.0
    """Seconds between two athletes' starts on this course: 0, one athlete at a time."""


@dataclass
class StationSessionRequest:
    plan_id: int
    """The plan to run on this station (POST /api/plans makes one)."""
    at: datetime | None = None
    """UTC time to start (with its offset); None starts now."""
    time_scale: float = 1.0
    """Rests and countdowns are multiplied by this (tests and demos); 1 on a real field."""


@dataclass
class StationInfo:
    name: str
    bindings: dict[str, Any]
    min_start_spacing_s: float
    on_course: dict[str, Any] | None
    """The athlete armed or running last: athlete, drill, rep, run_id; null between reps."""
    course: list[dict[str, Any]]
    """Every rep under way, in start order (several when starts may overlap)."""


def _info(stations: Stations, name: str) -> StationInfo:
    return StationInfo(**stations.info(stations.get(name)))


class StationsController(Controller):
    path = "/api/stations"
    tags = ("stations",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=False)
    def list_stations(self, stations: Stations) -> list[StationInfo]:
        """Every station, the main one first."""
        return [_info(stations, s.name) for s in stations.all()]

    @get("/{name:str}", sync_to_thread=False)
    def get_station(self, name: str, stations: Stations) -> StationInfo:
        return _info(stations, name)

    @put("/{name:str}", sync_to_thread=False, status_code=HTTP_200_OK)
    def put_station(self, name: str, data: StationRequest, stations: Stations) -> StationInfo:
        """Create a station or change its devices and start spacing (between reps). A device
        another station holds is refused, naming that station."""
        stations.put(name, data.bindings, data.min_start_spacing_s)
        return _info(stations, name)

    @delete("/{name:str}", sync_to_thread=False, status_code=HTTP_204_NO_CONTENT)
    def delete_station(self, name: str, stations: Stations) -> None:
        """Remove a station with no session planned or going; its devices are free again."""
        stations.remove(name)

    @post("/{name:str}/sessions", sync_to_thread=False, status_code=HTTP_200_OK)
    def schedule(
        self, name: str, data: StationSessionRequest, stations: Stations,
        plan_service: PlanService,
    ) -> SessionInfo:  # fmt: skip
        """Run a plan on this station, now or at `at`; one session at a time per station."""
        stations.get(name)  # 404 for an unknown station
        station = None if name == MAIN else name
        return plan_service.schedule(data.plan_id, data.at, data.time_scale, station)
