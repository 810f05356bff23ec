"""Reps to correct, a page at a time: every rep of a session or a club day, not only the latest.

Coach routes only, so names are the roster's. Pages are bounded (MAX_PAGE): a season holds
tens of thousands of reps, and the console asks for one page of them at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.corrections.plausible import marked_runs
from server.db.models import Athlete, Drill, Plan, PlanSession, Run, Team
from server.errors import InvalidInputError, NotFoundError

DEFAULT_PAGE = 25
MAX_PAGE = 100
MAX_ID = 2**63 - 1  # the largest id a database column holds; larger is no row at all


@dataclass(frozen=True)
class RunRow:
    """A rep as the corrections list shows it."""

    run_id: int
    drill: str
    athlete_id: int
    athlete: str
    team: str
    rep: int
    state: str
    total_s: float | None
    started_wall: datetime
    voided: bool
    manual: bool
    out_of_range: bool
    """A hand time outside the drill's plausible range, stored on the coach's confirmation."""
    station: str | None
    session_id: int | None


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRow]
    total: int
    """Reps matching the filters, on every page."""
    offset: int
    limit: int


@dataclass(frozen=True)
class SessionRow:
    id: int
    plan: str
    station: str | None
    state: str
    started_wall: datetime | None
    reps: int


@dataclass(frozen=True)
class SessionPage:
    sessions: list[SessionRow]
    total: int
    offset: int
    limit: int


def check_page(offset: int, limit: int) -> None:
    problems = []
    if not 0 <= offset <= MAX_ID:
        problems.append("offset: 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        problems.append(f"limit: 1 to {MAX_PAGE}")
    if problems:
        error = InvalidInputError(problems[0], problems)
        raise error


def list_runs(
    engine: Engine,
    *,
    session_id: int | None = None,
    between: tuple[datetime, datetime] | None = None,
    drill: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE,
) -> RunPage:
    """Reps of a session (in the order they ran), or of a day [start, end) or all (newest
    first), optionally of one drill; one page of them and how many there are."""
    check_page(offset, limit)
    where: list[ColumnElement[bool]] = []
    with Session(engine) as session:
        if session_id is not None:
            if not 0 < session_id <= MAX_ID or session.get(PlanSession, session_id) is None:
                raise NotFoundError(f"no session {session_id}")
            where.append(col(Run.plan_session_id) == session_id)
        if between is not None:
            where += [col(Run.started_wall) >= between[0], col(Run.started_wall) < between[1]]
        if drill:
            where.append(col(Drill.slug) == drill)
        base = (
            select(Run, Drill.slug, Athlete.name, Team.name)
            .join(Drill, col(Drill.id) == col(Run.drill_id))
            .join(Athlete, col(Athlete.id) == col(Run.athlete_id))
            .join(Team, col(Team.id) == col(Athlete.team_id))
            .where(*where)
        )
        counted = (
            select(func.count())
            .select_from(Run)
            .join(Drill, col(Drill.id) == col(Run.drill_id))
            .where(*where)
        )
        total = int(session.exec(counted).one())
        order = col(Run.id) if session_id is not None else col(Run.id).desc()
        rows = session.exec(base.order_by(order).offset(offset).limit(limit)).all()
        marked = marked_runs(session, [run.id for run, *_ in rows if run.manual and run.id])
    out = [
        RunRow(
            run_id=run.id or 0, drill=slug, athlete_id=run.athlete_id, athlete=name, team=team,
            rep=run.rep, state=run.state,
            total_s=None if run.total_us is None else run.total_us / 1e6,
            started_wall=run.started_wall, voided=run.voided, manual=run.manual,
            out_of_range=run.id in marked, station=run.station, session_id=run.plan_session_id,
        )
        for run, slug, name, team in rows
    ]  # fmt: skip
    return RunPage(out, total, offset, limit)


def list_sessions(engine: Engine, offset: int = 0, limit: int = DEFAULT_PAGE) -> SessionPage:
    """Sessions that recorded at least one rep, newest first, with how many."""
    check_page(offset, limit)
    reps = func.count(col(Run.id))
    with Session(engine) as session:
        total = int(
            session.exec(
                select(func.count(func.distinct(col(Run.plan_session_id)))).where(
                    col(Run.plan_session_id).is_not(None)
                )
            ).one()
        )
        rows = session.exec(
            select(PlanSession, Plan.name, reps)
            .join(Plan, col(Plan.id) == col(PlanSession.plan_id))
            .join(Run, col(Run.plan_session_id) == col(PlanSession.id))
            .group_by(col(PlanSession.id), col(Plan.name))
            .order_by(col(PlanSession.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return SessionPage(
        [
            SessionRow(s.id or 0, name, s.station, s.state, s.started_wall, int(n))
            for s, name, n in rows
        ],
        total,
        offset,
        limit,
    )
