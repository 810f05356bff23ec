"""Issue 16, item 13, on a real SQLite file over real HTTP: every rep of a session can be listed
for correcting, a bounded page at a time; a reassignment answers the new name; a hand time
outside the drill's plausible range needs the coach's confirmation and is then marked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, col, select

from server.catalog.service import Catalog
from server.corrections.plausible import plausible_range
from server.db.models import Correction, Plan, PlanSession, Run
from server.db.session import migrate
from tests.auth_support import LiveServer, login_client, serve

SPRINT = "sprint-10m"
DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


@dataclass
class Club:
    server: LiveServer
    coach: httpx.Client
    ana: int
    ben: int
    big: int  # a session of 30 reps, on DAY1
    big_runs: list[int]
    later: list[int]  # 15 reps after it, on DAY2, in no session


def _session(db: Session, name: str, state: str = "finished") -> int:
    plan = Plan(name=name, definition_json="{}")
    db.add(plan)
    db.flush()
    assert plan.id is not None
    row = PlanSession(plan_id=plan.id, state=state, started_wall=DAY1, progress_json="{}")
    db.add(row)
    db.flush()
    assert row.id is not None
    return row.id


def _rep(db: Session, drill_id: int, athlete: int, when: datetime, session_id: int | None) -> int:
    run = Run(
        drill_id=drill_id, athlete_id=athlete, state="finished", total_us=1_900_000,
        started_wall=when, finished_wall=when, plan_session_id=session_id,
    )  # fmt: skip
    db.add(run)
    db.flush()
    assert run.id is not None
    return run.id


@pytest.fixture
def club(sqlite_db: str) -> Iterator[Club]:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        rec = server.services.recorder
        team = rec.ensure_team("Squad")
        ana, ben = rec.ensure_athlete(team, "Ana"), rec.ensure_athlete(team, "Ben")
        drill_id = rec.drill_id(SPRINT)
        with Session(server.services.engine) as db:
            _session(db, "never ran", state="aborted")  # no reps: not listed
            big = _session(db, "big session")
            big_runs = [
                _rep(db, drill_id, (ana, ben)[i % 2], DAY1 + timedelta(minutes=i), big)
                for i in range(30)
            ]
            later = [_rep(db, drill_id, ana, DAY2 + timedelta(minutes=i), None) for i in range(15)]
            db.commit()
        with closing(login_client(server.base_url, server.services.engine, "Vera")) as coach:
            yield Club(server, coach, ana, ben, big, big_runs, later)


def _all_pages(coach: httpx.Client, limit: int, **params: int) -> tuple[list[int], set[int]]:
    ids: list[int] = []
    totals = set()
    offset = 0
    while True:
        res = coach.get("/api/runs/list", params={**params, "offset": offset, "limit": limit})
        assert res.status_code == 200, res.text
        page = res.json()
        totals.add(page["total"])
        assert len(page["runs"]) <= limit
        ids += [r["run_id"] for r in page["runs"]]
        offset += limit
        if offset >= page["total"]:
            return ids, totals


def test_every_rep_of_a_session_is_listed_a_page_at_a_time(club: Club) -> None:
    coach = club.coach
    # The latest 12 (what the console listed before) hold none of the session's reps.
    recent = {r["run_id"] for r in coach.get("/api/runs/recent", params={"limit": 12}).json()}
    assert not recent & set(club.big_runs)

    ids, totals = _all_pages(coach, 12, session_id=club.big)
    assert ids == club.big_runs, "a session's reps, all of them, in the order they ran"
    assert totals == {30}

    first = coach.get("/api/runs/list", params={"session_id": club.big, "limit": 5}).json()
    row = first["runs"][0]
    assert (row["athlete"], row["team"], row["session_id"], row["drill"]) == (
        "Ana", "Squad", club.big, SPRINT,
    )  # fmt: skip
    assert (row["manual"], row["out_of_range"], row["voided"]) == (False, False, False)

    # The oldest rep of the session is corrected like any other, and the list says so.
    res = coach.post(f"/api/runs/{club.big_runs[0]}/void", json={"reason": "slipped"})
    assert res.status_code == 200, res.text
    again = coach.get("/api/runs/list", params={"session_id": club.big, "limit": 1}).json()
    assert again["runs"][0]["voided"] is True

    # Without a session: every rep, newest first.
    ids, totals = _all_pages(coach, 25)
    assert ids == sorted(club.big_runs + club.later, reverse=True)
    assert totals == {45}


def test_a_day_and_a_drill_narrow_the_list(club: Club) -> None:
    coach = club.coach
    day = coach.get("/api/runs/list", params={"date": "2026-03-16", "tz": "UTC"}).json()
    assert day["total"] == 15 and {r["run_id"] for r in day["runs"]} == set(club.later)
    # 09:00 UTC on 2 March is still 1 March in Honolulu (UTC-10).
    hawaii = coach.get(
        "/api/runs/list", params={"date": "2026-03-01", "tz": "Pacific/Honolulu", "limit": 100}
    ).json()
    assert hawaii["total"] == 30
    other = coach.get("/api/runs/list", params={"drill": "505-left"}).json()
    assert other["total"] == 0 and other["runs"] == []


def test_pages_are_bounded_and_filters_checked(club: Club) -> None:
    coach = club.coach
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        res = coach.get("/api/runs/list", params=params)
        assert res.status_code == 422, (params, res.text)
    assert coach.get("/api/runs/sessions", params={"limit": 101}).status_code == 422
    res = coach.get("/api/runs/list", params={"date": "2026-02-30"})
    assert res.status_code == 422 and "date" in res.json()["detail"]
    assert coach.get("/api/runs/list", params={"session_id": 9999}).status_code == 404
    with httpx.Client(base_url=club.server.base_url, timeout=10) as anon:
        assert anon.get("/api/runs/list").status_code == 401
        assert anon.get("/api/runs/sessions").status_code == 401


def test_sessions_with_reps_are_listed_newest_first(club: Club) -> None:
    with Session(club.server.services.engine) as db:
        small = _session(db, "small session")
        _rep(db, club.server.services.recorder.drill_id(SPRINT), club.ben, DAY2, small)
        db.commit()
    res = club.coach.get("/api/runs/sessions")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["total"] == 2
    assert [(s["id"], s["plan"], s["reps"]) for s in body["sessions"]] == [
        (small, "small session", 1), (club.big, "big session", 30),
    ]  # fmt: skip
    page = club.coach.get("/api/runs/sessions", params={"offset": 1, "limit": 1}).json()
    assert [s["id"] for s in page["sessions"]] == [club.big]


def test_a_reassignment_answers_and_lists_the_new_name(club: Club) -> None:
    run_id = club.later[-1]
    res = club.coach.post(f"/api/runs/{run_id}/reassign", json={"athlete_id": club.ben})
    assert res.status_code == 200, res.text
    assert (res.json()["athlete_id"], res.json()["athlete"]) == (club.ben, "Ben")
    row = club.coach.get("/api/runs/list", params={"limit": 1}).json()["runs"][0]
    assert (row["run_id"], row["athlete"]) == (run_id, "Ben")


def test_plausible_ranges_follow_distance_and_movement() -> None:
    drills = Catalog.load().drills
    lows = {slug: plausible_range(drills[slug]).min_s for slug in drills}
    assert lows["505-left"] == 0.8  # 10 m of sprint at 12.5 m/s
    assert lows["sprint-20m"] == 1.6
    assert lows["backward-sprint-10m"] == 1.0  # backward running: 10 m/s
    assert lows["backward-walk-3m"] == pytest.approx(3 / 3.5, abs=1e-3)
    assert lows["pod-reaction"] == 0.0  # no distance: only the time limit bounds it
    assert plausible_range(drills["505-left"]).max_s == 10.0


def _manual(coach: httpx.Client, **body: object) -> httpx.Response:
    return coach.post("/api/runs/manual", json={"note": "", **body})


def test_a_hand_time_out_of_range_needs_confirmation_and_is_marked(club: Club) -> None:
    coach = club.coach
    before = coach.get("/api/runs/list").json()["total"]
    res = _manual(coach, drill="505-left", athlete_id=club.ana, total_s=0.5)
    assert res.status_code == 409, res.text
    body = res.json()
    assert body["confirm_needed"] is True
    assert (body["total_s"], body["min_s"], body["max_s"]) == (0.5, 0.8, 10.0)
    assert "0.80 s to 10 s" in body["detail"] and '"confirm": true' in body["detail"]
    assert "12.5 m/s" in body["basis"]
    assert coach.get("/api/runs/list").json()["total"] == before, "nothing stored"
    assert coach.get("/api/leaderboards/505-left").json()["entries"] == []

    res = _manual(coach, drill="505-left", athlete_id=club.ana, total_s=0.5, confirm=True)
    assert res.status_code == 201, res.text
    made = res.json()
    assert (made["manual"], made["out_of_range"], made["total_s"]) == (True, True, 0.5)
    row = coach.get("/api/runs/list", params={"limit": 1}).json()["runs"][0]
    assert (row["run_id"], row["out_of_range"]) == (made["run_id"], True)
    (entry,) = coach.get(f"/api/runs/{made['run_id']}/corrections").json()
    assert entry["action"] == "manual" and entry["coach"] == "Vera"
    assert entry["detail"]["out_of_range"]["min_s"] == 0.8
    assert entry["detail"]["out_of_range"]["confirmed"] is True
    with Session(club.server.services.engine) as db:
        stored = db.exec(select(Correction).where(col(Correction.run_id) == made["run_id"])).one()
        assert "out_of_range" in json.loads(stored.detail_json)

    # A plausible time needs no confirmation and carries no mark; over the limit stays 422.
    fine = _manual(coach, drill="505-left", athlete_id=club.ben, total_s=2.31)
    assert fine.status_code == 201, fine.text
    assert fine.json()["out_of_range"] is False
    assert _manual(coach, drill="505-left", athlete_id=club.ben, total_s=10.5).status_code == 422
    # Walking backward is slower: 0.7 s for 3 m is out of range too; a pod drill has no floor.
    walk = _manual(coach, drill="backward-walk-3m", athlete_id=club.ben, total_s=0.7)
    assert walk.status_code == 409 and walk.json()["min_s"] == pytest.approx(0.857, abs=1e-3)
    pods = _manual(coach, drill="pod-reaction", athlete_id=club.ben, total_s=0.05)
    assert pods.status_code == 201 and pods.json()["out_of_range"] is False
