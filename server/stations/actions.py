"""Station routes an assistant's link may call too (for its own station only): the state, check-in
by tag and the session controls. Thin: the logic is in StationDesk (server/stations/desk.py).

`opt={STATION_OPT: True}` hands the check to server/auth/guards.py (`requires_station`): a
signed-in coach, or the link of the station that `{name}` names, and nobody else.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK

from server.auth.guards import STATION_OPT
from server.stations.desk import CheckinResult, StationDesk, StationState


@dataclass
class CheckinRequest:
    tag: str
    """The tag as the reader typed it (RFID UID, barcode, QR text); trimmed and upper-cased
    here, at most 64 printable ASCII characters."""


@dataclass
class StationVoidRequest:
    run_id: int | None = None
    """Whose rep to void when several athletes are on course (the `run_id` of a rep in the
    station's `course`); without it, the only rep under way."""


@dataclass
class StationSwapRequest:
    athlete: str
    """Name of the athlete to put up next, as the plan names them."""


class StationActionsController(Controller):
    path = "/api/stations"
    tags = ("stations",)
    opt = MappingProxyType({STATION_OPT: True})

    # On the loop (sync_to_thread=False): the plan runners live there.
    @get("/{name:str}/state", sync_to_thread=False)
    def state(self, name: str, station_desk: StationDesk) -> StationState:
        """The station, its running session's progress (queue, who is on course, done reps
        with times) and the tags read here that nobody has."""
        return station_desk.state(name)

    @post("/{name:str}/checkin", sync_to_thread=False, status_code=HTTP_200_OK)
    def checkin(self, name: str, data: CheckinRequest, station_desk: StationDesk) -> CheckinResult:
        """The tag's athlete goes up next. 404 for a tag on nobody (kept for the coach), 409
        for an athlete not in this station's plan or no session running, 422 for a bad tag."""
        return station_desk.checkin(name, data.tag)

    @post("/{name:str}/void", sync_to_thread=False, status_code=HTTP_200_OK)
    def void(
        self, name: str, station_desk: StationDesk, data: StationVoidRequest | None = None
    ) -> StationState:
        """Void a rep under way; the others on course run on, the next athlete is up. 409
        when several are on course and no `run_id` says whose."""
        return station_desk.void(name, None if data is None else data.run_id)

    @post("/{name:str}/skip", sync_to_thread=False, status_code=HTTP_200_OK)
    def skip(self, name: str, station_desk: StationDesk) -> StationState:
        """Void the rep on course, or pass over the athlete up next."""
        return station_desk.skip(name)

    @post("/{name:str}/go", sync_to_thread=False, status_code=HTTP_200_OK)
    def go(self, name: str, station_desk: StationDesk) -> StationState:
        """Start the armed rep of a coach-go drill: the clock starts now."""
        return station_desk.go(name)

    @post("/{name:str}/pause", sync_to_thread=False, status_code=HTTP_200_OK)
    def pause(self, name: str, station_desk: StationDesk) -> StationState:
        """No new rep is armed; a rep on course finishes."""
        return station_desk.pause(name)

    @post("/{name:str}/resume", sync_to_thread=False, status_code=HTTP_200_OK)
    def resume(self, name: str, station_desk: StationDesk) -> StationState:
        return station_desk.resume(name)

    @post("/{name:str}/swap", sync_to_thread=False, status_code=HTTP_200_OK)
    def swap(self, name: str, data: StationSwapRequest, station_desk: StationDesk) -> StationState:
        """Put another athlete of the current block up next."""
        return station_desk.swap(name, data.athlete)
