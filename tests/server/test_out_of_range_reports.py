"""Issue 16, item 13, in the reports, on a real SQLite file: a 0.5 s hand time on a 505, stored
on the coach's confirmation, still counts but raises no false asymmetry or COD-deficit flag,
and the summary, the PDF and the athlete history say it is out of range."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session

from server.catalog.service import Catalog
from server.corrections.service import CorrectionService
from server.db.models import Run, Split
from server.db.session import make_engine, migrate
from server.live.hub import LiveHub
from server.reports.data import Scope
from server.reports.service import athlete_history, export_bytes, load_summary
from server.runs.recorder import RunRecorder

# Timed reps early today (UTC), so the hand time typed in now falls on the same test day.
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=1, microsecond=0)


@dataclass
class World:
    engine: Engine
    catalog: Catalog
    corrections: CorrectionService
    ana: int


@pytest.fixture
def world(sqlite_db: str) -> Iterator[World]:
    migrate(sqlite_db)
    engine = make_engine(sqlite_db)
    catalog = Catalog.load()
    catalog.sync(engine)
    live = LiveHub()
    rec = RunRecorder(engine, live)
    ana = rec.ensure_athlete(rec.ensure_team("Lions"), "Ana")
    with Session(engine) as db:
        for minute, (slug, us) in enumerate(
            [("505-left", 2_400_000), ("505-right", 2_450_000), ("sprint-10m", 1_850_000)]
        ):
            when = TODAY + timedelta(minutes=minute)
            run = Run(
                drill_id=rec.drill_id(slug), athlete_id=ana, state="finished", total_us=us,
                started_wall=when, finished_wall=when,
            )  # fmt: skip
            db.add(run)
            db.flush()
            assert run.id is not None
            name = catalog.drills[slug].segments[0].name
            db.add(Split(run_id=run.id, position=1, name=name, from_role="a", to_role="b",
                         distance_m=10.0, elapsed_us=us))  # fmt: skip
        db.commit()
    yield World(engine, catalog, CorrectionService(engine, live, catalog), ana)
    engine.dispose()


def test_a_confirmed_out_of_range_time_counts_but_raises_no_false_flag(world: World) -> None:
    made = world.corrections.manual("505-left", world.ana, 0.5, "typed 0.5", None, confirm=True)
    assert made.out_of_range is True
    summary = load_summary(world.engine, Scope(), world.catalog.drills)
    (ana,) = summary.athletes.values()

    # It counts (the coach confirmed it), marked.
    assert ana.drills["505-left"].best_s == 0.5
    marked = [r for r in summary.data.reps if r.out_of_range]
    assert [(r.run_id, r.total_us) for r in marked] == [(made.run_id, 500_000)]

    # Left/right and the COD deficit come from the timed reps only: 2.40 against 2.45 s is
    # 2.1 %, no flag (0.5 against 2.45 s would have been 390 %, flagged).
    (side,) = ana.sides
    assert (side.left_best_s, side.right_best_s) == (2.4, 2.45)
    assert side.asymmetry.flagged is False
    deficits = {c.drill: round(c.deficit_s, 3) for c in ana.cod}
    assert deficits == {"505-left": 0.55, "505-right": 0.6}
    assert not [f for f in ana.flags if f.startswith("Asymmetry")]
    (note,) = [f for f in ana.flags if "plausible range" in f]
    assert note.startswith("505 (left turn): hand time 0.50 s")
    assert "left out of asymmetry, COD deficit" in note

    # The athlete history marks the rep; the PDF says it in the flags and the caveats.
    history = athlete_history(
        load_summary(world.engine, Scope("Lions", athlete_id=world.ana), world.catalog.drills)
    )
    reps = {r["run_id"]: r for d in history["drills"] for r in d["reps"]}
    assert reps[made.run_id]["out_of_range"] is True
    assert [r["out_of_range"] for i, r in reps.items() if i != made.run_id] == [False] * 3
    pdf = export_bytes(summary, "pdf")
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "hand time 0.50 s" in text
    assert "outside the drill's plausible range" in text
    assert "Asymmetry, 505" not in text


def test_a_plausible_hand_time_is_compared_as_before(world: World) -> None:
    """Only the confirmed out-of-range mark leaves a time out: a plausible hand time (2.0 s)
    is in the left/right comparison as any time is."""
    world.corrections.manual("505-left", world.ana, 2.0, "", None)
    summary = load_summary(world.engine, Scope(), world.catalog.drills)
    (ana,) = summary.athletes.values()
    assert not [r for r in summary.data.reps if r.out_of_range]
    (side,) = ana.sides
    assert (side.left_best_s, side.right_best_s) == (2.0, 2.45)
    assert side.asymmetry.flagged is True
