"""Leaderboards: best and last valid time per athlete for a drill or one of its segments.

A valid rep is finished, has a time, and is neither a familiarisation rep nor voided; a rep
typed in by a coach (manual) counts and says so. The ranking is aggregated in SQL, filtered
by drill first, so it reads one drill's rows of the run (and split) indexes whatever the size
of the history: the boards are reloaded by every phone after every rep.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, false, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from drills.model import Drill as DrillDef
from server.db.models import Athlete, BoardBest, Drill, Run, Split
from server.errors import InvalidInputError, NotFoundError
from server.leaderboard.ratio import (
    RATIO_LABEL,
    RATIO_MEANING,
    AthleteRatio,
    BoardRatio,
    athlete_ratios,
)
from server.leaderboard.summary import WHOLE_REP, counted
from server.roster.fields import MAX_GROUP, FieldProblem, invalid
from server.settings import get_privacy, public_name


@dataclass(frozen=True)
class BoardEntry:
    rank: int
    athlete: str
    best_s: float
    last_s: float
    runs: int
    diff_to_pb_s: float
    """Last minus personal best on this board: 0 when the last rep is the best."""
    best_manual: bool = False
    """The best time was typed in by a coach, not timed by the gates."""
    last_manual: bool = False
    athlete_id: int = 0
    ratio: float | None = None
    """Backward ÷ forward time (server/leaderboard/ratio.py), on a backward drill's board
    only, when the athlete ran both twins on one day: the latest such day's two bests."""
    ratio_day: str | None = None
    ratio_forward_s: float | None = None
    ratio_backward_s: float | None = None


@dataclass(frozen=True)
class Board:
    drill: str
    name: str
    direction: str
    entries: list[BoardEntry]
    segment: str | None = None
    """None: whole-rep times; else the name of the split that is ranked."""
    segments: tuple[str, ...] = ()
    group: str | None = None
    groups: tuple[str, ...] = ()
    """Groups with someone on this drill's all-time board, for the page's filter."""
    day: str | None = None
    """UTC date (YYYY-MM-DD) the board is limited to, or None for all time."""
    ratio: BoardRatio | None = None
    """On the whole-rep board of a backward drill with a forward twin: the ratio's name and
    meaning, for the column the entries' `ratio` fill."""


def board_group(value: str | None) -> str | None:
    """The `group` filter as the roster keeps group names (spaces collapsed, at most MAX_GROUP
    characters); None for none. A value no group could have is a 422 naming `group`: a
    public board must say why it shows nobody, not fail silently."""
    if value is None:
        return None
    text = " ".join(value.split())
    problem = None
    if len(text) > MAX_GROUP:
        problem = FieldProblem("group", f"must be at most {MAX_GROUP} characters (has {len(text)})")
    elif any(unicodedata.category(c) == "Cc" for c in text):
        problem = FieldProblem("group", "must not contain control characters")
    if problem is not None:
        raise invalid([problem], str(problem))
    return text or None


def day_bounds(day: str | None, now: datetime | None = None) -> tuple[datetime, datetime] | None:
    """`today` or `YYYY-MM-DD` as a half-open UTC interval; a day is a UTC date on purpose
    (one rule for every server, whatever its time zone)."""
    if not day:
        return None
    if day == "today":
        start_day = (now or datetime.now(UTC)).astimezone(UTC).date()
    else:
        try:
            start_day = date.fromisoformat(day)
        except ValueError:
            raise InvalidInputError(f"day must be 'today' or YYYY-MM-DD, not {day!r}") from None
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def valid_runs(
    drill_id: int,
    group: str | None = None,
    bounds: tuple[datetime, datetime] | None = None,
    dialect: str = "sqlite",
) -> list[ColumnElement[bool]]:
    """The conditions for a rep that counts on a board; `dialect` picks the day filter's
    form that each planner turns into a walk of the started_wall index."""
    where: list[ColumnElement[bool]] = [col(Run.drill_id) == drill_id, *counted()]
    if group:
        where.append(
            col(Run.athlete_id).in_(select(Athlete.id).where(col(Athlete.group_name) == group))
        )
    if bounds is None:
        return where
    in_day = (col(Run.started_wall) >= bounds[0], col(Run.started_wall) < bounds[1])
    if dialect == "sqlite":
        # One day holds few reps, but SQLite, seeing plain range conditions, would rather
        # walk the drill's whole history in the board index; a set of ids it cannot.
        where.append(col(Run.id).in_(select(Run.id).where(*in_day)))
    else:
        where.extend(in_day)  # PostgreSQL's statistics pick the started_wall index itself
    return where


