"""The board summary never drifts from the reps: after random reps and corrections, every
all-time board read from the summary equals the one ranked from the runs themselves, and a
full rebuild gives the same rows as the step-by-step updates."""

from __future__ import annotations

import contextlib
import random

from sqlmodel import Session, select

from drills import RunOutcome, RunState, SplitResult
from server.catalog.service import Catalog
from server.corrections.service import CorrectionService
from server.db.models import AppSetting, BoardBest
from server.db.session import make_engine, migrate
from server.errors import ConflictError
from server.leaderboard import summary
from server.leaderboard.service import _segment_rows, _total_rows, leaderboard, valid_runs
from server.live.hub import LiveHub
from server.runs.recorder import RunRecorder

DRILL = "sprint-20m"
SEGMENTS = ("0-10m", "10-20m")


def _from_runs(engine: object, drill_id: int, segment: str | None) -> list[tuple[object, ...]]:
    """The board as ranked straight from run and split, the way a day board is."""
    with Session(engine) as session:  # type: ignore[arg-type]
        where = valid_runs(drill_id)
        rows = _segment_rows(session, where, segment) if segment else _total_rows(session, where)
    return [
        (r["athlete_id"], r["best_us"], r["last_us"], r["runs"], r["best_manual"],
         r["last_manual"])
        for r in rows
    ]  # fmt: skip


def _from_summary(engine: object, segment: str | None) -> list[tuple[object, ...]]:
    board = leaderboard(engine, DRILL, segment=segment, segments=SEGMENTS, names="full")  # type: ignore[arg-type]
    return [
        (e.athlete_id, round(e.best_s * 1e6), round(e.last_s * 1e6), e.runs, e.best_manual,
         e.last_manual)
        for e in board.entries
    ]  # fmt: skip


def _stored(engine: object) -> list[tuple[object, ...]]:
    with Session(engine) as session:  # type: ignore[arg-type]
        rows = session.exec(select(BoardBest)).all()
        return sorted(
            (r.drill_id, r.segment, r.athlete_id, r.best_us, r.best_manual, r.last_us,
             r.last_manual, r.last_run_id, r.runs)
            for r in rows
        )  # fmt: skip


def test_summary_follows_reps_and_corrections(any_db: str) -> None:
    migrate(any_db)
    engine = make_engine(any_db)
    catalog = Catalog.load()
    catalog.sync(engine)
    recorder = RunRecorder(engine, LiveHub())
    corrections = CorrectionService(engine, recorder.live, catalog)
    team = recorder.ensure_team("Summary")
    athletes = [recorder.ensure_athlete(team, f"Athlete {i}") for i in range(5)]
    drill_id = recorder.drill_id(DRILL)
    rng = random.Random(3)
    runs: list[int] = []
    for step in range(60):
        action = rng.random()
        if action < 0.6 or not runs:
            who = rng.choice(athletes)
            run_id = recorder.open_run(drill_id, who, rep=step + 1,
                                       familiarisation=rng.random() < 0.1)  # fmt: skip
            a, b = rng.randrange(1_500_000, 2_000_000), rng.randrange(1_000_000, 1_400_000)
            splits = (
                SplitResult("0-10m", "start", "split_10m", a, 10.0),
                SplitResult("10-20m", "split_10m", "finish", b, 10.0),
            )
            ctx = {"drill": DRILL, "athlete": "x", "rep": 1}
            for pos, split in enumerate(splits, 1):
                recorder.add_split(run_id, pos, split, ctx, final=pos == 2)
            state = RunState.FINISHED if rng.random() < 0.9 else RunState.TIMEOUT
            total = a + b if state is RunState.FINISHED else None
            recorder.close_run(run_id, RunOutcome(state, splits, total, None), ctx)
            runs.append(run_id)
        elif action < 0.75:
            run_id = rng.choice(runs)
            try:
                corrections.void(run_id, "slipped", None)
            except ConflictError:  # already voided: take it back instead
                corrections.unvoid(run_id, None)
        elif action < 0.9:
            run_id, who = rng.choice(runs), rng.choice(athletes)
            with contextlib.suppress(ConflictError):  # already theirs
                corrections.reassign(run_id, who, None)
        else:
            corrections.manual(DRILL, rng.choice(athletes), rng.uniform(2.5, 3.4), "", None)
        for segment in (None, *SEGMENTS):
            assert _from_summary(engine, segment) == _from_runs(engine, drill_id, segment), (
                step, segment,
            )  # fmt: skip
    incremental = _stored(engine)
    assert incremental, "the summary holds rows"
    assert summary.rebuild(engine) == len(incremental)
    assert _stored(engine) == incremental, "a rebuild gives what the updates gave"
    engine.dispose()


def test_summary_is_built_once_for_a_database_that_lacks_it(sqlite_db: str) -> None:
    migrate(sqlite_db)
    engine = make_engine(sqlite_db)
    Catalog.load().sync(engine)
    recorder = RunRecorder(engine, LiveHub())
    who = recorder.ensure_athlete(recorder.ensure_team("Old"), "Ada")
    run_id = recorder.open_run(recorder.drill_id(DRILL), who, rep=1)
    split = SplitResult("0-10m", "start", "split_10m", 1_800_000, 10.0)
    recorder.close_run(run_id, RunOutcome(RunState.FINISHED, (split,), 3_000_000, None), {})
    # As restored from a backup made before the summary existed: no rows, no version.
    with Session(engine) as session:
        for row in session.exec(select(BoardBest)).all():
            session.delete(row)
        version = session.get(AppSetting, summary.VERSION_KEY)
        if version is not None:
            session.delete(version)
        session.commit()
    assert leaderboard(engine, DRILL, names="full").entries == []
    assert summary.ensure_built(engine) is True
    assert [e.best_s for e in leaderboard(engine, DRILL, names="full").entries] == [3.0]
    assert summary.ensure_built(engine) is False, "built once"
    engine.dispose()
