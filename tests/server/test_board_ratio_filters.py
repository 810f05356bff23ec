"""Issue 16 and 17 on the board API, SQLite and PostgreSQL: the `group` filter is checked (422
naming `group` over HTTP), today's drills for the TV follow it, and a backward drill's board
carries each athlete's backward ÷ forward time, paired by day as drills/metrics.py pairs it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from drills import metrics
from server.catalog.service import Catalog
from server.db.models import Athlete, Drill, Run, Team
from server.db.session import make_engine, migrate
from server.errors import InvalidInputError
from server.leaderboard.ratio import RATIO_LABEL, board_twin
from server.leaderboard.service import drills_run_on, leaderboard
from server.leaderboard.summary import refresh
from tests.auth_support import serve

BACKWARD, FORWARD = "backward-sprint-10m", "sprint-10m"
CATALOG = Catalog.load()
TWIN = CATALOG.drills[FORWARD]
NOW = datetime.now(UTC)
YESTERDAY = NOW - timedelta(days=1)


@dataclass
class World:
    engine: Engine
    athletes: dict[str, int]
    drills: dict[str, int]


def add_rep(world: World, who: str, slug: str, total_us: int, when: datetime = NOW) -> None:
    """A finished, counted rep, the board summary rewritten as the recorder would."""
    with Session(world.engine) as session:
        run = Run(
            drill_id=world.drills[slug], athlete_id=world.athletes[who], state="finished",
            total_us=total_us, started_wall=when, finished_wall=when,
        )  # fmt: skip
        session.add(run)
        refresh(session, [(run.drill_id, run.athlete_id)])
        session.commit()


@pytest.fixture
def world(any_db: str) -> Iterator[World]:
    migrate(any_db)
    engine = make_engine(any_db)
    CATALOG.sync(engine)
    with Session(engine) as session:
        team = Team(name="Squad")
        session.add(team)
        session.flush()
        assert team.id is not None
        people = {"Ada Lind": "U16", "Ben Ode": "U18", "Cy Park": "U16"}
        for name, group in people.items():
            session.add(Athlete(team_id=team.id, name=name, group_name=group))
        session.commit()
        athletes = {a.name: a.id for a in session.exec(select(Athlete)).all() if a.id}
        drills = {d.slug: d.id for d in session.exec(select(Drill)).all() if d.id}
    yield World(engine, athletes, drills)
    engine.dispose()


def test_only_a_backward_drill_with_a_forward_twin_has_a_ratio() -> None:
    assert board_twin(CATALOG.drills[BACKWARD], CATALOG.drills) == TWIN
    assert board_twin(TWIN, CATALOG.drills) is None, "forward: the ratio is the backward's"
    assert board_twin(None, CATALOG.drills) is None


def test_ratio_is_backward_over_forward_on_the_latest_day_with_both(world: World) -> None:
    # Ada: yesterday 2.600 / 2.000; today 2.500 and 2.450 (best) / 1.960 (best) and 2.100.
    add_rep(world, "Ada Lind", BACKWARD, 2_600_000, YESTERDAY)
    add_rep(world, "Ada Lind", FORWARD, 2_000_000, YESTERDAY)
    add_rep(world, "Ada Lind", BACKWARD, 2_500_000)
    add_rep(world, "Ada Lind", BACKWARD, 2_450_000)
    add_rep(world, "Ada Lind", FORWARD, 1_960_000)
    add_rep(world, "Ada Lind", FORWARD, 2_100_000)
    # Ben: backward today, forward only yesterday: no day with both.
    add_rep(world, "Ben Ode", BACKWARD, 2_300_000)
    add_rep(world, "Ben Ode", FORWARD, 1_800_000, YESTERDAY)
    # Cy: both, yesterday only.
    add_rep(world, "Cy Park", BACKWARD, 2_700_000, YESTERDAY)
    add_rep(world, "Cy Park", FORWARD, 2_160_000, YESTERDAY)

    board = leaderboard(world.engine, BACKWARD, names="full", twin=TWIN)
    assert board.ratio is not None and board.ratio.label == RATIO_LABEL == "Backward ÷ forward time"
    assert board.ratio.forward == FORWARD and board.ratio.forward_name == TWIN.name
    got = {e.athlete: (e.ratio, e.ratio_day) for e in board.entries}
    ada = round(metrics.forward_backward_ratio(1.96, 2.45), 3)
    cy = round(metrics.forward_backward_ratio(2.16, 2.7), 3)
    assert ada == 1.25 and cy == 1.25
    assert got == {
        "Ada Lind": (ada, NOW.date().isoformat()),
        "Ben Ode": (None, None),
        "Cy Park": (cy, YESTERDAY.date().isoformat()),
    }
    ada_entry = next(e for e in board.entries if e.athlete == "Ada Lind")
    assert (ada_entry.ratio_backward_s, ada_entry.ratio_forward_s) == (2.45, 1.96)

    # Yesterday's board pairs yesterday's bests; a group keeps to its athletes.
    day = leaderboard(world.engine, BACKWARD, day=YESTERDAY.date().isoformat(), names="full",
                      twin=TWIN)  # fmt: skip
    assert {e.athlete: e.ratio for e in day.entries} == {"Ada Lind": 1.3, "Cy Park": 1.25}
    u18 = leaderboard(world.engine, BACKWARD, group="U18", names="full", twin=TWIN)
    assert [(e.athlete, e.ratio) for e in u18.entries] == [("Ben Ode", None)]
    # Without the twin (as for a drill the catalogue does not know), no ratio.
    assert leaderboard(world.engine, BACKWARD, names="full").ratio is None
    assert all(e.ratio is None for e in leaderboard(world.engine, FORWARD).entries)


@pytest.mark.parametrize(
    ("value", "words"),
    [("x" * 41, "at most 40 characters"), ("U16\x00", "control characters")],
)
def test_a_group_no_athlete_could_have_is_refused(world: World, value: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        leaderboard(world.engine, FORWARD, group=value)
    assert caught.value.errors == [str(caught.value).splitlines()[0]]  # the 422 detail
    assert caught.value.errors[0].startswith("group: ") and words in caught.value.errors[0]
    with pytest.raises(InvalidInputError):
        drills_run_on(world.engine, group=value)


def test_group_is_matched_as_the_roster_keeps_it(world: World) -> None:
    add_rep(world, "Ada Lind", FORWARD, 2_000_000)
    add_rep(world, "Ben Ode", FORWARD, 1_900_000)
    spaced = leaderboard(world.engine, FORWARD, group="  U16 ", names="full")
    assert spaced.group == "U16" and [e.athlete for e in spaced.entries] == ["Ada Lind"]
    assert leaderboard(world.engine, FORWARD, group="x" * 40).entries == []


def test_todays_drills_follow_the_group(world: World) -> None:
    add_rep(world, "Ada Lind", FORWARD, 2_000_000)
    add_rep(world, "Ben Ode", BACKWARD, 2_500_000)
    assert drills_run_on(world.engine) == [BACKWARD, FORWARD]
    assert drills_run_on(world.engine, group="U16") == [FORWARD]
    assert drills_run_on(world.engine, group="U18") == [BACKWARD]


def test_routes_check_the_group_and_carry_the_ratio(sqlite_db: str) -> None:
    migrate(sqlite_db)
    with serve(sqlite_db) as server:
        engine = server.services.engine
        rec = server.services.recorder
        team = rec.ensure_team("Squad")
        world = World(engine, {"Ada Lind": rec.ensure_athlete(team, "Ada Lind")},
                      {s: rec.drill_id(s) for s in (FORWARD, BACKWARD)})  # fmt: skip
        add_rep(world, "Ada Lind", BACKWARD, 2_500_000)
        add_rep(world, "Ada Lind", FORWARD, 2_000_000)
        with httpx.Client(base_url=server.base_url, timeout=10) as anon:
            for path in (f"/api/leaderboards/{FORWARD}", "/api/leaderboards/today"):
                bad = anon.get(path, params={"group": "g" * 41})
                assert bad.status_code == 422, (path, bad.text)
                body = bad.json()
                assert body["detail"].startswith("group: ")
                assert body["errors"] == [
                    {"field": "group", "detail": "must be at most 40 characters (has 41)"}
                ]
            assert anon.get("/api/leaderboards/today", params={"group": "U16"}).json() == []
            board = anon.get(f"/api/leaderboards/{BACKWARD}").json()
            assert board["ratio"]["label"] == RATIO_LABEL
            assert board["ratio"]["forward"] == FORWARD
            (entry,) = board["entries"]
            assert entry["ratio"] == 1.25 and entry["ratio_day"] == NOW.date().isoformat()
            assert anon.get(f"/api/leaderboards/{FORWARD}").json()["ratio"] is None