def leaderboard(
    engine: Engine,
    slug: str,
    segment: str | None = None,
    group: str | None = None,
    day: str | None = None,
    segments: tuple[str, ...] | None = None,
    names: str | None = None,
    twin: DrillDef | None = None,
) -> Board:
    """`segments`: the drill's split names (from the catalogue); `names`: the privacy mode,
    read from the settings when None, so a public answer never forgets it; `twin`: the
    forward twin of a backward drill (ratio.board_twin), for the ratio column."""
    group = board_group(group)
    bounds = day_bounds(day)
    with Session(engine) as session:
        drill = session.exec(select(Drill).where(Drill.slug == slug)).first()
        if drill is None or drill.id is None:
            raise NotFoundError(f"no drill {slug!r}")
        if segments is None:
            segments = _segments_seen(session, drill.id)
        if segment is not None and segment not in segments:
            raise NotFoundError(f"drill {slug!r} has no segment {segment!r}")
        if bounds is None:
            # All time: the summary's one row per athlete (server/leaderboard/summary.py).
            rows = _summary_rows(session, drill.id, segment, group)
        else:
            where = valid_runs(drill.id, group, bounds, engine.dialect.name)
            rows = (
                _segment_rows(session, where, segment)
                if segment is not None
                else _total_rows(session, where)
            )
        mode = names or get_privacy(engine, session)
        groups = _groups(session, drill.id)
        ratio: BoardRatio | None = None
        ratios: dict[int, AthleteRatio] = {}
        if twin is not None and segment is None:
            ratio = BoardRatio(RATIO_LABEL, RATIO_MEANING, twin.slug, twin.name)
            forward_id = session.exec(select(Drill.id).where(Drill.slug == twin.slug)).first()
            if forward_id is not None:
                ratios = athlete_ratios(
                    session, drill.id, forward_id, twin.distance_m or 0.0, group, bounds,
                    engine.dialect.name,
                )  # fmt: skip
    entries: list[BoardEntry] = []
    for i, row in enumerate(rows):
        best_us, last_us = row["best_us"], row["last_us"]
        # Competition ranking: equal bests share a rank, the next rank skips.
        rank = entries[-1].rank if entries and best_us == rows[i - 1]["best_us"] else i + 1
        paired = ratios.get(row["athlete_id"])
        entries.append(
            BoardEntry(
                rank=rank, athlete=public_name(row["name"], row["display_name"], mode),
                best_s=best_us / 1e6, last_s=last_us / 1e6, runs=row["runs"],
                diff_to_pb_s=(last_us - best_us) / 1e6, best_manual=row["best_manual"],
                last_manual=row["last_manual"], athlete_id=row["athlete_id"],
                ratio=paired.ratio if paired else None,
                ratio_day=paired.day if paired else None,
                ratio_forward_s=paired.forward_s if paired else None,
                ratio_backward_s=paired.backward_s if paired else None,
            )
        )  # fmt: skip
    return Board(
        drill=slug, name=drill.name, direction=drill.direction, entries=entries,
        segment=segment, segments=tuple(segments), group=group, groups=groups,
        day=None if bounds is None else bounds[0].date().isoformat(), ratio=ratio,
    )  # fmt: skip


# The columns every board query selects, in this order.
_ROW = ("athlete_id", "best_us", "runs", "last_us", "last_manual", "best_manual", "name",
        "display_name")  # fmt: skip


