"""The coach's answers to course flags: confirm the crossing as given, or swap it.

A course that takes several athletes at once gives each crossing first in first out and keeps
one that looked wrong (a pass, an impossible speed, a missed gate) as a flag
(server/runs/course_lane.py). Confirming keeps the times; swapping gives each of the two reps
the other's crossing of that gate, timed again and logged as a correction of each
(server/corrections/swap.py). Either way the flag is decided once, by a coach, with the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.auth.guards import current_coach_id, requires_coach
from server.corrections.service import CorrectionService, RunSummary
from server.db.models import CourseFlag, utc_now
from server.errors import ConflictError, NotFoundError

FlagState = Literal["open", "confirmed", "swapped"]
MAX_LISTED = 500


@dataclass
class FlagInfo:
    id: int
    station: str
    drill: str
    role: str
    doubt: str
    """too_fast, missed_gate, pass, or merged (a runner timed out short of a gate that was
    broken again inside the re-arm just after another's crossing: the reason gives the time
    it would be; no swap, a manual time if so)."""
    reason: str
    athlete: str
    """The runner the crossing was given to (first in, first out)."""
    run_id: int | None
    alternative: str | None
    """The runner who may own it instead; a swap exchanges the two reps' crossings."""
    other_run_id: int | None
    state: str
    created_wall: datetime
    decided_wall: datetime | None
    runs: list[RunSummary] = field(default_factory=list)
    """After a swap: both reps as they are now."""


def _info(row: CourseFlag, runs: list[RunSummary] | None = None) -> FlagInfo:
    assert row.id is not None
    return FlagInfo(
        id=row.id, station=row.station or "main", drill=row.drill, role=row.role,
        doubt=row.doubt, reason=row.reason, athlete=row.athlete, run_id=row.run_id,
        alternative=row.alternative, other_run_id=row.other_run_id, state=row.state,
        created_wall=row.created_wall, decided_wall=row.decided_wall, runs=runs or [],
    )  # fmt: skip


class FlagService:
    def __init__(self, engine: Engine, corrections: CorrectionService) -> None:
        self.engine = engine
        self.corrections = corrections

    def flags(self, state: str | None = None) -> list[FlagInfo]:
        with Session(self.engine) as session:
            query = select(CourseFlag).order_by(col(CourseFlag.id).desc()).limit(MAX_LISTED)
            if state is not None:
                query = query.where(CourseFlag.state == state)
            return [_info(row) for row in session.exec(query).all()]

    def confirm(self, flag_id: int, coach_id: int | None) -> FlagInfo:
        with Session(self.engine) as session:
            row = self._open(session, flag_id)
            return self._decide(session, row, "confirmed", coach_id)

    # A pass flags both crossings it would move, each naming the other runner: one answer
    # decides both.

    def swap(self, flag_id: int, coach_id: int | None) -> FlagInfo:
        with Session(self.engine) as session:
            row = self._open(session, flag_id)
            if row.run_id is None or row.other_run_id is None:
                raise ConflictError(
                    f"flag {flag_id} names no second rep to swap with ({row.reason}); confirm it, "
                    "or correct the rep by hand"
                )
            run_ids = (row.run_id, row.other_run_id)
        runs = self.corrections.swap_crossings(run_ids, row.role, coach_id)
        with Session(self.engine) as session:
            row = self._open(session, flag_id)
            return self._decide(session, row, "swapped", coach_id, runs)

    @staticmethod
    def _open(session: Session, flag_id: int) -> CourseFlag:
        row = session.get(CourseFlag, flag_id)
        if row is None:
            raise NotFoundError(f"no flag {flag_id}")
        if row.state != "open":
            raise ConflictError(f"flag {flag_id} was already {row.state}")
        return row

    @staticmethod
    def _decide(
        session: Session, row: CourseFlag, state: str, coach_id: int | None,
        runs: list[RunSummary] | None = None,
    ) -> FlagInfo:  # fmt: skip
        pair = {row.run_id, row.other_run_id} - {None}
        twins = session.exec(
            select(CourseFlag).where(
                CourseFlag.state == "open", CourseFlag.role == row.role,
                col(CourseFlag.run_id).in_(pair), col(CourseFlag.other_run_id).in_(pair),
            )
        ).all() if len(pair) == 2 else []  # fmt: skip
        now = utc_now()
        for decided in {id(r): r for r in (row, *twins)}.values():
            decided.state, decided.decided_wall, decided.coach_id = state, now, coach_id
            session.add(decided)
        session.commit()
        session.refresh(row)
        return _info(row, runs)


class FlagsController(Controller):
    path = "/api/flags"
    tags = ("stations",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=False)
    def list_flags(self, flags: FlagService, flag_state: FlagState | None = None) -> list[FlagInfo]:
        """Course flags, newest first (the latest 500); `flag_state`: open, confirmed or
        swapped."""
        return flags.flags(flag_state)

    @post("/{flag_id:int}/confirm", sync_to_thread=False, status_code=HTTP_200_OK)
    def confirm(
        self, flag_id: int, flags: FlagService, request: Request[Any, Any, Any]
    ) -> FlagInfo:
        """The crossing was the runner's it was given to: the times stand."""
        return flags.confirm(flag_id, current_coach_id(request))

    @post("/{flag_id:int}/swap", sync_to_thread=False, status_code=HTTP_200_OK)
    def swap(self, flag_id: int, flags: FlagService, request: Request[Any, Any, Any]) -> FlagInfo:
        """The other runner made it: the two reps exchange their crossings of that gate and
        are timed again, each logged as a correction. Both reps must have finished."""
        return flags.swap(flag_id, current_coach_id(request))
