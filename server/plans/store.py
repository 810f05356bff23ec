"""Plan and plan-session rows: the database is the truth about what is scheduled and running.

The scheduler only holds jobs derived from these rows; after a restart they are rebuilt from
here. State changes that must happen once (starting a session) are conditional UPDATEs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from server.db.models import Athlete, Plan, PlanSession, Team, utc_now
from server.errors import NotFoundError
from server.plans.definition import PlanDefinition
from server.runs.recorder import MAIN_STATION


class SessionState(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    ABORTED = "aborted"
    MISSED = "missed"


LIVE_STATES = (SessionState.RUNNING, SessionState.PAUSED)
OVER_STATES = (SessionState.FINISHED, SessionState.ABORTED, SessionState.MISSED)


@dataclass(frozen=True)
class PlanInfo:
    id: int
    name: str
    blocks: int
    reps: int | None
    created_wall: str


@dataclass(frozen=True)
class SessionInfo:
    id: int
    plan_id: int
    plan: str
    state: str
    reason: str | None
    time_scale: float
    scheduled_wall: str | None
    started_wall: str | None
    finished_wall: str | None
    progress: dict[str, Any]
    station: str = MAIN_STATION
    """The station (course) the session runs on."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class PlanStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_plan(self, plan: PlanDefinition) -> int:
        with Session(self.engine) as session:
            row = Plan(name=plan.name, definition_json=plan.to_json())
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def plan(self, plan_id: int) -> PlanDefinition:
        with Session(self.engine) as session:
            row = session.get(Plan, plan_id)
            if row is None:
                raise NotFoundError(f"no plan {plan_id}")
            return PlanDefinition.from_json(row.definition_json)

    def plans(self) -> list[PlanInfo]:
        with Session(self.engine) as session:
            rows = session.exec(select(Plan).order_by(col(Plan.id))).all()
        out = []
        for row in rows:
            plan = PlanDefinition.from_json(row.definition_json)
            # With a group the count depends on the team on the day.
            fixed = all(b.group is None for b in plan.blocks)
            reps = sum(b.reps * len(b.athletes) for b in plan.blocks) if fixed else None
            assert row.id is not None
            out.append(PlanInfo(row.id, row.name, len(plan.blocks), reps,
                                row.created_wall.isoformat()))  # fmt: skip
        return out

    def add_session(
        self, plan_id: int, at_wall: datetime | None, time_scale: float,
        station: str | None = None,
    ) -> int:  # fmt: skip
        """A new session of the plan; `station` None is the main one."""
        self.plan(plan_id)  # NotFoundError for an unknown plan
        with Session(self.engine) as session:
            row = PlanSession(plan_id=plan_id, scheduled_wall=at_wall or utc_now(),
                              time_scale=time_scale, station=station)  # fmt: skip
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def session_row(self, session_id: int) -> PlanSession:
        with Session(self.engine) as session:
            row = session.get(PlanSession, session_id)
            if row is None:
                raise NotFoundError(f"no plan session {session_id}")
            return row

    def sessions(self, states: tuple[str, ...] | None = None) -> list[SessionInfo]:
        with Session(self.engine) as session:
            query = select(PlanSession, Plan.name).join(Plan, col(Plan.id) == PlanSession.plan_id)
            if states:
                query = query.where(col(PlanSession.state).in_(states))
            rows = session.exec(query.order_by(col(PlanSession.id))).all()
        return [_info(row, name) for row, name in rows]

    def session_info(self, session_id: int) -> SessionInfo:
        row = self.session_row(session_id)
        plan_rows = self.plans_by_id([row.plan_id])
        return _info(row, plan_rows.get(row.plan_id, ""))

    def plans_by_id(self, ids: list[int]) -> dict[int, str]:
        with Session(self.engine) as session:
            rows = session.exec(select(Plan.id, Plan.name).where(col(Plan.id).in_(ids))).all()
        return {pid: name for pid, name in rows if pid is not None}

    def claim(self, session_id: int) -> bool:
        """scheduled -> running, at most once whoever asks: the one place a session starts."""
        with Session(self.engine) as session:
            result = session.exec(
                update(PlanSession)
                .where(col(PlanSession.id) == session_id, col(PlanSession.state) == "scheduled")
                .values(state=SessionState.RUNNING.value, started_wall=utc_now())
            )
            session.commit()
            return bool(result.rowcount == 1)

    def set_state(
        self, session_id: int, state: SessionState, reason: str | None = None,
        expect: tuple[SessionState, ...] | None = None,
    ) -> bool:  # fmt: skip
        """Move a session to `state` (only from `expect`, if given); False if it was not there."""
        # The column holds 200 characters (PostgreSQL refuses more).
        values: dict[str, Any] = {"state": state.value, "reason": reason and reason[:200]}
        if state in OVER_STATES:
            values["finished_wall"] = utc_now()
        query = update(PlanSession).where(col(PlanSession.id) == session_id)
        if expect is not None:
            query = query.where(col(PlanSession.state).in_([s.value for s in expect]))
        with Session(self.engine) as session:
            result = session.exec(query.values(**values))
            session.commit()
            return bool(result.rowcount == 1)

    def save_progress(self, session_id: int, progress: dict[str, Any]) -> None:
        with Session(self.engine) as session:
            session.exec(
                update(PlanSession)
                .where(col(PlanSession.id) == session_id)
                .values(progress_json=json.dumps(progress, separators=(",", ":")))
            )
            session.commit()

    def team_members(self, team: str) -> list[str]:
        """A group's athletes, by name, so a plan for a group runs in a stable order; archived
        athletes have left the squad and are not called up."""
        with Session(self.engine) as session:
            names = session.exec(
                select(Athlete.name)
                .join(Team, col(Team.id) == Athlete.team_id)
                .where(Team.name == team, col(Athlete.archived).is_(False))
                .order_by(col(Athlete.name))
            ).all()
        if not names:
            raise NotFoundError(f"group {team!r} has no athletes (is the team name right?)")
        return list(names)


def _info(row: PlanSession, plan_name: str) -> SessionInfo:
    assert row.id is not None
    return SessionInfo(
        id=row.id, plan_id=row.plan_id, plan=plan_name, state=row.state, reason=row.reason,
        time_scale=row.time_scale, scheduled_wall=_iso(row.scheduled_wall),
        started_wall=_iso(row.started_wall), finished_wall=_iso(row.finished_wall),
        progress=json.loads(row.progress_json or "{}"), station=row.station or MAIN_STATION,
    )  # fmt: skip
