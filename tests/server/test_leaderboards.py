"""Leaderboards on SQLite and PostgreSQL (ranking, segments, filters), then the public routes
over real HTTP, where no hidden full name may appear: boards, recent runs, the live feed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from websockets.sync.client import connect

from drills import RunOutcome, RunState, SplitResult
from server.catalog.service import Catalog
from server.db.models import Athlete, Run
from server.db.session import make_engine, migrate
from server.errors import InvalidInputError, NotFoundError
from server.leaderboard.service import day_bounds, drills_run_on, leaderboard
from server.leaderboard.summary import refresh
from server.live.hub import LiveHub
from server.runs.queries import recent_runs
from server.runs.recorder import RunRecorder
from server.settings.service import update_settings
from tests.auth_support import login_client, serve

DRILL = "sprint-20m"  # segments 0-10m and 10-20m
SEGMENTS = ("0-10m", "10-20m")


@dataclass
class World:
    engine: Engine
    recorder: RunRecorder
    drill_id: int
    ids: dict[str, int]


def rep(world: World, who: str, first_us: int, second_us: int, **fields: object) -> int:
    """A finished two-split rep; `fields` then set on the run row (voided, started_wall...)."""
    rec = world.recorder
    run_id = rec.open_run(world.drill_id, world.ids[who], rep=1)
    splits = (
        SplitResult("0-10m", "start", "split_10m", first_us, 10.0),
        SplitResult("10-20m", "split_10m", "finish", second_us, 10.0),
    )
    ctx = {"drill": DRILL, "athlete": who, "rep": 1}
    for pos, split in enumerate(splits, 1):
        rec.add_split(run_id, pos, split, ctx, final=pos == 2)
    total = first_us + second_us
    rec.close_run(run_id, RunOutcome(RunState.FINISHED, splits, total, None), ctx)
    if fields:
        with Session(world.engine) as session:
            run = session.get(Run, run_id)
            assert run is not None
            for key, value in fields.items():
                setattr(run, key, value)
            session.add(run)
            refresh(session, [(run.drill_id, run.athlete_id)])  # as a correction would
            session.commit()
    return run_id


@pytest.fixture
def world(any_db: str) -> Iterator[World]:
    migrate(any_db)
    engine = make_engine(any_db)
    Catalog.load().sync(engine)
    rec = RunRecorder(engine, LiveHub())
    team = rec.ensure_team("Squad")
    ids = {name: rec.ensure_athlete(team, name) for name in ("Ada Lind", "Ben Ode", "Cy Park")}
    with Session(engine) as session:
        for name, group in (("Ada Lind", "U16"), ("Ben Ode", "U18"), ("Cy Park", "U16")):
            athlete = session.get(Athlete, ids[name])
            assert athlete is not None
            athlete.group_name = group
            session.add(athlete)
        session.commit()
    yield World(engine, rec, rec.drill_id(DRILL), ids)
    engine.dispose()


def rows(world: World, **kw: object) -> list[tuple[int, str, float, float, int, float]]:
    board = leaderboard(world.engine, DRILL, segments=SEGMENTS, names="full", **kw)  # type: ignore[arg-type]
    return [(e.rank, e.athlete, e.best_s, e.last_s, e.runs, e.diff_to_pb_s) for e in board.entries]


def test_best_last_rank_and_diff_to_pb(world: World) -> None:
    rep(world, "Ada Lind", 1_800_000, 1_200_000)  # 3.0
    rep(world, "Ada Lind", 1_700_000, 1_100_000)  # 2.8 best
    rep(world, "Ada Lind", 1_900_000, 1_300_000)  # 3.2 last
    rep(world, "Ben Ode", 1_750_000, 1_150_000)  # 2.9
    got = rows(world)
    assert got == [
        (1, "Ada Lind", 2.8, 3.2, 3, pytest.approx(0.4)),
        (2, "Ben Ode", 2.9, 2.9, 1, 0.0),
    ]


def test_equal_bests_share_a_rank(world: World) -> None:
    rep(world, "Ben Ode", 1_000_000, 1_000_000)
    rep(world, "Ada Lind", 1_000_000, 1_000_000)
    rep(world, "Cy Park", 1_000_000, 1_000_001)
    assert [(r[0], r[1]) for r in rows(world)] == [(1, "Ada Lind"), (1, "Ben Ode"), (3, "Cy Park")]


def test_voided_familiarisation_and_unfinished_reps_stay_off(world: World) -> None:
    rep(world, "Ada Lind", 1_500_000, 1_500_000)
    rep(world, "Ada Lind", 1_000_000, 1_000_000, voided=True)
    rep(world, "Ada Lind", 1_100_000, 1_000_000, familiarisation=True)
    rep(world, "Ben Ode", 1_200_000, 1_000_000, state="timeout")
    assert rows(world) == [(1, "Ada Lind", 3.0, 3.0, 1, 0.0)]
    assert [r[1:5] for r in rows(world, segment="0-10m")] == [("Ada Lind", 1.5, 1.5, 1)]


def test_segment_board_ranks_that_split(world: World) -> None:
    rep(world, "Ada Lind", 1_600_000, 1_000_000)  # total 2.6, 0-10m 1.6
    rep(world, "Ada Lind", 1_650_000, 1_200_000)  # last 0-10m 1.65
    rep(world, "Ben Ode", 1_500_000, 1_300_000)  # total 2.8, 0-10m 1.5
    assert [r[1] for r in rows(world)] == ["Ada Lind", "Ben Ode"]
    first = rows(world, segment="0-10m")
    assert first == [
        (1, "Ben Ode", 1.5, 1.5, 1, 0.0),
        (2, "Ada Lind", 1.6, 1.65, 2, pytest.approx(0.05)),
    ]
    second = rows(world, segment="10-20m")
    assert [(r[1], r[2], r[3]) for r in second] == [("Ada Lind", 1.0, 1.2), ("Ben Ode", 1.3, 1.3)]
    board = leaderboard(world.engine, DRILL, segment="10-20m", segments=SEGMENTS, names="full")
    assert (board.segment, board.segments) == ("10-20m", SEGMENTS)
    with pytest.raises(NotFoundError):
        leaderboard(world.engine, DRILL, segment="0-30m", segments=SEGMENTS)


def test_segments_come_from_the_splits_when_not_given(world: World) -> None:
    rep(world, "Ada Lind", 1_600_000, 1_000_000)
    board = leaderboard(world.engine, DRILL, names="full")
    assert set(board.segments) == set(SEGMENTS)


def test_group_and_day_filters(world: World) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    rep(world, "Ada Lind", 1_000_000, 1_000_000, started_wall=yesterday)  # 2.0, yesterday
    rep(world, "Ada Lind", 1_200_000, 1_000_000)  # 2.2 today
    rep(world, "Ben Ode", 1_100_000, 1_000_000)  # 2.1 today
    rep(world, "Cy Park", 1_300_000, 1_000_000, started_wall=yesterday)
    assert [r[1:3] for r in rows(world, group="U16")] == [("Ada Lind", 2.0), ("Cy Park", 2.3)]
    assert [r[1:3] for r in rows(world, day="today")] == [("Ben Ode", 2.1), ("Ada Lind", 2.2)]
    assert [r[1:3] for r in rows(world, group="U16", day="today")] == [("Ada Lind", 2.2)]
    day = yesterday.date().isoformat()
    assert [r[1:3] for r in rows(world, day=day, segment="0-10m")] == [
        ("Ada Lind", 1.0), ("Cy Park", 1.3),
    ]  # fmt: skip
    assert rows(world, group="nobody") == []
    with pytest.raises(InvalidInputError):
        rows(world, day="yesterday")


def test_day_is_a_utc_date() -> None:
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    bounds = day_bounds("today", late)
    assert bounds == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))


def test_drills_run_today(world: World) -> None:
    assert drills_run_on(world.engine) == []
    rep(world, "Ada Lind", 1_000_000, 1_000_000, started_wall=datetime.now(UTC) - timedelta(2))
    assert drills_run_on(world.engine) == []
    rep(world, "Ada Lind", 1_000_000, 1_000_000, voided=True)
    assert drills_run_on(world.engine) == [], "a voided rep puts no drill on the TV"
    rep(world, "Ben Ode", 1_000_000, 1_000_000)
    assert drills_run_on(world.engine) == [DRILL]


def test_privacy_applies_to_boards_and_recent_runs(world: World) -> None:
    rep(world, "Ada Lind", 1_000_000, 1_000_000)
    update_settings(world.engine, {"public_names": "initials"})
    assert [e.athlete for e in leaderboard(world.engine, DRILL).entries] == ["A.L."]
    assert [r.athlete for r in recent_runs(world.engine, None, 5)] == ["A.L."]
    update_settings(world.engine, {"public_names": "display"})
    assert [e.athlete for e in leaderboard(world.engine, DRILL, segment="0-10m").entries] == [
        "Ada L."
    ]


# -- over HTTP -----------------------------------------------------------------------------


def test_public_answers_never_show_a_hidden_full_name(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        services = server.services
        update_settings(services.engine, {"public_names": "initials"})
        rec = services.recorder
        team = rec.ensure_team("Squad")
        world = World(services.engine, rec, rec.drill_id(DRILL), {})
        world.ids["Ada Lind"] = rec.ensure_athlete(team, "Ada Lind")
        ws_url = server.base_url.replace("http://", "ws://") + "/ws/live"
        with connect(ws_url, open_timeout=5) as ws:
            hello = json.loads(ws.recv(timeout=5))
            rep(world, "Ada Lind", 1_000_000, 1_000_000)
            # A plan message names the athlete up next, and its pause reason in free text.
            services.live.publish(
                {"type": "plan", "next": {"athlete": "Ada Lind", "drill": DRILL},
                 "reason": "cannot arm Ada Lind on sprint-20m: gate lost"}
            )  # fmt: skip
            pushed = [ws.recv(timeout=5) for _ in range(4)]  # two splits, the run, the plan
        assert [json.loads(t)["type"] for t in pushed] == ["split", "split", "run", "plan"]
        assert json.loads(pushed[2])["athlete"] == "A.L."
        assert json.loads(pushed[3])["reason"] == "cannot arm A.L. on sprint-20m: gate lost"
        with httpx.Client(base_url=server.base_url, timeout=10) as anon:
            answers = {
                "board": anon.get(f"/api/leaderboards/{DRILL}"),
                "segment": anon.get(f"/api/leaderboards/{DRILL}", params={"segment": "0-10m"}),
                "today": anon.get(f"/api/leaderboards/{DRILL}", params={"day": "today"}),
                "recent": anon.get("/api/runs/recent"),
                "since": anon.get(
                    "/api/live/since", params={"epoch": hello["epoch"], "seq": hello["seq"]}
                ),
            }
            for name, res in answers.items():
                assert res.status_code == 200, (name, res.text)
            texts = [*pushed, *(res.text for res in answers.values())]
            for text in texts:
                assert "Ada" not in text and "Lind" not in text, text
            board = answers["board"].json()
            assert board["entries"][0]["athlete"] == "A.L."
            assert board["segments"] == list(SEGMENTS)
            assert len(answers["since"].json()["messages"]) == 4
            (anon_recent,) = answers["recent"].json()
            assert anon_recent["athlete_id"] is None

        # A signed-in coach corrects reps by name and id: the console gets both in full.
        with contextlib.closing(login_client(server.base_url, services.engine)) as coach:
            (mine,) = coach.get("/api/runs/recent").json()
            assert mine["athlete"] == "Ada Lind" and mine["athlete_id"] == world.ids["Ada Lind"]

        with httpx.Client(base_url=server.base_url, timeout=10) as anon:
            # The setting changes: the kept messages were written under the old one, so a
            # page catching up reloads instead of receiving them.
            update_settings(services.engine, {"public_names": "full"})
            assert anon.get(f"/api/leaderboards/{DRILL}").json()["entries"][0]["athlete"] == (
                "Ada Lind"
            )
            again = anon.get(
                "/api/live/since", params={"epoch": hello["epoch"], "seq": hello["seq"]}
            )
            assert again.json()["reload"] is True


def test_board_routes_over_http(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        rec = server.services.recorder
        team = rec.ensure_team("Squad")
        world = World(server.services.engine, rec, rec.drill_id(DRILL), {})
        world.ids["Ben"] = rec.ensure_athlete(team, "Ben")
        rep(world, "Ben", 1_100_000, 1_000_000)
        rep(world, "Ben", 1_000_000, 1_200_000)
        with httpx.Client(base_url=server.base_url, timeout=10) as anon:
            today = anon.get("/api/leaderboards/today")
            assert today.status_code == 200 and today.json() == [DRILL]
            board = anon.get(f"/api/leaderboards/{DRILL}", params={"segment": "10-20m"}).json()
            assert board["segment"] == "10-20m"
            (entry,) = board["entries"]
            assert {"rank", "athlete", "best_s", "last_s", "runs", "diff_to_pb_s"} <= set(entry)
            assert (entry["best_s"], entry["last_s"], entry["runs"]) == (1.0, 1.2, 2)
            assert entry["diff_to_pb_s"] == pytest.approx(0.2)
            assert entry["best_manual"] is False and entry["last_manual"] is False
            bad_segment = anon.get(f"/api/leaderboards/{DRILL}", params={"segment": "nope"})
            assert bad_segment.status_code == 404
            bad_day = anon.get(f"/api/leaderboards/{DRILL}", params={"day": "someday"})
            assert bad_day.status_code == 422
            grouped = anon.get(f"/api/leaderboards/{DRILL}", params={"group": "U18"}).json()
            assert grouped["entries"] == [] and grouped["group"] == "U18"
