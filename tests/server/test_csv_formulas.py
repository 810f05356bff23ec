"""No CSV the product writes has a cell a spreadsheet would run as a formula (issue 16, item 2).

A team whose athletes, group and team name start with =, +, -, @, a tab or a carriage return
runs two test days; then every CSV route and `agility export` CSV is read back cell by cell.
A text cell starting with a formula character must carry a leading '; a number written by
the program (a negative change, a false start's reaction time) must stay a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import TestClient
from sqlalchemy import insert, select

from server.auth.controllers import AuthController
from server.auth.middleware import SecurityMiddleware
from server.auth.service import AuthService
from server.catalog.service import Catalog
from server.cli import main
from server.csv_cells import FORMULA_START
from server.errors import EXCEPTION_HANDLERS
from server.reports.controllers import ReportsController
from server.roster.controllers import RosterCsvController
from tests.auth_support import login_client
from tests.server.reports_support import (
    ATHLETE,
    DAY1,
    DAY2,
    DRILL,
    TEAM,
    Seeded,
    _add_run,
    seed_reports_db,
)

CATALOG = Catalog.load()
EVIL_TEAM = "=cmd|' /C calc'!A0"
EVIL_GROUP = "@group"
EVIL_NAMES = ['=HYPERLINK("http://evil.example","x")', "+1", "-2", "@SUM(1)", "\tx", "\rx"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_reports_db(str(tmp_path_factory.mktemp("formulas") / "agility.db"))
    names = [s.name for s in CATALOG.drills["sprint-10m"].segments]
    with seeded.engine.begin() as conn:
        team_id = conn.execute(
            insert(TEAM).values(name=EVIL_TEAM, created_wall=DAY1).returning(TEAM.c.id)
        ).scalar_one()
        drill_id = conn.execute(select(DRILL.c.id).where(DRILL.c.slug == "sprint-10m")).scalar_one()
        for k, name in enumerate(EVIL_NAMES):
            seeded.athlete_ids[name] = int(
                conn.execute(
                    insert(ATHLETE)
                    .values(team_id=team_id, name=name, group_name=EVIL_GROUP, created_wall=DAY1)
                    .returning(ATHLETE.c.id)
                ).scalar_one()
            )
            for day_no, day in enumerate((DAY1, DAY2)):
                for rep in (1, 2):
                    us = 1_900_000 + k * 20_000 + rep * 5_000 - day_no * 40_000
                    when = day.replace(hour=12, minute=k * 2 + rep)
                    _add_run(conn, seeded, name, drill_id, "sprint-10m", rep, when, [us], names)
    yield seeded
    seeded.engine.dispose()


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        route_handlers=[AuthController, ReportsController, RosterCsvController],
        dependencies={
            "db_engine": Provide(lambda: seeded.engine, sync_to_thread=False),
            "catalog": Provide(lambda: CATALOG, sync_to_thread=False),
        },
        middleware=[SecurityMiddleware(AuthService(seeded.engine))],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )
    with TestClient(app) as test_client:
        login_client(test_client, seeded.engine)
        yield test_client


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _check(text: str, where: str) -> list[list[str]]:
    """Every cell of a CSV: none a formula, except numbers the program wrote."""
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert len(table) > 1, f"{where}: no rows"
    for row in table:
        for cell in row:
            if cell.startswith(FORMULA_START):
                assert _is_number(cell), f"{where}: cell {cell!r} would run as a formula"
    cells = {c for row in table for c in row}
    for name in EVIL_NAMES:
        assert "'" + name in cells, f"{where}: {name!r} is escaped, not lost"
    assert "Åsa Berg" in cells, "a real name reads as typed"
    return table


def _column(table: list[list[str]], name: str) -> list[str]:
    at = table[0].index(name)
    return [row[at] for row in table[1:] if row[at]]


def _cli_export(seeded: Seeded, tmp_path: Path, fmt: str) -> str:
    out = tmp_path / f"{fmt}.csv"
    status = main(["export", "--db", seeded.db, "--format", fmt, "--out", str(out), "--quiet"])
    assert status == 0
    return out.read_bytes().decode("utf-8")  # not read_text: it would turn a \r into \n


def test_reps_csv_from_the_cli_and_the_api(
    seeded: Seeded, client: TestClient[Litestar], tmp_path: Path
) -> None:
    res = client.get("/api/reports/export", params={"format": "csv"})
    assert res.status_code == 200, res.text
    for where, text in (("cli csv", _cli_export(seeded, tmp_path, "csv")), ("api csv", res.text)):
        table = _check(text, where)
        assert "'" + EVIL_TEAM in _column(table, "team")
        assert "'" + EVIL_GROUP in _column(table, "group")
        # A false start's reaction time is negative, and stays a number.
        assert "-0.040" in _column(table, "reaction_s")


def test_summary_csv_from_the_cli_and_the_api(
    seeded: Seeded, client: TestClient[Litestar], tmp_path: Path
) -> None:
    res = client.get("/api/reports/export", params={"format": "csv-summary"})
    assert res.status_code == 200, res.text
    cli = _cli_export(seeded, tmp_path, "csv-summary")
    for where, text in (("cli csv-summary", cli), ("api csv-summary", res.text)):
        table = _check(text, where)
        # Everyone got faster on day 2: negative changes, written as numbers.
        changes = _column(table, "change_pct")
        assert changes and all(c.startswith("-") and _is_number(c) for c in changes), changes


def test_day_report_csv(client: TestClient[Litestar]) -> None:
    res = client.get(
        "/api/reports/day", params={"date": "2026-03-16", "tz": "UTC", "format": "csv"}
    )
    assert res.status_code == 200, res.text
    table = _check(res.text, "day csv")
    assert "'" + EVIL_TEAM in _column(table, "team")


def test_roster_csv(client: TestClient[Litestar]) -> None:
    res = client.get("/api/roster/export.csv")
    assert res.status_code == 200, res.text
    _check(res.text, "roster csv")
