"""The forward:backward ratio under one name: backward time ÷ forward time over the same distance.

drills/metrics/forward_backward.py computes it; this module names it for every place
that shows it (public boards, the console's report table, the PDFs, the exports' notes) and
pairs a backward board's athletes with their forward twin's times, day by day, as the reports
do: the ratio is of the two bests of one UTC day, the latest day with both. The pairing is
not in the board summary (which keeps no days): it groups both drills' counted reps by athlete
and day, so a backward board costs one more query than a forward one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from drills import metrics
from drills.model import Direction
from drills.model import Drill as DrillDef
from server.db.models import Athlete, Run
from server.leaderboard.summary import counted

RATIO_LABEL = "Backward ÷ forward time"
"""The ratio's name wherever it is shown; the console's js/console/report-table.js spells the
same words (tests/server/test_ratio_label.py holds them together)."""
RATIO_MEANING = (
    "the athlete's best backward time divided by their best forward time over the same "
    "distance on the same day; above 1 the backward run is slower (1.25: 25 % longer)"
)


@dataclass(frozen=True)
class BoardRatio:
    """What a backward drill's board says about its ratio column."""

    label: str
    meaning: str
    forward: str
    """Slug of the forward twin."""
    forward_name: str


@dataclass(frozen=True)
class AthleteRatio:
    ratio: float
    day: str
    """UTC date (YYYY-MM-DD) of the two bests."""
    forward_s: float
    backward_s: float


def board_twin(drill: DrillDef | None, catalog: dict[str, DrillDef]) -> DrillDef | None:
    """The forward twin of a backward drill over the same distance, else None (a forward or
    mixed drill, or a twin that differs in more than direction has no ratio to show)."""
    if drill is None or drill.direction is not Direction.BACKWARD or not drill.twin:
        return None
    twin = catalog.get(drill.twin)
    if twin is None or twin.direction is not Direction.FORWARD:
        return None
    if round(twin.distance_m or 0.0, 3) != round(drill.distance_m or 0.0, 3):
        return None
    return twin


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def athlete_ratios(
    session: Session,
    backward_id: int,
    forward_id: int,
    distance_m: float,
    group: str | None,
    bounds: tuple[datetime, datetime] | None,
    dialect: str,
) -> dict[int, AthleteRatio]:
    """Per athlete id, the ratio of the latest UTC day (within `bounds`) on which they have a
    counted rep on both drills. One grouped query: a day's best per athlete and drill."""
    if dialect == "postgresql":
        day = func.date(func.timezone("UTC", col(Run.started_wall)))
    else:
        day = func.date(col(Run.started_wall))  # SQLite stores the UTC time as text
    where: list[ColumnElement[bool]] = [
        col(Run.drill_id).in_((backward_id, forward_id)), *counted(),
    ]  # fmt: skip
    if group:
        where.append(
            col(Run.athlete_id).in_(select(Athlete.id).where(col(Athlete.group_name) == group))
        )
    if bounds is not None:
        where += [col(Run.started_wall) >= bounds[0], col(Run.started_wall) < bounds[1]]
    query = (
        sa_select(col(Run.athlete_id), col(Run.drill_id), day, func.min(Run.total_us))
        .where(*where)
        .group_by(col(Run.athlete_id), col(Run.drill_id), day)
    )
    direction = {backward_id: Direction.BACKWARD, forward_id: Direction.FORWARD}
    reps: Iterable[metrics.DirectionalRep] = (
        metrics.DirectionalRep(
            str(athlete_id), _day(when), distance_m, direction[drill_id],
            metrics.RepTime(best_us / 1e6),
        )
        for athlete_id, drill_id, when, best_us in session.execute(query)
    )  # fmt: skip
    out: dict[int, AthleteRatio] = {}
    # Sorted by athlete, then day: the last pair of an athlete is the latest day with both.
    for pair in metrics.pair_forward_backward(reps):
        out[int(pair.athlete)] = AthleteRatio(
            ratio=round(pair.ratio, 3), day=pair.day.isoformat(),
            forward_s=pair.forward_best_s, backward_s=pair.backward_best_s,
        )  # fmt: skip
    return out
