"""A club's long history in a database, fast: teams, athletes, reps and splits in bulk.

Benchmarks need databases of a size no test would build rep by rep (a season of 100,000
splits, a million splits of history). Rows go in with one multi-row INSERT per few thousand
rows on SQLite and with COPY on PostgreSQL, straight into the tables the migrations made, so
the queries under test see exactly the schema and indexes of a real install.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlmodel import Session, select

from server.catalog.service import Catalog
from server.db.models import Athlete, Run, Split, Team
from server.db.models import Drill as DrillRow
from server.leaderboard import summary as board_summary

CHUNK = 5_000
GROUPS = ("U16", "U18", "Seniors", "Rehab")


@dataclass(frozen=True)
class HistorySize:
    teams: int = 2
    athletes_per_team: int = 20
    drills: int = 16
    days: int = 120
    reps_per_athlete_drill: int = 40

    @property
    def runs(self) -> int:
        return self.teams * self.athletes_per_team * self.drills * self.reps_per_athlete_drill


def _copy_rows(engine: Engine, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _insert(engine: Engine, model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if engine.dialect.name == "postgresql":
        _copy_rows(engine, model.__tablename__, columns, rows)
        return
    with engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(model), [dict(zip(columns, r, strict=True))
                                         for r in rows[i : i + CHUNK]])  # fmt: skip


def build_history(
    engine: Engine,
    catalog: Catalog,
    size: HistorySize,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Fill a migrated, empty database; returns the row counts. Times are plausible for each
    drill (a base per drill, a spread per athlete, noise per rep); a few reps are voided,
    false starts or familiarisation reps, as in a real history."""
    rng = random.Random(seed)
    catalog.sync(engine)
    with Session(engine) as session:
        drills = [
            d for d in session.exec(select(DrillRow).order_by(DrillRow.slug)).all()
            if catalog.drills[d.slug].segments
        ][: size.drills]  # fmt: skip
        teams = []
        for t in range(size.teams):
            team = Team(name=f"Team {t + 1}")
            session.add(team)
            teams.append(team)
        session.commit()
        athletes: list[Athlete] = []
        for team in teams:
            assert team.id is not None
            for a in range(size.athletes_per_team):
                athletes.append(Athlete(
                    team_id=team.id, name=f"{team.name} athlete {a + 1:02d}",
                    display_name=f"A{a + 1:02d}", squad_number=a + 1,
                    group_name=GROUPS[a % len(GROUPS)], sex="F" if a % 2 else "M",
                    birth_year=2000 + a % 10,
                ))  # fmt: skip
        session.add_all(athletes)
        session.commit()
        athlete_ids = [a.id for a in athletes if a.id is not None]
        drill_rows = [(d.id, catalog.drills[d.slug]) for d in drills if d.id is not None]
        first_run = (session.exec(text("SELECT COALESCE(MAX(id), 0) FROM run")).one()[0]) + 1  # type: ignore[call-overload]
    start_wall = datetime(2026, 1, 5, 16, tzinfo=UTC)
    run_cols = ["id", "drill_id", "athlete_id", "rep", "state", "reason", "total_us",
                "started_wall", "finished_wall", "familiarisation", "voided", "manual"]  # fmt: skip
    split_cols = ["run_id", "position", "name", "from_role", "to_role", "distance_m",
                  "elapsed_us", "created_wall"]  # fmt: skip
    runs: list[tuple[Any, ...]] = []
    splits: list[tuple[Any, ...]] = []
    run_id = first_run
    total = len(athlete_ids) * len(drill_rows) * size.reps_per_athlete_drill
    done = 0
    for drill_id, drill in drill_rows:
        base_s = [max(0.5, seg.distance_m / 5.5) for seg in drill.segments]
        for athlete_id in athlete_ids:
            talent = rng.uniform(0.9, 1.1)
            for rep in range(1, size.reps_per_athlete_drill + 1):
                when = start_wall + timedelta(
                    days=rng.randrange(size.days), minutes=rng.randrange(90)
                )
                roll = rng.random()
                state = "false_start" if roll < 0.02 else "finished"
                elapsed = [round(b * talent * rng.uniform(0.97, 1.06) * 1e6) for b in base_s]
                total_us = sum(elapsed) if state == "finished" else None
                runs.append((
                    run_id, drill_id, athlete_id, rep, state, None, total_us, when,
                    when + timedelta(seconds=10), rep == 1 and roll < 0.3, 0.02 <= roll < 0.04,
                    False,
                ))  # fmt: skip
                if state == "finished":
                    for pos, (seg, us) in enumerate(zip(drill.segments, elapsed, strict=True)):
                        splits.append((run_id, pos + 1, seg.name, seg.from_role, seg.to_role,
                                       seg.distance_m, us, when))  # fmt: skip
                run_id += 1
                done += 1
            if progress is not None:
                progress(done, total)
    _insert(engine, Run, run_cols, runs)
    _insert(engine, Split, split_cols, splits)
    board_summary.rebuild(engine)  # as the server does at start for a restored database
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT setval('run_id_seq', (SELECT MAX(id) FROM run))"))
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"athletes": len(athlete_ids), "drills": len(drill_rows), "runs": len(runs),
            "splits": len(splits)}  # fmt: skip
