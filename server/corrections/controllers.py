"""Correction routes (coach only): thin, the logic is in server/corrections/service.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_409_CONFLICT
from litestar.types import ExceptionHandlersMap
from sqlalchemy import Engine

from drills.crossing import DEFAULT_REARM_US, DEFAULT_WINDOW_US, GateRule, Trigger
from server.auth.guards import current_coach_id, requires_coach
from server.corrections.listing import DEFAULT_PAGE, RunPage, SessionPage, list_runs, list_sessions
from server.corrections.plausible import ImplausibleTimeError
from server.corrections.service import CorrectionEntry, CorrectionService, RunSummary, invalid
from server.errors import PROBLEM_JSON, Problem, problem
from server.reports.day import club_day


@dataclass
class VoidRequest:
    reason: str
    """Why the rep does not count (shown in the corrections log)."""


@dataclass
class ReassignRequest:
    athlete_id: int
    """The athlete who really ran it (any team)."""


@dataclass
class ManualRequest:
    drill: str
    """Drill slug."""
    athlete_id: int
    total_s: float
    """More than 0 and under the drill's time limit."""
    note: str = ""
    confirm: bool = False
    """Store a time outside the drill's plausible range anyway (it is marked out of range)."""


@dataclass(frozen=True)
class OutOfRange(Problem):
    """409 of POST /api/runs/manual: the time is outside the drill's plausible range."""

    total_s: float = 0.0
    min_s: float = 0.0
    """Faster than this, nobody runs the drill (its distance at the human speed bounds)."""
    max_s: float | None = None
    """The drill's time limit."""
    basis: str = ""
    confirm_needed: bool = True
    """Send the same body with `"confirm": true` to store it, marked out of range."""


def _out_of_range(
    _: Request[Any, Any, Any], exc: ImplausibleTimeError
) -> Response[dict[str, object]]:
    b = exc.bounds
    return problem(
        HTTP_409_CONFLICT, str(exc), total_s=exc.total_s, min_s=b.min_s, max_s=b.max_s,
        basis=b.basis, confirm_needed=True,
    )  # fmt: skip


_OUT_OF_RANGE_HANDLERS: ExceptionHandlersMap = {ImplausibleTimeError: _out_of_range}
_OUT_OF_RANGE_RESPONSES = {
    HTTP_409_CONFLICT: ResponseSpec(
        OutOfRange, description="outside the plausible range", media_type=PROBLEM_JSON
    )
}

Day = Annotated[
    str | None, Parameter(query="date", description="one club day, YYYY-MM-DD, in `tz`")
]
Zone = Annotated[
    str | None,
    Parameter(query="tz", description="the IANA time zone of `date`; default the server's"),
]


@dataclass
class RederiveRequest:
    trigger: str
    """first-break, longest-break, dual-beam or dual-longest."""
    window_ms: int | None = None
    """longest-break and dual-longest: 20 to 1000 ms (default 250)."""
    rearm_ms: int | None = None
    """0 to 10000 ms (default: the drill's re-arm, 500 ms unless the drill says)."""


class CorrectionsController(Controller):
    path = "/api/runs"
    tags = ("corrections",)
    guards = (requires_coach,)

    # On the loop, not in a thread: a correction is a short write and is then published.
    @post("/{run_id:int}/void", sync_to_thread=False, status_code=HTTP_200_OK)
    def void(
        self, run_id: int, data: VoidRequest, request: Request[Any, Any, Any],
        corrections: CorrectionService,
    ) -> RunSummary:  # fmt: skip
        """Take a rep off every board; it stays in the record with its times."""
        return corrections.void(run_id, data.reason, current_coach_id(request))

    @post("/{run_id:int}/unvoid", sync_to_thread=False, status_code=HTTP_200_OK)
    def unvoid(
        self, run_id: int, request: Request[Any, Any, Any], corrections: CorrectionService
    ) -> RunSummary:
        return corrections.unvoid(run_id, current_coach_id(request))

    @post("/{run_id:int}/reassign", sync_to_thread=False, status_code=HTTP_200_OK)
    def reassign(
        self, run_id: int, data: ReassignRequest, request: Request[Any, Any, Any],
        corrections: CorrectionService,
    ) -> RunSummary:  # fmt: skip
        """The rep was someone else's (the wrong athlete was up)."""
        return corrections.reassign(run_id, data.athlete_id, current_coach_id(request))

    @post("/{run_id:int}/rederive", sync_to_thread=False, status_code=HTTP_200_OK)
    def rederive(
        self, run_id: int, data: RederiveRequest, request: Request[Any, Any, Any],
        corrections: CorrectionService,
    ) -> RunSummary:  # fmt: skip
        """Time a finished rep again with another gate rule, from its stored raw edges (a rep
        started at a gate and recorded with its crossings); logged as a correction with the
        old and new splits."""
        try:
            trigger = Trigger(data.trigger)
        except ValueError:
            raise invalid("trigger: one of " + ", ".join(t.value for t in Trigger)) from None
        try:
            rule = GateRule(
                trigger,
                window_us=DEFAULT_WINDOW_US if data.window_ms is None else data.window_ms * 1000,
                rearm_us=DEFAULT_REARM_US if data.rearm_ms is None else data.rearm_ms * 1000,
            )
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return corrections.rederive(
            run_id, rule, current_coach_id(request), drill_rearm=data.rearm_ms is None
        )

    @post(
        "/manual", sync_to_thread=False, status_code=HTTP_201_CREATED,
        exception_handlers=_OUT_OF_RANGE_HANDLERS, responses=_OUT_OF_RANGE_RESPONSES,
    )  # fmt: skip
    def manual(
        self, data: ManualRequest, request: Request[Any, Any, Any],
        corrections: CorrectionService,
    ) -> RunSummary:  # fmt: skip
        """A rep timed by hand, stored with `manual = true` and no splits. A time faster than
        the drill's plausible range is 409 (with the range) unless `confirm` is true; then it
        is stored with `out_of_range = true`."""
        return corrections.manual(
            data.drill, data.athlete_id, data.total_s, data.note, current_coach_id(request),
            confirm=data.confirm,
        )  # fmt: skip

    @get("/list", sync_to_thread=True)
    def list_reps(
        self, db_engine: Engine, session_id: int | None = None, day: Day = None,
        tz: Zone = None, drill: str | None = None, offset: int = 0, limit: int = DEFAULT_PAGE,
    ) -> RunPage:  # fmt: skip
        """Reps to correct, a page at a time (`limit` 1 to 100): a session's in the order they
        ran, else newest first; of one club day (`date` in `tz`) or one drill when given."""
        chosen = None if day is None and tz is None else club_day(day, tz)
        between = None if chosen is None else (chosen.start_wall, chosen.end_wall)
        return list_runs(
            db_engine, session_id=session_id, between=between, drill=drill, offset=offset,
            limit=limit,
        )  # fmt: skip

    @get("/sessions", sync_to_thread=True)
    def sessions(
        self, db_engine: Engine, offset: int = 0, limit: int = DEFAULT_PAGE
    ) -> SessionPage:
        """Sessions that recorded reps, newest first, with how many (`limit` 1 to 100)."""
        return list_sessions(db_engine, offset, limit)

    @get("/{run_id:int}/corrections", sync_to_thread=True)
    def log(self, run_id: int, corrections: CorrectionService) -> list[CorrectionEntry]:
        """Every correction of a rep, oldest first: action, coach, detail (before/after), at."""
        return corrections.log(run_id)
