"""Migrations and the write/read path on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from drills import RunOutcome, RunState, SplitResult
from server.catalog.service import Catalog
from server.db import models  # noqa: F401  (tables on the metadata)
from server.db.session import alembic_config, make_engine, migrate
from server.leaderboard.service import leaderboard
from server.live.hub import LiveHub
from server.runs.recorder import RunRecorder

TABLES = {"team", "athlete", "drill", "run", "split", "deviceevent"}


def test_migration_creates_every_table_and_matches_the_models(any_db: str) -> None:
    migrate(any_db)
    engine = make_engine(any_db)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_migrate_twice_is_harmless_and_downgrade_works(sqlite_db: str) -> None:
    migrate(sqlite_db)
    migrate(sqlite_db)
    command.downgrade(alembic_config(sqlite_db), "base")
    engine = make_engine(sqlite_db)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_uses_wal(sqlite_db: str) -> None:
    migrate(sqlite_db)
    engine = make_engine(sqlite_db)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def _finish(recorder: RunRecorder, athlete_id: int, drill_id: int, us: int) -> int:
    run_id = recorder.open_run(drill_id, athlete_id, rep=1)
    split = SplitResult("0-10m", "start", "finish", us, 10.0)
    ctx = {"drill": "backward-sprint-10m", "athlete": "x", "rep": 1}
    recorder.add_split(run_id, 1, split, ctx, final=True)
    recorder.close_run(run_id, RunOutcome(RunState.FINISHED, (split,), us, None), ctx)
    return run_id


def test_recorder_and_leaderboard(any_db: str) -> None:
    migrate(any_db)
    engine = make_engine(any_db)
    Catalog.load().sync(engine)
    live = LiveHub()

    async def body() -> list[str]:
        queue = live.subscribe()
        recorder = RunRecorder(engine, live)
        team = recorder.ensure_team("Squad")
        ana = recorder.ensure_athlete(team, "Ana")
        ben = recorder.ensure_athlete(team, "Ben")
        assert recorder.ensure_athlete(team, "Ana") == ana, "ensure_athlete is idempotent"
        drill_id = recorder.drill_id("backward-sprint-10m")
        _finish(recorder, ana, drill_id, 2_500_000)
        _finish(recorder, ben, drill_id, 2_400_123)
        _finish(recorder, ana, drill_id, 2_450_001)
        # A run that timed out must not count.
        run_id = recorder.open_run(drill_id, ben, rep=2)
        recorder.close_run(run_id, RunOutcome(RunState.TIMEOUT, (), None, "time limit"), {})
        messages = []
        while not queue.empty():
            item = queue.get_nowait()
            assert item is not None
            messages.append(item)
        return messages

    messages = asyncio.run(body())
    assert len(messages) == 3 * 2 + 1  # a split and a run message per finished rep, one timeout
    board = leaderboard(engine, "backward-sprint-10m")
    assert [(e.athlete, e.best_s, e.last_s, e.runs) for e in board.entries] == [
        ("Ben", 2.400123, 2.400123, 1),
        ("Ana", 2.450001, 2.450001, 2),
    ]
    assert [e.rank for e in board.entries] == [1, 2]
    engine.dispose()
