"""The reports data layer on SQLite and PostgreSQL: scope filters, flags, splits, summaries."""

from __future__ import annotations

import gc
from datetime import date

import pytest

from drills.model import Drill
from drills.norms import load_norms
from server.catalog.service import Catalog
from server.errors import InvalidInputError, NotFoundError
from server.reports.data import (
    NothingToExportError,
    ReportData,
    Scope,
    drill_side,
    load_report_data,
    make_scope,
    sort_key,
)
from server.reports.figures import build_summary
from server.reports.records import paused_gc
from tests.server.reports_support import DAY1, DAY2, Seeded, seed_reports_db


def _lions(db: str, catalog: dict[str, Drill] | None = None) -> tuple[Seeded, ReportData]:
    """The seeded database and the Lions' report data over all dates."""
    seeded = seed_reports_db(db)
    try:
        return seeded, load_report_data(seeded.engine, make_scope("Lions", None, None), catalog)
    finally:
        seeded.engine.dispose()


def test_every_rep_and_split_comes_back_exactly(any_db: str) -> None:
    seeded = seed_reports_db(any_db)
    try:
        data = load_report_data(seeded.engine, Scope())
    finally:
        seeded.engine.dispose()
    assert data.teams == ("Empty FC", "Lions", "Voided United")
    assert set(data.athletes) == set(seeded.athlete_ids.values())
    assert len(data.reps) == len(seeded.runs)
    stored = {int(str(r["run_id"])): r for r in seeded.runs}
    for rep in data.reps:
        want = stored[rep.run_id]
        assert rep.total_us == want["total_us"]
        if rep.state == "finished":
            assert [s.elapsed_us for s in rep.splits] == want["splits_us"]
            assert [s.position for s in rep.splits] == list(range(1, len(rep.splits) + 1))
        assert rep.started_wall.tzinfo is not None
    # Ordered by team, athlete name (accents ignored: Åsa before Ben), drill, time.
    names = [data.athletes[r.athlete_id].name for r in data.reps if r.drill == "sprint-10m"]
    assert names.index("Åsa Berg") < names.index("Ben Okafor") < names.index("Chloé Durand")
    keys = [
        (sort_key(data.athletes[r.athlete_id].team), sort_key(data.athletes[r.athlete_id].name),
         r.drill, r.started_wall)
        for r in data.reps
    ]  # fmt: skip
    assert keys == sorted(keys)


def test_team_and_inclusive_date_range(any_db: str) -> None:
    seeded = seed_reports_db(any_db)
    try:
        lions = load_report_data(seeded.engine, make_scope("Lions", None, None))
        day2 = load_report_data(seeded.engine, make_scope("Lions", "2026-03-16", "2026-03-16"))
        day1 = load_report_data(seeded.engine, make_scope(None, None, "2026-03-02"))
        with pytest.raises(NotFoundError, match="teams: Empty FC, Lions, Voided United"):
            load_report_data(seeded.engine, make_scope("Tigers", None, None))
    finally:
        seeded.engine.dispose()
    assert {a.team for a in lions.athletes.values()} == {"Lions"}
    assert len(lions.athletes) == 3
    assert {r.day for r in day2.reps} == {DAY2.date()}
    assert {r.day for r in day1.reps} == {DAY1.date()}
    assert len(day1.reps) + len(day2.reps) == len(lions.reps) + 3  # Val Void's day-1 reps


def test_bad_dates_are_refused_with_the_expected_format() -> None:
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
        make_scope(None, "02/03/2026", None)
    with pytest.raises(InvalidInputError, match="before it starts"):
        make_scope(None, "2026-03-10", "2026-03-01")
    assert make_scope("", "", "") == Scope()


def test_empty_and_all_voided_teams_say_so(sqlite_db: str) -> None:
    seeded = seed_reports_db(sqlite_db)
    try:
        empty = load_report_data(seeded.engine, make_scope("Empty FC", None, None))
        voided = load_report_data(seeded.engine, make_scope("Voided United", None, None))
    finally:
        seeded.engine.dispose()
    with pytest.raises(NothingToExportError, match="team Empty FC over all dates: no reps"):
        empty.require_valid_reps()
    with pytest.raises(NothingToExportError, match=r"no valid reps \(all 3 are voided"):
        voided.require_valid_reps()


