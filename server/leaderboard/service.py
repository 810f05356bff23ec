"""Leaderboards: best and last valid time per athlete for a drill, best first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from server.db.models import Athlete, Drill, Run
from server.errors import NotFoundError


@dataclass(frozen=True)
class BoardEntry:
    rank: int
    athlete: str
    best_s: float
    last_s: float
    runs: int


@dataclass(frozen=True)
class Board:
    drill: str
    name: str
    direction: str
    entries: list[BoardEntry]


def leaderboard(engine: Engine, slug: str) -> Board:
    with Session(engine) as session:
        drill = session.exec(select(Drill).where(Drill.slug == slug)).first()
        if drill is None:
            raise NotFoundError(f"no drill {slug!r}")
        finished = (
            Run.drill_id == drill.id,
            Run.state == "finished",
            col(Run.total_us).is_not(None),
            col(Run.familiarisation).is_(False),  # practice reps are stored, not ranked
        )
        rows = session.exec(
            select(
                Run.athlete_id,
                func.min(Run.total_us),
                func.count(col(Run.id)),
                func.max(col(Run.id)),
            )
            .where(*finished)
            .group_by(col(Run.athlete_id))
        ).all()
        last_ids = [row[3] for row in rows]
        last_us = dict(
            session.exec(select(Run.id, Run.total_us).where(col(Run.id).in_(last_ids))).all()
        )
        names = dict(
            session.exec(
                select(Athlete.id, Athlete.name).where(col(Athlete.id).in_([r[0] for r in rows]))
            ).all()
        )
    ordered = sorted(rows, key=lambda r: (r[1], names.get(r[0], "")))
    entries = [
        BoardEntry(
            rank=i + 1,
            athlete=names.get(athlete_id, f"athlete {athlete_id}"),
            best_s=best_us / 1e6,
            last_s=(last_us.get(last_id) or best_us) / 1e6,
            runs=count,
        )
        for i, (athlete_id, best_us, count, last_id) in enumerate(ordered)
        if best_us is not None
    ]
    return Board(drill=slug, name=drill.name, direction=drill.direction, entries=entries)
