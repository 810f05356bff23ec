"""Read side of runs: recent reps with their splits, names as the privacy setting allows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.db.models import Athlete, Drill, Run, Split
from server.settings import get_privacy, public_name


@dataclass(frozen=True)
class SplitMarks:
    """What to know to read a split right (server.db.models.Split)."""

    cross_device_error_s: float | None = None
    """Spans a receipt-timed device (Chronopic, Timy) and another clock: the error bound."""
    manual: bool = False
    """An end is a hand time (a timer's keypad)."""
    coarse: bool = False
    """An end was placed by the time the host received it (the counter ran out)."""


@dataclass(frozen=True)
class RecentRun:
    run_id: int
    drill: str
    athlete: str
    rep: int
    state: str
    total_s: float | None
    splits: dict[str, float]
    started_wall: str
    voided: bool = False
    """Taken off the boards by a coach (the rep is kept, with its times)."""
    manual: bool = False
    """The time was typed in by a coach, not timed by the gates."""
    athlete_id: int | None = None
    """Only in a coach's answer (the console corrects reps by athlete id)."""
    cross_device_error_s: float | None = None
    """The largest error bound of the rep's cross-device splits (None: no such split)."""
    split_marks: dict[str, SplitMarks] = field(default_factory=dict)
    """Only the splits that carry a mark, by name as in `splits`."""


def recent_runs(
    engine: Engine, drill_slug: str | None, limit: int, names: str | None = None,
    with_ids: bool = False,
) -> list[RecentRun]:  # fmt: skip
    """`names`: the privacy mode; read from the settings when None (a public answer).
    `with_ids`: add athlete ids (a coach's answer)."""
    mode = names or get_privacy(engine)
    with Session(engine) as session:
        query = (
            select(Run, Drill.slug, Athlete.name, Athlete.display_name)
            .join(Drill, col(Drill.id) == col(Run.drill_id))
            .join(Athlete, col(Athlete.id) == col(Run.athlete_id))
            .order_by(col(Run.id).desc())
            .limit(limit)
        )
        if drill_slug:
            query = query.where(Drill.slug == drill_slug)
        rows = session.exec(query).all()
        run_ids = [run.id for run, _, _, _ in rows]
        splits: dict[int, dict[str, float]] = {}
        marks: dict[int, dict[str, SplitMarks]] = {}
        for split in session.exec(
            select(Split).where(col(Split.run_id).in_(run_ids)).order_by(col(Split.position))
        ).all():
            splits.setdefault(split.run_id, {})[split.name] = split.elapsed_us / 1e6
            bound = split.cross_device_error_us
            if bound is not None or split.manual or split.coarse:
                marks.setdefault(split.run_id, {})[split.name] = SplitMarks(
                    None if bound is None else bound / 1e6, split.manual, split.coarse
                )
    return [
        RecentRun(
            run_id=run.id or 0, drill=slug, athlete=public_name(name, display, mode),
            rep=run.rep, state=run.state,
            total_s=None if run.total_us is None else run.total_us / 1e6,
            splits=splits.get(run.id or 0, {}), started_wall=run.started_wall.isoformat(),
            voided=run.voided, manual=run.manual,
            athlete_id=run.athlete_id if with_ids else None,
            cross_device_error_s=(
                None if run.cross_device_error_us is None else run.cross_device_error_us / 1e6
            ),
            split_marks=marks.get(run.id or 0, {}),
        )
        for run, slug, name, display in rows
    ]  # fmt: skip
