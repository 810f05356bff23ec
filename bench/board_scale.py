"""Leaderboard queries on a large history (a million splits), on SQLite and on PostgreSQL.

Every phone reloads the board after every rep, so its query must stay fast however long the
club has used the system. The baseline in the same run is the naive way: load every valid
rep of the drill as an ORM object and rank in Python.
"""

from __future__ import annotations

import gc
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session, col, select

from bench.bulk_history import HistorySize, build_history
from bench.common import JsonDict
from bench.gc_passes import FullPasses, full_collections
from bench.stats import percentile, summarize
from server.catalog.service import Catalog
from server.db.models import Drill, Run
from server.db.scratch import postgres_reachable, scratch_postgres
from server.db.session import make_engine, migrate
from server.heap import settle_heap
from server.leaderboard.service import leaderboard

PG_ADMIN_URL = os.environ.get("AGILITY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
# 400 athletes x 16 drills x 110 reps: 704,000 reps with just over a million splits.
FULL_SIZE = HistorySize(teams=10, athletes_per_team=40, drills=16, days=300,
                        reps_per_athlete_drill=110)  # fmt: skip
TARGET_P95_MS = 20.0
DAY = "2026-03-02"  # inside the generated history, which starts on 2026-01-05


@contextmanager
def _sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield os.path.join(tmp, "boards.db")


def _naive_board(engine: Any, slug: str) -> list[tuple[int, float]]:
    """The baseline: every valid rep as an object, best per athlete found in Python."""
    with Session(engine) as session:
        drill = session.exec(select(Drill).where(Drill.slug == slug)).one()
        rows = session.exec(
            select(Run).where(
                Run.drill_id == drill.id, Run.state == "finished",
                col(Run.total_us).is_not(None), col(Run.familiarisation).is_(False),
                col(Run.voided).is_(False),
            )
        ).all()  # fmt: skip
    best: dict[int, int] = {}
    for run in rows:
        assert run.total_us is not None
        if run.athlete_id not in best or run.total_us < best[run.athlete_id]:
            best[run.athlete_id] = run.total_us
    return sorted(((a, t / 1e6) for a, t in best.items()), key=lambda x: x[1])


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def _stats(ms: list[float]) -> JsonDict:
    return summarize(ms, "queries", quantiles=(0.50, 0.95), digits=None)


def _gc_stats(passes: FullPasses) -> JsonDict:
    """How many full passes of the collector ran while timing, and the longest (ms): the
    stalls a slow board query can hide."""
    longest_ns = max((end - start for start, end in passes), default=0)
    return {"full_passes": len(passes), "full_pass_max_ms": longest_ns / 1e6}


def _time_boards(
    engine: Any, catalog: Catalog, slugs: list[str], rng: random.Random, queries: int
) -> dict[str, list[float]]:
    """Each kind of board the public route serves, on random drills."""

    def by_segment() -> None:
        slug = rng.choice(slugs)
        segment = catalog.drills[slug].segments[0].name
        leaderboard(engine, slug, segment=segment, segments=(segment,))

    few = max(10, queries // 4)
    return {
        "board": _timed(lambda: leaderboard(engine, rng.choice(slugs)), queries),
        "board_segment": _timed(by_segment, few),
        "board_group": _timed(lambda: leaderboard(engine, rng.choice(slugs), group="U18"), few),
        # A day's board reads that day's reps through the started_wall index, not the summary.
        "board_day": _timed(lambda: leaderboard(engine, rng.choice(slugs), day=DAY), few),
    }


def _one_backend(db: str, size: HistorySize, queries: int, seed: int) -> JsonDict:
    migrate(db)
    engine = make_engine(db)
    catalog = Catalog.load()
    t0 = time.perf_counter()
    counts = build_history(engine, catalog, size, seed)
    build_s = time.perf_counter() - t0
    rng = random.Random(seed)
    slugs = [s for s in sorted(catalog.drills) if catalog.drills[s].segments]
    with Session(engine) as session:
        stored = set(session.exec(select(Drill.slug)).all())
    slugs = [s for s in slugs if s in stored][: size.drills]
    # Warm the caches once per drill, as a club's server is warm after the first rep.
    for slug in slugs:
        leaderboard(engine, slug)
    # First as the process stands after loading a million splits, then with its heap settled
    # as `agility serve` settles it before serving: the difference is the collector's stalls.
    with full_collections() as passes:
        unsettled = _timed(lambda: leaderboard(engine, rng.choice(slugs)), queries)
    unsettled_gc = _gc_stats(passes)
    settle_heap()
    try:
        with full_collections() as passes:
            timed = _time_boards(engine, catalog, slugs, rng, queries)
        settled_gc = _gc_stats(passes)
    finally:
        gc.unfreeze()  # leave the process as found: the next build frees what this one left
    naive = _timed(lambda: _naive_board(engine, rng.choice(slugs)), max(5, queries // 20))
    engine.dispose()
    return {
        "counts": counts, "build_s": build_s,
        **{kind: _stats(ms) for kind, ms in timed.items()},
        "board_unsettled": _stats(unsettled), "gc_unsettled": unsettled_gc,
        "gc_settled": settled_gc, "naive_python": _stats(naive),
        "met": max(percentile(ms, 0.95) for ms in timed.values()) <= TARGET_P95_MS,
    }  # fmt: skip


def run_board_scale_bench(
    size: HistorySize = FULL_SIZE, queries: int = 200, seed: int = 1, postgres: bool = True
) -> JsonDict:
    """Both backends, the same generated history; PostgreSQL skipped when `postgres` is
    False (a machine without it) and said so in the result."""
    result: JsonDict = {"target_p95_ms": TARGET_P95_MS, "size": size.__dict__}
    with _sqlite_db() as db:
        result["sqlite"] = _one_backend(db, size, queries, seed)
    if postgres and postgres_reachable(PG_ADMIN_URL) is None:
        with scratch_postgres(PG_ADMIN_URL, "agility_bench") as db:
            result["postgresql"] = _one_backend(db, size, queries, seed)
    else:
        result["postgresql"] = None
    return result
