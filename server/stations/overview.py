"""The head coach's overview of a testing day: every station in one answer, so the console's
Stations tab makes one request for all its cards instead of one per station.

Each card is a station's state (server/stations/desk.py) cut down to what a glance needs: who
is on course, the next few, progress through its session, the drills of the session, the last
results and the tags nobody has. Names are the roster's (the route is the coach's only). Once
a session ends its card keeps it (`ended`) until the next one begins, so the head coach still
sees how the station's part of the day went.

Served at /api/overview/stations rather than /api/stations/overview: a station may be named
"overview" (names are a-z, 0-9, - and _), and its own routes keep that path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, get

from server.auth.guards import requires_coach
from server.catalog.service import Catalog
from server.plans.store import OVER_STATES, SessionInfo
from server.stations.desk import StationDesk, StationState, UnknownTag

# The next few athletes: who should be warming up. The station's page shows the whole queue.
QUEUE_SHOWN = 4
RESULTS_SHOWN = 3


@dataclass
class CourseRep:
    athlete: str
    drill: str
    rep: int
    run_id: int | None
    """None while armed: the athlete has not crossed the start yet."""


@dataclass
class QueuedRep:
    athlete: str
    drill: str
    block_rep: int
    """The athlete's rep number in the drill's block (1 for the first)."""
    familiarisation: bool = False


@dataclass
class RepResult:
    athlete: str
    drill: str
    block_rep: int
    state: str
    """finished, or why not (voided, skipped, timeout ...)."""
    total_s: float | None
    run_id: int | None


@dataclass
class DrillName:
    slug: str
    name: str


@dataclass
class SessionSummary:
    id: int
    plan: str
    state: str
    """scheduled, running or paused."""
    phase: str | None
    """The runner's phase (countdown, running, resting, paused ...); null before it starts."""
    reason: str | None
    """Why it is paused, when it is."""
    done: int
    """Reps done or passed over."""
    total: int | None
    """Reps in the session; null before it starts (a group's size is known on the day)."""
    scheduled_wall: str | None
    finished_wall: str | None
    countdown_end_wall: str | None


@dataclass
class StationOverview:
    name: str
    course: list[CourseRep]
    """Every rep under way, in start order (several when starts may overlap)."""
    session: SessionSummary | None
    """The session running or paused on the station."""
    upcoming: SessionSummary | None
    """The next one planned, while none runs."""
    ended: SessionSummary | None
    """The station's last session that ended (finished, aborted, missed), while none runs."""
    drills: list[DrillName]
    """The drills of the session (running, else upcoming, else ended), in plan order."""
    drill: str | None
    """The drill of the rep on course or up next."""
    queue: list[QueuedRep]
    """Up next, then the few after (at most QUEUE_SHOWN); nobody on course is in it."""
    results: list[RepResult]
    """The last reps of the session running, else of the one ended, newest first (at most
    RESULTS_SHOWN)."""
    unknown_tags: list[UnknownTag]
    """Tags read here that nobody has, until a coach attaches them."""


def _summary(info: SessionInfo | None) -> SessionSummary | None:
    if info is None:
        return None
    p = info.progress
    return SessionSummary(
        id=info.id, plan=info.plan, state=info.state, phase=p.get("phase"),
        reason=info.reason or p.get("reason"), done=int(p.get("index") or 0),
        total=p.get("total"), scheduled_wall=info.scheduled_wall,
        finished_wall=info.finished_wall, countdown_end_wall=p.get("countdown_end_wall"),
    )  # fmt: skip


def _queued(step: dict[str, Any]) -> QueuedRep:
    return QueuedRep(
        str(step.get("athlete", "")), str(step.get("drill", "")),
        int(step.get("block_rep") or 1), bool(step.get("familiarisation", False)),
    )  # fmt: skip


class StationsOverview:
    """Builds the cards; tests call it without HTTP."""

    def __init__(self, desk: StationDesk, catalog: Catalog) -> None:
        self.desk = desk
        self.catalog = catalog
        self._plan_drills: dict[int, list[str]] = {}  # a plan's definition never changes

    def all(self) -> list[StationOverview]:
        ended = self._ended()
        return [
            self.card(self.desk.state(station.name), ended.get(station.name))
            for station in self.desk.stations.all()
        ]  # fmt: skip

    def one(self, name: str) -> StationOverview:
        state = self.desk.state(name)  # 404 for an unknown station first
        return self.card(state, self._ended().get(name))

    def _ended(self) -> dict[str, SessionInfo]:
        """Each station's last session that ended, by station (one query for all)."""
        over = self.desk.plans.store.sessions(tuple(s.value for s in OVER_STATES))
        return {info.station: info for info in over}  # by id: the last one wins

    def card(self, state: StationState, ended: SessionInfo | None = None) -> StationOverview:
        session = state.session
        if session is not None:
            ended = None
        shown = session or ended  # whose progress and results the card shows
        progress = shown.progress if shown is not None else {}
        nxt = progress.get("next") if session is not None else None
        # While the phase is `running`, `next` is on course (it is in `course`), not waiting.
        waiting = [nxt] if nxt and progress.get("phase") != "running" else []
        later = (progress.get("queue") or []) if session is not None else []
        queue = [*waiting, *later][:QUEUE_SHOWN]
        done = progress.get("done") or []
        results = [
            RepResult(
                str(d.get("athlete", "")), str(d.get("drill", "")), int(d.get("block_rep") or 1),
                str(d.get("state", "")), d.get("total_s"), d.get("run_id"),
            )
            for d in reversed(done[-RESULTS_SHOWN:])
        ]  # fmt: skip
        planned = session or state.upcoming or ended
        course = [
            CourseRep(r["athlete"], r["drill"], int(r["rep"]), r.get("run_id"))
            for r in state.station.get("course") or []
        ]  # fmt: skip
        return StationOverview(
            name=state.station["name"], course=course, session=_summary(session),
            upcoming=_summary(state.upcoming), ended=_summary(ended),
            drills=self._drills(planned.plan_id) if planned is not None else [],
            drill=(nxt or {}).get("drill") or (course[-1].drill if course else None),
            queue=[_queued(step) for step in queue], results=results,
            unknown_tags=state.unknown_tags,
        )  # fmt: skip

    def _drills(self, plan_id: int) -> list[DrillName]:
        if plan_id not in self._plan_drills:
            blocks = self.desk.plans.store.plan(plan_id).blocks
            self._plan_drills[plan_id] = list(dict.fromkeys(b.drill for b in blocks))
        return [
            DrillName(slug, drill.name if (drill := self.catalog.drills.get(slug)) else slug)
            for slug in self._plan_drills[plan_id]
        ]  # fmt: skip


class StationsOverviewController(Controller):
    path = "/api/overview/stations"
    tags = ("stations",)
    guards = (requires_coach,)

    # On the loop (sync_to_thread=False), as the station state: the plan runners live there.
    @get("/", sync_to_thread=False)
    def overview(self, station_desk: StationDesk, catalog: Catalog) -> list[StationOverview]:
        """Every station's card, the main one first: who is on course, the next few, progress
        through its session, its drills, the last results and the tags nobody has."""
        return StationsOverview(station_desk, catalog).all()

    @get("/{name:str}", sync_to_thread=False)
    def station_overview(
        self, name: str, station_desk: StationDesk, catalog: Catalog
    ) -> StationOverview:
        """One station's card (the console refreshes the card of a station that moved)."""
        return StationsOverview(station_desk, catalog).one(name)