def test_flags_and_validity(sqlite_db: str) -> None:
    _, data = _lions(sqlite_db)
    tagged = {r.rep: r for r in data.reps if r.rep >= 10}
    assert tagged[10].void and not tagged[10].valid
    assert tagged[11].familiarisation and not tagged[11].valid
    assert tagged[12].false_start and not tagged[12].valid and tagged[12].reaction_us == -40_000
    assert tagged[13].state == "timeout" and not tagged[13].valid
    assert tagged[14].manual and tagged[14].valid


def test_side_comes_from_the_mirror_and_slug() -> None:
    drills = Catalog.load().drills
    assert drill_side(drills["505-left"], "505-left") == "left"
    assert drill_side(drills["l-drill-right"], "l-drill-right") == "right"
    assert drill_side(drills["pro-agility-5-10-5-left"], "pro-agility-5-10-5-left") == "left"
    assert drill_side(drills["sprint-10m"], "sprint-10m") is None
    assert drill_side(None, "custom-left") == "left"
    assert drill_side(None, "custom") is None


def test_summary_counts_only_valid_reps_and_relates_drills(sqlite_db: str) -> None:
    seeded, data = _lions(sqlite_db, Catalog.load().drills)
    summary = build_summary(data, load_norms())
    asa = summary.athletes[seeded.athlete_ids["Åsa Berg"]]
    sprint = asa.drills["sprint-10m"]
    # The voided/practice 1.000 s reps never become the best; the manual 1.95 s rep counts.
    assert sprint.best_s == pytest.approx(1.8205)
    assert next(iter(summary.athletes)) == asa.athlete.id
    assert sprint.stats is not None and sprint.stats.n == 7
    assert (sprint.reps, sprint.voided, sprint.practice, sprint.false_starts) == (11, 1, 1, 1)
    assert sprint.daily_best == ((date(2026, 3, 2), 1.8505), (date(2026, 3, 16), 1.8205))
    assert summary.drills["sprint-10m"].ranks[asa.athlete.id] == 1
    # Forward:backward per day: backward best / forward best, 10 m and 20 m twins only.
    (fb,) = asa.fb_latest
    assert fb.distance_m == 10.0 and fb.day == DAY2.date()
    assert fb.ratio == pytest.approx(2.42025 / 1.8205)
    # 505 left 2.37 vs right 2.62 on day 2 (bests over the range): over 10 % flagged.
    (side,) = asa.sides
    assert side.asymmetry.flagged and side.asymmetry.worse is not None
    assert side.asymmetry.worse.value == "right"
    assert any(f.startswith("Asymmetry, 505") for f in asa.flags)
    cod = {c.drill: c.deficit_s for c in asa.cod}
    assert cod["505-left"] == pytest.approx(2.37 - 1.8205)
    # Screening cut-off always applies: 4.77 s is under 5.5 s, so no fall-risk flag for Åsa.
    assert not any("cut-off" in f for f in asa.flags)
    assert any(t.id == "fall-risk-cutoff" for t in summary.norms_used)


def test_norm_ratings_only_for_a_chosen_population(sqlite_db: str) -> None:
    seeded, data = _lions(sqlite_db, Catalog.load().drills)
    tables = load_norms()
    plain = build_summary(data, tables)
    chosen = build_summary(data, tables, {"backward-walk-3m": ["fallers", "non-fallers"]})
    ben = seeded.athlete_ids["Ben Okafor"]
    assert plain.athletes[ben].drills["backward-walk-3m"].rating is None
    rating = chosen.athletes[ben].drills["backward-walk-3m"].rating
    assert rating is not None and rating.population == "fallers"
    assert {t.id for t in chosen.norms_used} == {"fallers", "fall-risk-cutoff"}


def test_paused_gc_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the outer pause still holds"
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled(), "left as it was found"
    finally:
        gc.enable()
