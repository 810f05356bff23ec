"""Teams, athletes and the roster CSV: the services on both databases, the API over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from server.db.session import make_engine, migrate
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.roster import csv_io
from server.roster.service import (
    create_athlete,
    create_team,
    list_athletes,
    list_teams,
    update_athlete,
    update_team,
)
from tests.auth_support import LiveServer, login_client, serve

HEADER = "team,name,display_name,squad_number,group,sex,birth_year,tag"


@pytest.fixture
def engine(any_db: str) -> Iterator[Engine]:
    migrate(any_db)
    engine = make_engine(any_db)
    yield engine
    engine.dispose()


@pytest.fixture
def server(sqlite_db: str) -> Iterator[LiveServer]:
    migrate(sqlite_db)
    with serve(sqlite_db) as live:
        yield live


@pytest.fixture
def coach(server: LiveServer) -> Iterator[httpx.Client]:
    client = login_client(server.base_url, server.services.engine)
    yield client
    client.close()


def _problems(info: pytest.ExceptionInfo[InvalidInputError]) -> list[str]:
    return list(info.value.errors)


# --- services, on SQLite and PostgreSQL ---


def test_teams_are_made_renamed_and_archived(engine: Engine) -> None:
    lions = create_team(engine, {"name": "  Lions   U16 "})
    assert (lions.name, lions.archived, lions.athletes) == ("Lions U16", False, 0)
    with pytest.raises(ConflictError):
        create_team(engine, {"name": "Lions U16"})
    with pytest.raises(InvalidInputError) as info:
        create_team(engine, {"name": "", "colour": "red"})
    assert _problems(info) == ["colour: unknown field"]
    with pytest.raises(InvalidInputError, match="name: is required"):
        create_team(engine, {"name": " "})
    create_team(engine, {"name": "Bears"})
    renamed = update_team(engine, lions.id, {"name": "Lions U17", "archived": True})
    assert (renamed.name, renamed.archived) == ("Lions U17", True)
    with pytest.raises(ConflictError):
        update_team(engine, lions.id, {"name": "Bears"})
    with pytest.raises(NotFoundError):
        update_team(engine, 999, {"archived": False})
    assert [t.name for t in list_teams(engine)] == ["Bears", "Lions U17"]


def test_athletes_are_checked_updated_and_archived(engine: Engine) -> None:
    team = create_team(engine, {"name": "Lions"})
    ada = create_athlete(engine, {"team_id": team.id, "name": "Ada Lind", "display_name": "Ada",
                                  "squad_number": 7, "group": "Backs", "sex": "f",
                                  "birth_year": 2009})  # fmt: skip
    assert (ada.team, ada.sex, ada.group, ada.squad_number) == ("Lions", "F", "Backs", 7)
    with pytest.raises(ConflictError, match="already on team"):
        create_athlete(engine, {"team_id": team.id, "name": "Ada Lind"})
    with pytest.raises(InvalidInputError) as info:
        create_athlete(engine, {"team_id": team.id, "name": "x" * 121, "display_name": "d" * 61,
                                "squad_number": 1000, "group": "g" * 41, "sex": "X",
                                "birth_year": date.today().year + 1, "shoe": 44})  # fmt: skip
    fields = [p.split(":")[0] for p in _problems(info)]
    assert sorted(fields) == sorted(["shoe", "name", "display_name", "squad_number", "group",
                                     "sex", "birth_year"])  # fmt: skip
    with pytest.raises(InvalidInputError, match="team_id: give team_id or team"):
        create_athlete(engine, {"name": "Bo"})
    bo = create_athlete(engine, {"team": "Bears", "name": "Bo Berg", "squad_number": "12"})
    assert (bo.team, bo.squad_number) == ("Bears", 12), "a team given by name is made"

    moved = update_athlete(engine, bo.id, {"team_id": team.id, "sex": "", "group": "Forwards"})
    assert (moved.team, moved.sex, moved.group) == ("Lions", None, "Forwards")
    with pytest.raises(ConflictError):
        update_athlete(engine, bo.id, {"name": "Ada Lind"})
    update_athlete(engine, ada.id, {"archived": True})
    assert [a.name for a in list_athletes(engine)] == ["Bo Berg"]
    everyone = list_athletes(engine, team.id, include_archived=True)
    assert [(a.name, a.archived) for a in everyone] == [("Ada Lind", True), ("Bo Berg", False)]
    assert [t.athletes for t in list_teams(engine) if t.name == "Lions"] == [1]
    with pytest.raises(NotFoundError):
        update_athlete(engine, 999, {"name": "Nobody"})


def test_import_check_reports_the_bad_row_and_stores_nothing(engine: Engine) -> None:
    text = f"{HEADER}\nLions,Ada Lind,Ada,7,Backs,F,2009\nLions,Bo Berg,,seven,,m,1800\n"
    report = csv_io.import_roster(engine, text.encode(), None, "check")
    assert (report.imported, report.valid_rows, report.refused) == (0, 1, True)
    assert [(e.line, e.field) for e in report.errors] == [(3, "squad_number"), (3, "birth_year")]
    assert "'seven'" in report.errors[0].message
    assert list_athletes(engine) == []
    assert csv_io.import_roster(engine, text.encode(), None, "all").imported == 0
    assert list_athletes(engine) == []
    partial = csv_io.import_roster(engine, text.encode(), None, "valid_only")
    assert (partial.imported, partial.refused, len(partial.errors)) == (1, False, 2)
    assert [a.name for a in list_athletes(engine)] == ["Ada Lind"]


def test_import_updates_existing_athletes_and_keeps_missing_columns(engine: Engine) -> None:
    team = create_team(engine, {"name": "Lions"})
    ada = create_athlete(engine, {"team_id": team.id, "name": "Ada Lind", "squad_number": 7,
                                  "group": "Backs", "archived": True})  # fmt: skip
    text = "name,group\nAda Lind,Forwards\nBo Berg,\n"
    report = csv_io.import_roster(engine, ("\ufeff" + text).encode(), "Lions", "all")
    assert (report.imported, report.errors) == (2, [])
    rows = {a.name: a for a in list_athletes(engine)}
    assert rows["Ada Lind"].id == ada.id, "updated, not duplicated"
    assert (rows["Ada Lind"].group, rows["Ada Lind"].squad_number) == ("Forwards", 7)
    assert not rows["Ada Lind"].archived, "named in the file: back on the roster"
    assert rows["Bo Berg"].team == "Lions"


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (b"", "file", "empty"),
        ("team,name\nLions,Åsa\n".encode("latin-1"), "file", "not UTF-8"),
        (b"team,nom,group\nLions,Ada,\n", "header", "unknown column(s) 'nom'"),
        (b"team,group\nLions,Backs\n", "header", "no 'name' column"),
        (b"team,name,name\nLions,Ada,Ada\n", "header", "more than once"),
        (f"{HEADER}\n".encode(), "file", "no athletes"),
    ],
)
def test_unreadable_files_are_refused_whole(data: bytes, where: str, message: str) -> None:
    rows, errors, _ = csv_io.parse_roster_csv(data, "Lions")
    assert rows == [] and len(errors) == 1
    assert errors[0].field == where and message in errors[0].message


def test_row_problems_name_the_spreadsheet_line() -> None:
    text = (
        f"{HEADER}\n"
        ',Ada Lind,,,,,\n'  # no team anywhere
        '\n'  # a blank row still counts as a row of the sheet
        'Lions,"Bo\nBerg",,,,,\n'  # a quoted cell over two lines is still one row
        'Lions,Cy,,,,,,,extra\n'
        'Lions,Dee,,,,,\n'
        'Lions,Dee,,,,,\n'
    )  # fmt: skip
    rows, errors, _ = csv_io.parse_roster_csv(text.encode(), None)
    assert [(e.line, e.field) for e in errors] == [(2, "team"), (5, ""), (7, "name")]
    assert "same athlete as line 6" in errors[-1].message
    assert [(r.line, r.values["name"]) for r in rows] == [(4, "Bo Berg"), (6, "Dee")]


def test_import_mode_must_be_known(engine: Engine) -> None:
    report = csv_io.import_roster(engine, b"name\nAda\n", "Lions", "everything")
    assert report.refused and report.errors[0].field == "mode"


# --- the API over HTTP ---


def test_roster_api_round_trip(coach: httpx.Client) -> None:
    team = coach.post("/api/teams", json={"name": "Lions"})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    ada = coach.post("/api/athletes", json={"team_id": team_id, "name": "Ada Lind",
                                           "sex": "F", "birth_year": 2009})  # fmt: skip
    assert ada.status_code == 201, ada.text
    body = ada.json()
    assert set(body) == {"id", "team_id", "team", "name", "display_name", "squad_number",
                         "group", "sex", "birth_year", "archived", "tag"}  # fmt: skip
    bad = coach.post("/api/athletes", json={"team_id": team_id, "name": "", "sex": "Q"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "name", "detail": "is required"},
        {"field": "sex", "detail": "must be F, M or empty, not 'Q'"},
    ]
    assert (
        coach.post("/api/athletes", json={"team_id": team_id, "name": "Ada Lind"}).status_code
        == 409
    )
    same_back = coach.patch(f"/api/athletes/{body['id']}", json={**body, "group": "Backs"})
    assert same_back.status_code == 200 and same_back.json()["group"] == "Backs"
    archived = coach.patch(f"/api/athletes/{body['id']}", json={"archived": True})
    assert archived.json()["archived"] is True
    assert coach.get("/api/athletes").json() == []
    listed = coach.get("/api/athletes", params={"team_id": team_id, "include_archived": "true"})
    assert [a["name"] for a in listed.json()] == ["Ada Lind"]
    renamed = coach.patch(f"/api/teams/{team_id}", json={"name": "Lions U16"})
    assert renamed.json()["name"] == "Lions U16"
    assert coach.get("/api/teams").json() == [
        {"id": team_id, "name": "Lions U16", "archived": False, "athletes": 0}
    ]
    assert coach.patch("/api/teams/999", json={"archived": True}).status_code == 404


def _counts(res: httpx.Response) -> dict[str, Any]:
    """The report's counts and problems (the file's cells are checked where they matter)."""
    return {k: v for k, v in res.json().items() if k in ("imported", "valid_rows", "errors")}


def _upload(client: httpx.Client, data: bytes, **form: str) -> httpx.Response:
    return client.post("/api/roster/import", files={"file": ("roster.csv", data, "text/csv")},
                       data=form)  # fmt: skip


def test_csv_template_import_modes_and_export(coach: httpx.Client) -> None:
    template = coach.get("/api/roster/template.csv")
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    assert "attachment" in template.headers["content-disposition"]
    assert template.content.startswith("\ufeff".encode()), "Excel reads it as UTF-8"
    lines = template.text.lstrip("\ufeff").splitlines()
    assert lines[0] == HEADER and len(lines) == 3
    checked = _upload(coach, template.content)
    assert checked.status_code == 200
    assert checked.json() == {"imported": 0, "valid_rows": 2, "errors": [],
                              "header": HEADER.split(","),
                              "rows": [["Example Squad", "Ada Lind", "Ada", "7", "Backs", "F",
                                        "2009", "04A1B2C3"],
                                       ["Example Squad", "Bo Berg", "", "12", "Forwards", "M",
                                        "2010", ""]]}  # fmt: skip
    assert coach.get("/api/athletes").json() == [], "check mode stores nothing"
    stored = _upload(coach, template.content, mode="all")
    assert _counts(stored) == {"imported": 2, "valid_rows": 2, "errors": []}

    bad = f"{HEADER}\n,Cy Dahl,,,,,\n,=cmd|calc,,,,,\n,Di Eng,,1000,,,\n".encode()
    refused = _upload(coach, bad, team="Bears", mode="all")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert _counts(refused) == {"imported": 0, "valid_rows": 2, "errors": [
        {"line": 4, "field": "squad_number", "detail": "must be a whole number 0-999, not 1000"},
    ]}  # fmt: skip
    # The file as the server read it, for the page to show beside each problem: the bad row
    # on its line (4 = its index + 2), a quoted formula as typed.
    assert refused.json()["rows"][4 - 2] == ["", "Di Eng", "", "1000", "", "", ""]
    assert refused.json()["rows"][1][1] == "=cmd|calc"
    partial = _upload(coach, bad, team="Bears", mode="valid_only")
    assert partial.status_code == 200
    assert (partial.json()["imported"], len(partial.json()["errors"])) == (2, 1)
    unreadable = _upload(coach, "name\nÅsa\n".encode("utf-16"), mode="valid_only")
    assert unreadable.status_code == 422 and unreadable.json()["errors"][0]["line"] == 1
    assert (unreadable.json()["header"], unreadable.json()["rows"]) == ([], [])

    exported = coach.get("/api/roster/export.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["team"], r["name"]) for r in rows] == [
        ("Bears", "'=cmd|calc"), ("Bears", "Cy Dahl"), ("Example Squad", "Ada Lind"),
        ("Example Squad", "Bo Berg"),
    ], "a cell a spreadsheet would run as a formula is quoted"  # fmt: skip
    by_name: dict[str, dict[str, Any]] = {a["name"]: a for a in coach.get("/api/athletes").json()}
    assert "=cmd|calc" in by_name
    ada = rows[2]
    assert ada == {"team": "Example Squad", "name": "Ada Lind", "display_name": "Ada",
                   "squad_number": "7", "group": "Backs", "sex": "F",
                   "birth_year": "2009", "tag": "04A1B2C3"}  # fmt: skip
    again = _upload(coach, exported.content, mode="all")
    assert _counts(again) == {"imported": 4, "valid_rows": 4, "errors": []}
    assert len(coach.get("/api/athletes").json()) == 4, "the export reads back as the same squad"
    bears = [t["id"] for t in coach.get("/api/teams").json() if t["name"] == "Bears"]
    only = coach.get("/api/roster/export.csv", params={"team_id": bears[0]})
    assert only.text.count("Bears") == 2 and "Example Squad" not in only.text
