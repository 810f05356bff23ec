"""Athlete tags for check-in by RFID, barcode or QR: the rule, the migration on both databases,
the services, the roster CSV, and the routes over real HTTP on loopback."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from server.db.session import alembic_config, make_engine, migrate
from server.errors import InvalidInputError, NotFoundError
from server.roster import csv_io
from server.roster.fields import MAX_TAG, normalise_tag
from server.roster.service import (
    TagTakenError,
    UnknownTagError,
    create_athlete,
    create_team,
    find_by_tag,
    list_athletes,
    set_tag,
    update_athlete,
)
from tests.auth_support import LiveServer, login_client, serve

HEADER = "team,name,display_name,squad_number,group,sex,birth_year,tag"
NOT_FOUND = "no athlete has tag 04A1B2C3; attach it to an athlete"


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


def _tags(engine: Engine) -> dict[str, str | None]:
    return {a.name: a.tag for a in list_athletes(engine, include_archived=True)}


# --- the rule ---


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("04a1b2c3", "04A1B2C3"),
        ("  04A1b2C3\r\n", "04A1B2C3"),  # a keyboard wedge types Enter after the id
        ("\t0004567890\n", "0004567890"),
        ("ath-7 qr:x", "ATH-7 QR:X"),  # inner spaces and punctuation are printable ASCII
        ("~" * MAX_TAG, "~" * MAX_TAG),
        ("", None),
        (" \r\n", None),
        (None, None),
    ],
)
def test_tags_are_trimmed_and_upper_cased(typed: str | None, stored: str | None) -> None:
    assert normalise_tag(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("A" * (MAX_TAG + 1), "must be at most 64 characters (has 65)"),
        ("A" * 100_000, "must be at most 64 characters (has 100000)"),
        ("04A1\x00B2", "character 5 is U+0000"),
        ("\x1b[31mRED", "character 1 is U+001B"),
        ("04A1\tB2", "character 5 is U+0009"),
        ("04A1\x7f", "character 5 is U+007F"),
        ("\x1f04A1", "character 1 is U+001F"),  # a control code is not padding
        ("04Ä1", "character 3 is U+00C4"),
        ("04\u200bA1", "character 3 is U+200B"),
        (12345678, "must be text"),
    ],
)
def test_hostile_tags_are_refused_without_echoing_them(typed: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        normalise_tag(typed)
    assert message in str(info.value)
    assert "\x00" not in str(info.value) and "\x1b" not in str(info.value)


# --- the migration, on SQLite and PostgreSQL ---


def test_migration_adds_a_unique_tag_that_many_may_lack(any_db: str) -> None:
    migrate(any_db)
    engine = make_engine(any_db)
    try:
        columns = {c["name"]: c for c in inspect(engine).get_columns("athlete")}
        assert columns["tag"]["nullable"]
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("athlete")}
        assert indexes["ix_athlete_tag"]["column_names"] == ["tag"]
        assert indexes["ix_athlete_tag"]["unique"]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO team (name, created_wall, archived) "
                              "VALUES ('Lions', CURRENT_TIMESTAMP, false)"))  # fmt: skip
            insert = text("INSERT INTO athlete (team_id, name, created_wall, archived, tag) "
                          "SELECT id, :name, CURRENT_TIMESTAMP, false, :tag FROM team")  # fmt: skip
            for name in ("Ada", "Bo", "Cy"):
                conn.execute(insert, {"name": name, "tag": None})  # many athletes, no tag
            conn.execute(insert, {"name": "Di", "tag": "04A1B2C3"})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"name": "Ed", "tag": "04A1B2C3"})
    finally:
        engine.dispose()


def test_migration_downgrades_and_upgrades_again(sqlite_db: str) -> None:
    migrate(sqlite_db)
    command.downgrade(alembic_config(sqlite_db), "0006")
    engine = make_engine(sqlite_db)
    try:
        assert "tag" not in {c["name"] for c in inspect(engine).get_columns("athlete")}
        migrate(sqlite_db)
        assert "tag" in {c["name"] for c in inspect(engine).get_columns("athlete")}
    finally:
        engine.dispose()


# --- the services, on SQLite and PostgreSQL ---


def test_lookup_attach_refuse_and_move(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    lions = create_team(engine, {"name": "Lions"})
    ada = create_athlete(engine, {"team_id": lions.id, "name": "Ada Lind", "tag": " 04a1b2c3\n"})
    bo = create_athlete(engine, {"team": "Bears", "name": "Bo Berg", "display_name": "Bo"})
    assert ada.tag == "04A1B2C3"
    assert find_by_tag(engine, "04A1B2c3 ").id == ada.id, "any case, any padding finds it"
    with pytest.raises(UnknownTagError) as unknown:
        find_by_tag(engine, "deadbeef")
    assert (unknown.value.tag, str(unknown.value)) == (
        "DEADBEEF", "no athlete has tag DEADBEEF; attach it to an athlete"
    )  # fmt: skip
    assert isinstance(unknown.value, NotFoundError)
    with pytest.raises(InvalidInputError) as bad:
        find_by_tag(engine, "\x00")
    assert bad.value.errors == ["tag: must be printable ASCII (letters, digits, punctuation, "
                                "space); character 1 is U+0000"]  # fmt: skip

    # The same tag on a second athlete: refused naming both, however it is sent.
    with pytest.raises(TagTakenError) as taken:
        set_tag(engine, bo.id, "04a1b2c3")
    assert "04A1B2C3 is already on Ada Lind (Lions)" in str(taken.value)
    assert "Bo Berg (Bears)" in str(taken.value) and taken.value.holder.id == ada.id
    with pytest.raises(TagTakenError, match="Ada Lind"):
        update_athlete(engine, bo.id, {"tag": "04A1B2C3"})
    with pytest.raises(TagTakenError, match=r"Ada Lind.*Cy Dahl \(Lions\)"):
        create_athlete(engine, {"team_id": lions.id, "name": "Cy Dahl", "tag": "04A1B2C3"})
    assert "Cy Dahl" not in _tags(engine), "a refused athlete is not half made"
    assert _tags(engine) == {"Ada Lind": "04A1B2C3", "Bo Berg": None}

    with caplog.at_level(logging.INFO, logger="server.roster.service"):
        moved = set_tag(engine, bo.id, "04a1b2c3", move=True)
    assert moved.tag == "04A1B2C3"
    assert _tags(engine) == {"Ada Lind": None, "Bo Berg": "04A1B2C3"}
    assert "moved from athlete" in caplog.text and "Ada Lind (Lions)" in caplog.text

    assert set_tag(engine, bo.id, "04A1B2C3", move=True).tag == "04A1B2C3", "its own: no-op"
    assert update_athlete(engine, bo.id, {"tag": "04a1b2c3", "group": "Backs"}).tag == "04A1B2C3"
    archived = update_athlete(engine, bo.id, {"archived": True})
    assert find_by_tag(engine, "04A1B2C3").archived, "a station still finds an archived athlete"
    with pytest.raises(TagTakenError, match=r"Bo Berg \(Bears, archived\)"):
        set_tag(engine, ada.id, "04A1B2C3")
    assert set_tag(engine, archived.id, None).tag is None
    with pytest.raises(InvalidInputError, match="send null"):
        set_tag(engine, ada.id, "  ")
    with pytest.raises(NotFoundError):
        set_tag(engine, 999, "04A1B2C3")
    assert update_athlete(engine, ada.id, {"tag": "E2801160"}).tag == "E2801160"
    assert update_athlete(engine, ada.id, {"tag": ""}).tag is None, "empty clears, as elsewhere"


# --- the roster CSV ---


def test_import_reports_bad_tags_per_row_and_keeps_the_valid_rows(engine: Engine) -> None:
    lions = create_team(engine, {"name": "Lions"})
    create_athlete(engine, {"team_id": lions.id, "name": "Old Hand", "tag": "0A0A0A0A"})
    create_athlete(engine, {"team_id": lions.id, "name": "Swap One", "tag": "11111111"})
    create_athlete(engine, {"team_id": lions.id, "name": "Swap Two", "tag": "22222222"})
    text_ = (
        f"{HEADER}\n"
        "Lions,Ada Lind,,,,,,04a1b2c3\n"
        f"Lions,Bo Berg,,,,,,{'B' * 65}\n"  # too long
        "Lions,Cy Dahl,,,,,,0a0a0a0a\n"  # on Old Hand, who is not in the file
        "Lions,Di Eng,,,,,,04A1B2C3\n"  # the same tag as line 2
        "Lions,Swap One,,,,,,22222222\n"  # two athletes swap their tags: fine
        "Lions,Swap Two,,,,,,11111111\n"
        "Lions,Ed Falk,,,,,,\n"  # no tag
    )
    checked = csv_io.import_roster(engine, text_.encode(), None, "check")
    assert [(e.line, e.field) for e in checked.errors] == [(3, "tag"), (4, "tag"), (5, "tag")]
    messages = [e.message for e in checked.errors]
    assert messages[0] == "must be at most 64 characters (has 65)"
    assert "tag 0A0A0A0A is already on Old Hand (Lions), not Cy Dahl" in messages[1]
    assert messages[2] == "same tag as line 2"
    assert checked.valid_rows == 4 and checked.imported == 0
    assert csv_io.import_roster(engine, text_.encode(), None, "all").imported == 0

    report = csv_io.import_roster(engine, text_.encode(), None, "valid_only")
    assert (report.imported, len(report.errors), report.refused) == (4, 3, False)
    assert _tags(engine) == {"Ada Lind": "04A1B2C3", "Ed Falk": None, "Old Hand": "0A0A0A0A",
                             "Swap One": "22222222", "Swap Two": "11111111"}  # fmt: skip


def test_a_tag_freed_by_a_row_that_cannot_be_stored_stays_taken(engine: Engine) -> None:
    lions = create_team(engine, {"name": "Lions"})
    create_athlete(engine, {"team_id": lions.id, "name": "Ada Lind", "tag": "AAAA"})
    # Bo would take Ada's tag, freed by Ada's row, but Ada's row is refused: Ada keeps it.
    text_ = f"{HEADER}\nLions,Ada Lind,,,,X,,BBBB\nLions,Bo Berg,,,,,,aaaa\n"
    report = csv_io.import_roster(engine, text_.encode(), None, "valid_only")
    assert [(e.line, e.field) for e in report.errors] == [(2, "sex"), (3, "tag")]
    assert report.imported == 0 and _tags(engine) == {"Ada Lind": "AAAA"}


def test_a_file_without_the_tag_column_keeps_the_tags(engine: Engine) -> None:
    lions = create_team(engine, {"name": "Lions"})
    create_athlete(engine, {"team_id": lions.id, "name": "Ada Lind", "tag": "AAAA"})
    report = csv_io.import_roster(engine, b"name,group\nAda Lind,Backs\n", "Lions", "all")
    assert (report.imported, report.errors) == (1, [])
    assert _tags(engine) == {"Ada Lind": "AAAA"}


def test_export_round_trip_keeps_tags_and_quotes_formulas(engine: Engine) -> None:
    lions = create_team(engine, {"name": "Lions"})
    formula = '=HYPERLINK("http://x")'
    create_athlete(engine, {"team_id": lions.id, "name": "Ada Lind", "tag": "04a1b2c3"})
    create_athlete(engine, {"team_id": lions.id, "name": "Bo Berg", "tag": formula})
    create_athlete(engine, {"team_id": lions.id, "name": "Cy Dahl", "tag": "-12AB"})
    create_athlete(engine, {"team_id": lions.id, "name": "Di Eng"})
    exported = csv_io.export_csv(engine)
    rows = {r["name"]: r["tag"] for r in csv.DictReader(io.StringIO(exported))}
    assert rows == {"Ada Lind": "04A1B2C3", "Bo Berg": "'" + formula.upper(),
                    "Cy Dahl": "'-12AB", "Di Eng": ""}  # fmt: skip
    before = _tags(engine)
    report = csv_io.import_roster(engine, exported.encode(), None, "all")
    assert (report.imported, report.errors) == (4, [])
    assert _tags(engine) == before


# --- the routes over HTTP ---


def test_station_routes(coach: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    team = coach.post("/api/teams", json={"name": "Lions"}).json()
    ada = coach.post("/api/athletes", json={"team_id": team["id"], "name": "Ada Lind",
                                           "display_name": "Ada"}).json()  # fmt: skip
    bo = coach.post("/api/athletes", json={"team_id": team["id"], "name": "Bo Berg"}).json()
    assert ada["tag"] is None

    unknown = coach.get("/api/athletes/by-tag/" + quote(" 04a1b2c3 "))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json() == {"type": "about:blank", "title": "Not Found", "status": 404,
                              "detail": NOT_FOUND, "errors": [], "tag": "04A1B2C3"}  # fmt: skip

    attached = coach.put(f"/api/athletes/{ada['id']}/tag", json={"tag": unknown.json()["tag"]})
    assert attached.status_code == 200, attached.text
    assert attached.json()["tag"] == "04A1B2C3"
    found = coach.get("/api/athletes/by-tag/04a1b2c3")
    assert found.status_code == 200
    body = found.json()
    assert (body["id"], body["name"], body["team"], body["display_name"]) == (
        ada["id"], "Ada Lind", "Lions", "Ada")  # fmt: skip

    taken = coach.put(f"/api/athletes/{bo['id']}/tag", json={"tag": "04A1B2C3"})
    assert taken.status_code == 409
    assert "Ada Lind (Lions)" in taken.json()["detail"] and "Bo Berg" in taken.json()["detail"]
    assert (taken.json()["tag"], taken.json()["holder"]["id"]) == ("04A1B2C3", ada["id"])
    patched = coach.patch(f"/api/athletes/{bo['id']}", json={"tag": "04a1b2c3"})
    assert patched.status_code == 409 and patched.json()["holder"]["name"] == "Ada Lind"

    with caplog.at_level(logging.INFO, logger="server.roster.service"):
        moved = coach.put(f"/api/athletes/{bo['id']}/tag", json={"tag": "04a1b2c3", "move": True})
    assert moved.status_code == 200 and moved.json()["tag"] == "04A1B2C3"
    assert "moved from athlete" in caplog.text
    assert coach.get("/api/athletes/by-tag/04A1B2C3").json()["id"] == bo["id"]
    listed = {a["name"]: a["tag"] for a in coach.get("/api/athletes").json()}
    assert listed == {"Ada Lind": None, "Bo Berg": "04A1B2C3"}

    slash = coach.put(f"/api/athletes/{ada['id']}/tag", json={"tag": "club/7?x#1"})
    assert slash.json()["tag"] == "CLUB/7?X#1"
    by_query = coach.get("/api/athletes/by-tag", params={"tag": "club/7?x#1"})
    assert by_query.json()["id"] == ada["id"], "a tag with / ? # is found in the query"
    by_path = coach.get("/api/athletes/by-tag/" + quote("club7?x#1 ", safe=""))
    assert by_path.status_code == 404 and by_path.json()["tag"] == "CLUB7?X#1"
    removed = coach.put(f"/api/athletes/{bo['id']}/tag", json={"tag": None})
    assert removed.status_code == 200 and removed.json()["tag"] is None
    assert coach.put("/api/athletes/999/tag", json={"tag": "AB"}).status_code == 404

    exported = coach.get("/api/roster/export.csv").content.decode("utf-8-sig")
    assert exported.splitlines()[0] == HEADER
    assert "CLUB/7?X#1" in exported


def test_hostile_input_is_refused_cleanly(coach: httpx.Client) -> None:
    team = coach.post("/api/teams", json={"name": "Lions"}).json()
    ada = coach.post("/api/athletes", json={"team_id": team["id"], "name": "Ada"}).json()
    url = f"/api/athletes/{ada['id']}/tag"
    cases = {
        "A" * 100_000: "tag: must be at most 64 characters (has 100000)",
        # A NUL is refused at the edge for every field (server/input_limits.py), still by name.
        "04A1\x00B2": "tag: text may not contain a NUL character",
        "\x1b[2J": "character 1 is U+001B",
        "Å": "character 1 is U+00C5",
        "": "tag: is empty; send null to take the tag off",
    }
    for tag, message in cases.items():
        res = coach.put(url, json={"tag": tag})
        assert res.status_code == 422, (tag[:10], res.text)
        (error,) = res.json()["errors"]
        assert error["field"] == "tag" and message.removeprefix("tag: ") in error["detail"]
        assert "\x00" not in res.text and "AAAAAAAAAA" not in res.text, "never echoed"
    for path, detail in (
        ("%00", "tag: text may not contain a NUL character"),  # refused at the edge
        ("%1B%5B2J", "invalid tag"), ("A" * 2000, "invalid tag"), ("%20", "invalid tag"),
    ):  # fmt: skip
        res = coach.get("/api/athletes/by-tag/" + path)
        assert res.status_code == 422, (path[:10], res.text)
        assert res.json()["detail"] == detail
    wrong_type = coach.put(url, json={"tag": 12345678})
    assert wrong_type.status_code == 400 and "tag" in wrong_type.text
    assert coach.put(url, json={"tag": "AB", "move": "yes"}).status_code == 400
    refused = coach.post("/api/athletes", json={"team_id": team["id"], "name": "Bo",
                                               "tag": "\x00"})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tag"
    assert coach.get("/api/athletes").json()[0]["tag"] is None, "nothing was stored"


def test_tag_routes_are_for_coaches_and_typed_in_the_schema(
    server: LiveServer, coach: httpx.Client
) -> None:
    with httpx.Client(base_url=server.base_url) as anyone:
        assert anyone.get("/api/athletes/by-tag/04A1B2C3").status_code == 401
    schema = coach.get("/schema/openapi.json").json()
    put = schema["paths"]["/api/athletes/{athlete_id}/tag"]["put"]
    ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(request["properties"]) == {"tag", "move"}
    for path in ("/api/athletes/by-tag/{tag}", "/api/athletes/by-tag"):
        assert "404" in schema["paths"][path]["get"]["responses"]
    assert "409" in put["responses"]
