"""The board summary (table `boardbest`): one row per athlete, drill and segment.

Boards are read after every rep by every phone; ranking a drill's whole history each time
costs tens of ms once a club has a million splits. The summary holds what a board shows
(best, last, how many counted reps, whether the best or last was typed in), rewritten for one
athlete and drill in the same transaction as whatever changed their reps: a rep ending, a
void, an unvoid, a reassignment (both athletes), a manual time. A day-limited board still
reads the runs themselves, through the started_wall index, as one day holds few reps.

The table is derived data: `rebuild` recomputes it from run and split, and `ensure_built`
does so once at start when the stored version differs (a new install of this code, or a
database restored from before the table existed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, delete, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from server.db.models import AppSetting, BoardBest, Run, Split

WHOLE_REP = ""
SUMMARY_VERSION = "1"
VERSION_KEY = "boardbest_version"


@dataclass
class _Acc:
    best_us: int
    best_manual: bool
    last_us: int
    last_manual: bool
    last_run_id: int
    runs: int = 1

    def add(self, run_id: int, us: int, manual: bool) -> None:
        self.runs += 1
        if us < self.best_us:
            self.best_us, self.best_manual = us, manual
        elif us == self.best_us:
            self.best_manual = self.best_manual or manual
        if run_id > self.last_run_id:
            self.last_us, self.last_manual, self.last_run_id = us, manual, run_id


def counted(run: Any = Run) -> list[ColumnElement[bool]]:
    """A rep counts on a board when finished with a time, not voided, not practice: the one
    rule the summary and the day boards (server/leaderboard/service.py) apply. `run` may be
    an alias of the run table, for a query that reads it twice."""
    return [
        col(run.state) == "finished", col(run.total_us).is_not(None),
        col(run.voided).is_(False), col(run.familiarisation).is_(False),
    ]  # fmt: skip


_RUNS = sa_select(
    col(Run.id), col(Run.drill_id), col(Run.athlete_id), col(Run.total_us), col(Run.manual)
)
_SPLITS = sa_select(col(Split.run_id), col(Split.name), col(Split.elapsed_us))


def _accumulate(runs: Iterable[Any], splits: Iterable[Any]) -> dict[tuple[int, int, str], _Acc]:
    """(run id, drill id, athlete id, total, manual) and (run id, split name, elapsed) rows
    into one accumulator per (drill, athlete, segment)."""
    out: dict[tuple[int, int, str], _Acc] = {}
    owner: dict[int, tuple[int, int]] = {}

    def feed(key: tuple[int, int, str], run_id: int, us: int, manual: bool) -> None:
        acc = out.get(key)
        if acc is None:
            out[key] = _Acc(us, manual, us, manual, run_id)
        else:
            acc.add(run_id, us, manual)

    for run_id, drill_id, athlete_id, total_us, manual in runs:
        owner[run_id] = (drill_id, athlete_id)
        feed((drill_id, athlete_id, WHOLE_REP), run_id, total_us, manual)
    by_run: dict[int, dict[str, int]] = defaultdict(dict)
    for run_id, name, elapsed_us in splits:
        # A split name repeated in one rep (a shuttle) counts its first occurrence.
        by_run[run_id].setdefault(name, elapsed_us)
    for run_id in sorted(by_run):
        drill_id, athlete_id = owner[run_id]
        for name, elapsed_us in by_run[run_id].items():
            feed((drill_id, athlete_id, name), run_id, elapsed_us, False)
    return out


def _rows(accs: dict[tuple[int, int, str], _Acc]) -> list[dict[str, object]]:
    return [
        {"drill_id": d, "athlete_id": a, "segment": seg, "best_us": x.best_us,
         "best_manual": x.best_manual, "last_us": x.last_us, "last_manual": x.last_manual,
         "last_run_id": x.last_run_id, "runs": x.runs}
        for (d, a, seg), x in accs.items()
    ]  # fmt: skip


def refresh(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Rewrite the rows of these (drill id, athlete id) pairs from their reps; the caller
    commits, so the summary changes with the reps or not at all."""
    session.flush()
    for drill_id, athlete_id in set(pairs):
        mine = (col(Run.drill_id) == drill_id, col(Run.athlete_id) == athlete_id)
        runs = session.execute(_RUNS.where(*mine, *counted())).all()
        # A join, not an IN list of the run ids: one statement whatever the history's length
        # (an IN list makes a new, ever larger statement to prepare and cache per rep).
        splits = session.execute(
            _SPLITS.join(Run, col(Run.id) == col(Split.run_id))
            .where(*mine, *counted())
            .order_by(col(Split.run_id), col(Split.position))
        ).all()
        session.execute(delete(BoardBest).where(
            col(BoardBest.drill_id) == drill_id, col(BoardBest.athlete_id) == athlete_id
        ))  # fmt: skip
        rows = _rows(_accumulate(runs, splits))
        if rows:
            session.execute(insert(BoardBest), rows)


def rebuild(engine: Engine) -> int:
    """Recompute the whole table, one drill at a time; returns the rows written."""
    written = 0
    with Session(engine) as session:
        drill_ids = session.exec(select(Run.drill_id).distinct()).all()
        session.execute(delete(BoardBest))
        for drill_id in drill_ids:
            runs = session.execute(_RUNS.where(col(Run.drill_id) == drill_id, *counted())).all()
            splits = session.execute(
                _SPLITS.join(Run, col(Run.id) == col(Split.run_id))
                .where(col(Run.drill_id) == drill_id, *counted())
                .order_by(col(Split.run_id), col(Split.position))
            ).all()
            rows = _rows(_accumulate(runs, splits))
            if rows:
                session.execute(insert(BoardBest), rows)
            written += len(rows)
        _set_version(session)
        session.commit()
    return written


def _set_version(session: Session) -> None:
    row = session.get(AppSetting, VERSION_KEY)
    if row is None:
        session.add(AppSetting(key=VERSION_KEY, value_json=f'"{SUMMARY_VERSION}"'))
    else:
        row.value_json = f'"{SUMMARY_VERSION}"'
        session.add(row)


def ensure_built(engine: Engine) -> bool:
    """Build the table if this database has not got this version of it; True if it did."""
    with Session(engine) as session:
        row = session.get(AppSetting, VERSION_KEY)
        if row is not None and row.value_json == f'"{SUMMARY_VERSION}"':
            return False
    rebuild(engine)
    return True