def _rows(result: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Board rows as dicts; the manual flags as bools (SQLite gives 0/1, NULL is not manual)."""
    rows = []
    for values in result:
        row = dict(zip(_ROW, values, strict=True))
        row["last_manual"] = bool(row["last_manual"])
        row["best_manual"] = bool(row["best_manual"])
        rows.append(row)
    return rows


def _total_rows(session: Session, where: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    # Was a best time typed in? The fastest manual time in the same rows equals the best
    # exactly when one of the best reps was manual: one pass over the rows already read, where
    # an EXISTS per athlete made PostgreSQL scan the drill's whole history.
    manual_us = case((col(Run.manual).is_(True), col(Run.total_us)))
    agg = (
        sa_select(
            col(Run.athlete_id).label("athlete_id"),
            func.min(Run.total_us).label("best_us"),
            func.count().label("runs"),
            func.max(Run.id).label("last_id"),
            func.min(manual_us).label("best_manual_us"),
        )
        .where(*where)
        .group_by(col(Run.athlete_id))
        .subquery()
    )
    last = aliased(Run)
    query = (
        sa_select(
            agg.c.athlete_id,
            agg.c.best_us,
            agg.c.runs,
            col(last.total_us),
            col(last.manual),
            agg.c.best_manual_us == agg.c.best_us,
            col(Athlete.name),
            col(Athlete.display_name),
        )
        .join(last, col(last.id) == agg.c.last_id)
        .join(Athlete, col(Athlete.id) == agg.c.athlete_id)
        .order_by(agg.c.best_us, col(Athlete.name))
    )
    return _rows(session.execute(query))


def _segment_rows(
    session: Session, where: list[ColumnElement[bool]], segment: str
) -> list[dict[str, Any]]:
    joined = and_(col(Split.run_id) == col(Run.id), col(Split.name) == segment)
    agg = (
        select(
            col(Run.athlete_id).label("athlete_id"),
            func.min(Split.elapsed_us).label("best_us"),
            func.count().label("runs"),
            func.max(Run.id).label("last_id"),
        )
        .join(Split, joined)
        .where(*where)
        .group_by(col(Run.athlete_id))
        .subquery()
    )
    last = aliased(Split)
    last_us = (
        sa_select(func.min(last.elapsed_us))
        .where(col(last.run_id) == agg.c.last_id, col(last.name) == segment)
        .scalar_subquery()
    )
    query = (
        sa_select(
            agg.c.athlete_id,
            agg.c.best_us,
            agg.c.runs,
            last_us,
            # Manual reps have no splits, so a segment board holds timed splits only.
            false(),
            false(),
            col(Athlete.name),
            col(Athlete.display_name),
        )
        .join(Athlete, col(Athlete.id) == agg.c.athlete_id)
        .order_by(agg.c.best_us, col(Athlete.name))
    )
    return _rows(session.execute(query))


def _segments_seen(session: Session, drill_id: int) -> tuple[str, ...]:
    """Split names with a counted time, from the summary (a drill unknown to the catalogue)."""
    names = session.exec(
        select(col(BoardBest.segment))
        .where(col(BoardBest.drill_id) == drill_id, col(BoardBest.segment) != WHOLE_REP)
        .distinct()
    ).all()
    return tuple(sorted(names))


def _groups(session: Session, drill_id: int) -> tuple[str, ...]:
    names = session.exec(
        select(col(Athlete.group_name))
        .join(BoardBest, col(BoardBest.athlete_id) == col(Athlete.id))
        .where(col(BoardBest.drill_id) == drill_id, col(Athlete.group_name).is_not(None))
        .distinct()
    ).all()
    return tuple(sorted(n for n in names if n))


def _summary_rows(
    session: Session, drill_id: int, segment: str | None, group: str | None
) -> list[dict[str, Any]]:
    where = [
        col(BoardBest.drill_id) == drill_id,
        col(BoardBest.segment) == (segment if segment is not None else WHOLE_REP),
    ]
    if group:
        where.append(col(Athlete.group_name) == group)
    # Plain columns, not BoardBest objects: a board is 400 rows read on every reload, and
    # building ORM instances for them cost more than the query itself.
    query = (
        sa_select(
            col(BoardBest.athlete_id), col(BoardBest.best_us), col(BoardBest.runs),
            col(BoardBest.last_us), col(BoardBest.last_manual), col(BoardBest.best_manual),
            col(Athlete.name), col(Athlete.display_name),
        )
        .join(Athlete, col(Athlete.id) == col(BoardBest.athlete_id))
        .where(*where)
        .order_by(col(BoardBest.best_us), col(Athlete.name))
    )  # fmt: skip
    return _rows(session.execute(query))


def drills_run_on(engine: Engine, day: str = "today", group: str | None = None) -> list[str]:
    """Slugs of drills with at least one counted rep on that UTC day (by an athlete of `group`,
    when given), for the TV's rotation."""
    group = board_group(group)
    bounds = day_bounds(day)
    assert bounds is not None
    where = [col(Run.started_wall) >= bounds[0], col(Run.started_wall) < bounds[1], *counted()]
    if group:
        where.append(
            col(Run.athlete_id).in_(select(Athlete.id).where(col(Athlete.group_name) == group))
        )
    with Session(engine) as session:
        rows = session.exec(
            select(col(Drill.slug))
            .distinct()
            .join(Run, col(Run.drill_id) == col(Drill.id))
            .where(*where)
        ).all()
    return sorted(rows)
