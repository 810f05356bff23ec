"""The day report on a real SQLite file: one testing day of six athletes on three drills and
two stations (plus the main one), read back as JSON, CSV, XLSX and PDF through the coach API.

Left out on purpose: a voided rep, a practice rep, a rep the day before, an athlete whose only
rep was voided. Kept in because of the time zone: a rep at 23:30 UTC the evening before, which
is 00:30 on the day in Oslo.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, Table, insert, select

from server.auth.controllers import AuthController
from server.auth.middleware import SecurityMiddleware
from server.auth.service import AuthService
from server.catalog.service import Catalog
from server.csv_cells import FORMULA_START
from server.db.models import Athlete, Drill, Run, Split, Team
from server.db.session import make_engine, migrate
from server.errors import EXCEPTION_HANDLERS, InvalidInputError
from server.reports.controllers import ReportsController
from server.reports.day import ClubDay, club_day
from server.reports.day_files import ABOUT_SHEET, DAY_SHEET
from tests.auth_support import login_client

CATALOG = Catalog.load()
OSLO = "Europe/Oslo"
DAY = "2026-12-04"
MORNING = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 10:00 in Oslo
EVENING_BEFORE = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # 00:30 on the day in Oslo
DAY_BEFORE = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
MALLORY = '=HYPERLINK("http://evil.example","x")'
TEAM: Table = Team.__table__  # type: ignore[attr-defined]
ATHLETE: Table = Athlete.__table__  # type: ignore[attr-defined]
DRILL: Table = Drill.__table__  # type: ignore[attr-defined]
RUN: Table = Run.__table__  # type: ignore[attr-defined]
SPLIT: Table = Split.__table__  # type: ignore[attr-defined]

HAWKS = {
    "Ada Lind": "F", "Bo Berg": "M", "Cy Dahl": "M", MALLORY: "M", "Eli Ek": "M",
    "Fay Fors": "F", "Gus Gone": "M",
}  # fmt: skip
ROWS = ["Ada Lind", "Bo Berg", "Cy Dahl", "Eli Ek", "Fay Fors", MALLORY]  # Gus: nothing valid


@dataclass(frozen=True)
class Rep:
    athlete: str
    drill: str
    total_us: int
    station: str | None
    when: datetime = MORNING
    voided: bool = False
    familiarisation: bool = False
    manual: bool = False
    cross_device_error_us: int | None = None
    coarse: bool = False


SPRINTS, AGILITY = "sprints", "agility"
REPS = [
    # sprint-10m: Eli 1.800, Bo and Cy tie at 1.850, Ada 1.880, Mallory 1.950, Fay 2.000.
    Rep("Ada Lind", "sprint-10m", 1_900_000, None),
    Rep("Ada Lind", "sprint-10m", 1_880_000, SPRINTS),
    Rep("Bo Berg", "sprint-10m", 1_870_000, SPRINTS),
    Rep("Bo Berg", "sprint-10m", 1_850_000, SPRINTS),
    Rep("Bo Berg", "sprint-10m", 1_300_000, SPRINTS, when=DAY_BEFORE),  # another day
    Rep("Cy Dahl", "sprint-10m", 1_850_000, SPRINTS),
    Rep(MALLORY, "sprint-10m", 1_950_000, SPRINTS),
    Rep("Eli Ek", "sprint-10m", 1_800_000, SPRINTS),
    Rep("Eli Ek", "sprint-10m", 1_500_000, SPRINTS, voided=True),
    Rep("Eli Ek", "sprint-10m", 1_400_000, SPRINTS, familiarisation=True),
    Rep("Fay Fors", "sprint-10m", 2_000_000, SPRINTS),
    Rep("Gus Gone", "sprint-10m", 1_700_000, SPRINTS, voided=True),
    # backward-sprint-10m: Eli, Bo, Cy, Ada, Mallory (a hand time); Fay did not run it.
    Rep("Ada Lind", "backward-sprint-10m", 2_500_000, SPRINTS),
    Rep("Bo Berg", "backward-sprint-10m", 2_400_000, SPRINTS),
    Rep("Cy Dahl", "backward-sprint-10m", 2_450_000, SPRINTS),
    Rep(MALLORY, "backward-sprint-10m", 2_600_000, SPRINTS, manual=True),
    Rep("Eli Ek", "backward-sprint-10m", 2_350_000, SPRINTS),
    # t-test on the other station: Cy 9.44 (cross-device), Bo 9.94, Eli, Mallory (coarse),
    # Ada, and Fay's rep just after midnight in Oslo.
    Rep("Ada Lind", "t-test", 10_400_000, AGILITY),
    Rep("Bo Berg", "t-test", 9_940_000, AGILITY),
    Rep("Cy Dahl", "t-test", 9_440_000, AGILITY, cross_device_error_us=3_200),
    Rep(MALLORY, "t-test", 10_200_000, AGILITY, coarse=True),
    Rep("Eli Ek", "t-test", 10_000_000, AGILITY),
    Rep("Fay Fors", "t-test", 11_000_000, AGILITY, when=EVENING_BEFORE),
]
OWLS_REP = Rep("Ola Owl", "sprint-10m", 1_700_000, SPRINTS)


@dataclass
class Day:
    engine: Engine
    ids: dict[str, int] = field(default_factory=dict)


def _seed(db: str) -> Day:
    migrate(db)
    engine = make_engine(db)
    CATALOG.sync(engine)
    seeded = Day(engine)
    with engine.begin() as conn:
        drills = {r[0]: r[1] for r in conn.execute(select(DRILL.c.slug, DRILL.c.id))}
        teams = {
            name: conn.execute(
                insert(TEAM).values(name=name, created_wall=DAY_BEFORE).returning(TEAM.c.id)
            ).scalar_one()
            for name in ("Hawks", "Owls")
        }
        people = [*((n, "Hawks", sex) for n, sex in HAWKS.items()), ("Ola Owl", "Owls", "M")]
        for name, team, sex in people:
            seeded.ids[name] = conn.execute(
                insert(ATHLETE)
                .values(team_id=teams[team], name=name, sex=sex, created_wall=DAY_BEFORE)
                .returning(ATHLETE.c.id)
            ).scalar_one()
        for i, rep in enumerate([*REPS, OWLS_REP]):
            when = rep.when + timedelta(minutes=i)
            run_id = conn.execute(
                insert(RUN).values(
                    drill_id=drills[rep.drill], athlete_id=seeded.ids[rep.athlete], rep=i + 1,
                    state="finished", total_us=rep.total_us, started_wall=when,
                    finished_wall=when, voided=rep.voided, manual=rep.manual,
                    familiarisation=rep.familiarisation, station=rep.station,
                ).returning(RUN.c.id)
            ).scalar_one()  # fmt: skip
            conn.execute(
                insert(SPLIT).values(
                    run_id=run_id, position=1, name=CATALOG.drills[rep.drill].segments[0].name,
                    from_role="start", to_role="finish", distance_m=10.0,
                    elapsed_us=rep.total_us, created_wall=when,
                    cross_device_error_us=rep.cross_device_error_us, coarse=rep.coarse,
                )
            )  # fmt: skip
    return seeded


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    day = _seed(str(tmp_path_factory.mktemp("day") / "agility.db"))
    yield day
    day.engine.dispose()


def _app(seeded: Day) -> Litestar:
    return Litestar(
        route_handlers=[AuthController, ReportsController],
        dependencies={
            "db_engine": Provide(lambda: seeded.engine, sync_to_thread=False),
            "catalog": Provide(lambda: CATALOG, sync_to_thread=False),
        },
        middleware=[SecurityMiddleware(AuthService(seeded.engine))],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def client(seeded: Day) -> Iterator[TestClient[Litestar]]:
    with TestClient(_app(seeded)) as test_client:
        login_client(test_client, seeded.engine)
        yield test_client


def _day(client: TestClient[Litestar], **params: str) -> dict[str, Any]:
    res = client.get("/api/reports/day", params={"date": DAY, "tz": OSLO, **params})
    assert res.status_code == 200, res.text
    body: dict[str, Any] = res.json()
    return body


def _rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in body["athletes"]}


def test_a_row_per_athlete_with_ranks_flags_and_stations(client: TestClient[Litestar]) -> None:
    body = _day(client, team="Hawks", norm="t-test=college-men")
    assert (body["date"], body["time_zone"], body["time_zone_from_server"]) == (DAY, OSLO, False)
    assert body["team"] == "Hawks" and body["message"] is None
    # 22 reps that day (Bo's of the day before is not one); Eli's voided and practice reps
    # and Gus's voided one do not count.
    assert (body["reps"], body["valid_reps"]) == (22, 19)
    assert body["stations"] == ["agility", "main", "sprints"]
    assert {d["slug"]: d["athletes"] for d in body["drills"]} == {
        "backward-sprint-10m": 5, "sprint-10m": 6, "t-test": 6,
    }  # fmt: skip
    rows = _rows(body)
    assert [a["name"] for a in body["athletes"]] == sorted(ROWS, key=str.casefold)
    sprint = {name: (r["results"]["sprint-10m"]["best_s"], r["results"]["sprint-10m"]["rank"])
              for name, r in rows.items()}  # fmt: skip
    assert sprint == {
        "Eli Ek": (1.8, 1), "Bo Berg": (1.85, 2), "Cy Dahl": (1.85, 2), "Ada Lind": (1.88, 4),
        MALLORY: (1.95, 5), "Fay Fors": (2.0, 6),
    }  # fmt: skip
    eli = rows["Eli Ek"]["results"]["sprint-10m"]
    assert (eli["valid_reps"], eli["reps"]) == (1, 3), "voided and practice reps counted apart"
    ada = rows["Ada Lind"]
    assert ada["stations"] == ["agility", "main", "sprints"]
    assert ada["results"]["sprint-10m"]["station"] == "sprints"
    # Fay's t-test at 00:30 Oslo time is on the day; she did no backward sprint.
    fay = rows["Fay Fors"]
    assert fay["results"]["t-test"]["best_s"] == 11.0 and fay["results"]["t-test"]["rank"] == 6
    assert "backward-sprint-10m" not in fay["results"] and fay["fb_ratios"] == []


def test_marks_norms_and_forward_backward(client: TestClient[Litestar]) -> None:
    rows = _rows(_day(client, team="Hawks", norm="t-test=college-men"))
    cy = rows["Cy Dahl"]["results"]["t-test"]
    assert (cy["rank"], cy["norm"], cy["norm_population"]) == (1, "84th percentile", "college-men")
    assert cy["rating"]["protocol"] == "t-test"
    assert cy["cross_device_error_ms"] == 3.2 and not cy["coarse"] and not cy["hand_time"]
    assert rows["Bo Berg"]["results"]["t-test"]["norm"] == "50th percentile"
    assert rows[MALLORY]["results"]["t-test"]["coarse"] is True
    assert rows[MALLORY]["results"]["backward-sprint-10m"]["hand_time"] is True
    # The college-men table is for men: no rating for Ada and Fay.
    assert rows["Ada Lind"]["results"]["t-test"]["norm"] is None
    assert rows["Ada Lind"]["results"]["t-test"]["rating"] is None
    (fb,) = rows["Eli Ek"]["fb_ratios"]
    assert (fb["forward"], fb["backward"], fb["distance_m"]) == (
        "sprint-10m", "backward-sprint-10m", 10.0,
    )  # fmt: skip
    assert fb["ratio"] == round(2.35 / 1.8, 3)


def test_every_team_ranks_together(client: TestClient[Litestar]) -> None:
    rows = _rows(_day(client))
    assert rows["Ola Owl"]["team"] == "Owls"
    assert rows["Ola Owl"]["results"]["sprint-10m"]["rank"] == 1
    assert rows["Eli Ek"]["results"]["sprint-10m"]["rank"] == 2
    assert rows["Cy Dahl"]["results"]["sprint-10m"]["rank"] == 3


def test_the_zone_decides_the_day(
    client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    utc = _rows(_day(client, team="Hawks", tz="UTC"))
    assert "t-test" not in utc["Fay Fors"]["results"], "23:30 UTC on the 3rd is not the 4th"
    monkeypatch.setenv("TZ", OSLO)
    res = client.get("/api/reports/day", params={"date": DAY, "team": "Hawks"})
    body = res.json()
    assert (body["time_zone"], body["time_zone_from_server"]) == (OSLO, True)
    assert _rows(body)["Fay Fors"]["results"]["t-test"]["best_s"] == 11.0


def test_a_day_is_the_zone_s_midnight_to_midnight() -> None:
    spring = club_day("2026-03-29", OSLO)  # clocks go forward: a 23-hour day
    assert spring.end_wall - spring.start_wall == timedelta(hours=23)
    assert spring.start_wall == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    day = ClubDay(date(2026, 12, 4), ZoneInfo(OSLO), OSLO, zone_from_server=False)
    assert (day.start_wall, day.end_wall) == (
        datetime(2026, 12, 3, 23, 0, tzinfo=UTC), datetime(2026, 12, 4, 23, 0, tzinfo=UTC),
    )  # fmt: skip
    with pytest.raises(InvalidInputError, match=r"^tz must be"):
        club_day(DAY, "Mars/Olympus")
    with pytest.raises(InvalidInputError, match=r"^date is required"):
        club_day(None)


def test_an_empty_day_says_so(client: TestClient[Litestar]) -> None:
    body = _day(client, team="Hawks", date="2026-12-10")
    assert body["athletes"] == [] and body["drills"] == []
    assert body["message"] == "team Hawks on 2026-12-10 (Europe/Oslo): no reps"
    pdf = client.get("/api/reports/day", params={"date": "2026-12-10", "tz": OSLO, "format": "pdf"})
    assert pdf.status_code == 200 and "Nothing to show" in _pdf_text(pdf.content)
    text = client.get(
        "/api/reports/day", params={"date": "2026-12-10", "tz": OSLO, "format": "csv"}
    ).text
    assert len(list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))) == 1, "header only"


def test_bad_requests_name_the_field(client: TestClient[Litestar]) -> None:
    for params, field_name in (
        ({"date": "04/12/2026"}, "date"),
        ({}, "date"),
        ({"date": DAY, "tz": "Nowhere/Land"}, "tz"),
        ({"date": DAY, "format": "docx"}, "format"),
    ):
        res = client.get("/api/reports/day", params=params)
        assert res.status_code == 422, (params, res.text)
        assert res.json()["detail"].startswith(field_name), res.json()
    assert client.get("/api/reports/day", params={"date": DAY, "team": "Tigers"}).status_code == 404


def test_day_report_needs_a_coach(seeded: Day) -> None:
    with TestClient(_app(seeded)) as anonymous:
        assert anonymous.get("/api/reports/day", params={"date": DAY}).status_code == 401
        download = {"date": DAY, "format": "csv"}
        assert anonymous.get("/api/reports/day", params=download).status_code == 401


def _download(client: TestClient[Litestar], fmt: str) -> bytes:
    res = client.get(
        "/api/reports/day",
        params={"date": DAY, "tz": OSLO, "team": "Hawks", "format": fmt,
                "norm": "t-test=college-men"},
    )  # fmt: skip
    assert res.status_code == 200, res.text
    assert res.headers["content-disposition"] == f'attachment; filename="day-{DAY}-hawks.{fmt}"'
    return res.content


def test_csv_reads_back_and_no_cell_is_a_formula(client: TestClient[Litestar]) -> None:
    text = _download(client, "csv").decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
    rows = {r["athlete"]: r for r in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}
    assert set(rows) == {*ROWS[:-1], "'" + MALLORY}, "the formula name is escaped, not lost"
    bo, cy = rows["Bo Berg"], rows["Cy Dahl"]
    assert (bo["sprint-10m best_s"], bo["sprint-10m rank"]) == ("1.850", "2")
    assert (cy["sprint-10m best_s"], cy["sprint-10m rank"]) == ("1.850", "2")
    assert (cy["t-test norm"], cy["t-test norm_population"]) == ("84th percentile", "college-men")
    assert cy["t-test cross_device_ms"] == "3.2" and cy["t-test coarse"] == "0"
    assert rows["'" + MALLORY]["backward-sprint-10m hand_time"] == "1"
    assert rows["Fay Fors"]["backward-sprint-10m best_s"] == ""
    assert rows["Eli Ek"]["fb_ratio 10m"] == "1.306"
    assert (bo["date"], bo["time_zone"], bo["team"]) == (DAY, OSLO, "Hawks")
    assert rows["Ada Lind"]["stations"] == "agility; main; sprints"


def test_xlsx_has_the_day_and_says_which_zone(client: TestClient[Litestar]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(_download(client, "xlsx")))
    assert book.sheetnames == [DAY_SHEET, ABOUT_SHEET]
    sheet = book[DAY_SHEET]
    assert sheet.freeze_panes == "C2"
    header = [c.value for c in sheet[1]]
    rows = {
        row[1]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert set(rows) == set(ROWS), "a string cell, so the name is kept as typed"
    assert rows["Eli Ek"]["sprint-10m best_s"] == 1.8
    assert rows["Cy Dahl"]["sprint-10m rank"] == rows["Bo Berg"]["sprint-10m rank"] == 2
    about = {r[0]: r[1] for r in book[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
    assert about["time zone"] == OSLO and about["date"] == DAY


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_is_one_landscape_table_with_every_athlete(
    client: TestClient[Litestar], tmp_path: Path
) -> None:
    content = _download(client, "pdf")
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    box = reader.pages[0].mediabox
    assert box.width > box.height, "landscape"
    text = _pdf_text(content)
    for name in (*ROWS[:-1], "HYPERLINK"):
        assert name in text, name
    for words in ("Testing day 2026-12-04: Hawks", OSLO, "T-test", "84th", "Norms used"):
        assert words in text, words


def test_team_table_for_one_day(client: TestClient[Litestar]) -> None:
    local = client.get(
        "/api/reports/team", params={"team": "Hawks", "date": DAY, "tz": OSLO}
    ).json()
    assert (local["scope"]["from"], local["scope"]["to"]) == (DAY, DAY)
    assert local["scope"]["time_zone"] == OSLO
    ttest = next(d for d in local["drills"] if d["slug"] == "t-test")
    assert ttest["athletes"] == 6
    bo = next(a for a in local["athletes"] if a["name"] == "Bo Berg")
    assert bo["drills"]["sprint-10m"]["best_s"] == 1.85 and bo["drills"]["sprint-10m"]["rank"] == 2
    # A one-day range of UTC dates works too; Fay's rep at 23:30 UTC the day before is not in it.
    utc = client.get("/api/reports/team", params={"team": "Hawks", "from": DAY, "to": DAY})
    assert utc.status_code == 200, utc.text
    body = utc.json()
    assert body["scope"]["time_zone"] == "UTC" and body["message"] is None
    assert next(d for d in body["drills"] if d["slug"] == "t-test")["athletes"] == 5
    both = client.get("/api/reports/team", params={"date": DAY, "from": DAY})
    assert both.status_code == 422 and both.json()["detail"].startswith("date")
    bad = client.get("/api/reports/team", params={"date": "tomorrow"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("date")
