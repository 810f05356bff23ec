"""Day plan rows and the sessions they started: the database is the truth about a testing day.

Which rotation a day is at is one integer on its row, moved on by a conditional UPDATE, so a
rotation starts once even if two requests ask at the same moment. Each session a rotation
starts carries the day's id and the rotation number, so progress is read back from the
plansession rows alone, across a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, update
from sqlmodel import Session, col, or_, select

from server.days.definition import DayDefinition
from server.db.models import DayPlan, PlanSession, utc_now
from server.errors import NotFoundError
from server.plans.store import LIVE_STATES, SessionState
from server.stations.registry import MAIN

# A session in one of these holds its station: the next rotation waits for it.
ACTIVE_STATES = (SessionState.SCHEDULED.value, *(s.value for s in LIVE_STATES))


@dataclass(frozen=True)
class BusySession:
    station: str
    session_id: int
    state: str


class DayPlanStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, day: DayDefinition) -> int:
        with Session(self.engine) as session:
            row = DayPlan(name=day.name, day=day.day, definition_json=day.to_json())
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def row(self, day_id: int) -> DayPlan:
        with Session(self.engine) as session:
            row = session.get(DayPlan, day_id)
        if row is None:
            raise NotFoundError(f"no day plan {day_id}")
        return row

    def rows(self) -> list[DayPlan]:
        """Newest first: the console shows the day plan made last."""
        with Session(self.engine) as session:
            return list(session.exec(select(DayPlan).order_by(col(DayPlan.id).desc())).all())

    def claim_rotation(self, day_id: int, current: int) -> bool:
        """current -> current + 1, only if nobody moved it meanwhile."""
        with Session(self.engine) as session:
            result = session.exec(
                update(DayPlan)
                .where(col(DayPlan.id) == day_id, col(DayPlan.rotation) == current)
                .values(rotation=current + 1, updated_wall=utc_now())
            )
            session.commit()
            return bool(result.rowcount == 1)

    def tag_session(self, session_id: int, day_id: int, rotation: int) -> None:
        with Session(self.engine) as session:
            session.exec(
                update(PlanSession)
                .where(col(PlanSession.id) == session_id)
                .values(dayplan_id=day_id, rotation=rotation)
            )
            session.commit()

    def sessions(self, day_id: int) -> list[PlanSession]:
        """Every session the day started, oldest first."""
        with Session(self.engine) as session:
            query = (
                select(PlanSession)
                .where(PlanSession.dayplan_id == day_id)
                .order_by(col(PlanSession.id))
            )
            return list(session.exec(query).all())

    def busy(self, stations: Sequence[str]) -> list[BusySession]:
        """Sessions scheduled, running or paused on these stations, the day's or not."""
        names = [n for n in stations if n != MAIN]
        where_station: ColumnElement[bool] = col(PlanSession.station).in_(names)
        if MAIN in stations:
            where_station = or_(where_station, col(PlanSession.station).is_(None))
        with Session(self.engine) as session:
            rows = session.exec(
                select(PlanSession.id, PlanSession.station, PlanSession.state)
                .where(where_station, col(PlanSession.state).in_(ACTIVE_STATES))
                .order_by(col(PlanSession.id))
            ).all()
        return [BusySession(station or MAIN, sid, state) for sid, station, state in rows if sid]
