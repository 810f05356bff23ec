"""Issue 16, signed-in schema fuzzing: each cause of a 500 it found, as a regression test.

Bad input gets a 4xx naming the field (ids beyond 64 bits, a time of 1.8e308, a 200 KB CSV
cell, NUL characters, which PostgreSQL refuses, a static path with a NUL); a 5xx that can
still happen is logged with its traceback under the request id its answer carries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy.exc import DataError

from server.app import Services, build_services, create_app
from server.config import Settings
from server.db.session import migrate
from tests.auth_support import login_client

HUGE = 2**64  # one past what SQLite's and PostgreSQL's BIGINT hold, twice over


@pytest.fixture
def coach(sqlite_db: str) -> Iterator[TestClient[Any]]:
    yield from _coach(sqlite_db)


@pytest.fixture
def coach_any_db(any_db: str) -> Iterator[TestClient[Any]]:
    yield from _coach(any_db)


def _coach(db: str) -> Iterator[TestClient[Any]]:
    migrate(db)
    services = build_services(Settings(db=db))
    with TestClient(create_app(services.settings, services)) as client:
        login_client(client, services.engine)
        client.app.state["services"] = services
        yield client


def _refused(res: Any, status: int, *names: str) -> None:
    assert res.status_code == status, res.text
    text = res.text
    for name in names:
        assert name in text, f"{name!r} not named in {text}"


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", f"/api/plans/sessions/{HUGE}", "session_id"),
        ("POST", f"/api/plans/sessions/{HUGE}/pause", "session_id"),
        ("GET", f"/api/runs/{HUGE}/corrections", "run_id"),
        ("POST", f"/api/runs/{HUGE}/unvoid", "run_id"),
        ("PATCH", f"/api/teams/{HUGE}", "team_id"),
        ("GET", f"/api/reports/athlete/{HUGE}", "athlete_id"),
        ("GET", f"/api/days/{-HUGE}", "day_id"),
    ],
)
def test_path_ids_beyond_64_bits_are_refused_naming_the_parameter(
    coach: TestClient[Any], method: str, path: str, name: str
) -> None:
    body = {"name": "x"} if method == "PATCH" else None
    _refused(coach.request(method, path, json=body), 422, name, "out of range")


def test_query_ints_beyond_64_bits_are_refused_naming_the_parameter(
    coach: TestClient[Any],
) -> None:
    _refused(coach.get("/api/live/since", params={"epoch": "x", "seq": str(HUGE)}), 422, "seq")
    _refused(coach.get("/api/athletes", params={"team_id": str(-HUGE)}), 422, "team_id")
    # A text parameter that looks like a number is text: no limit on its digits.
    assert coach.get(f"/api/leaderboards/{HUGE}").status_code == 404


def test_ids_must_fit_the_id_columns_of_postgresql_too(coach_any_db: TestClient[Any]) -> None:
    """PostgreSQL's INTEGER has 32 bits: 2**40 fits SQLite but fails there, deep in a query."""
    big = 2**40
    _refused(coach_any_db.get(f"/api/plans/sessions/{big}"), 422, "session_id", "2147483647")
    _refused(coach_any_db.get("/api/athletes", params={"team_id": big}), 422, "team_id")
    res = coach_any_db.post("/api/runs/1/reassign", json={"athlete_id": big})
    _refused(res, 422, "athlete_id", "out of range")
    assert coach_any_db.get(f"/api/plans/sessions/{2**31 - 1}").status_code == 404


def test_a_value_the_database_refuses_is_a_422_and_logged(
    coach: TestClient[Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The net under the checks above: whatever still gets past them is the request's fault."""
    services: Services = coach.app.state["services"]

    def refused() -> None:
        raise DataError("SELECT 1", {}, Exception("integer out of range"))

    monkeypatch.setattr(services.devices, "snapshot", refused)
    with caplog.at_level(logging.WARNING, logger="server.errors"):
        res = coach.get("/healthz")
    _refused(res, 422, "does not fit the database: integer out of range")
    rid = res.headers["x-request-id"]
    assert any(rid in r.getMessage() and r.exc_info for r in caplog.records)


def test_body_numbers_must_be_finite_and_fit(coach: TestClient[Any]) -> None:
    manual = {"drill": "sprint-10m", "athlete_id": 1, "total_s": 1.8e308}
    res = coach.post("/api/runs/manual", content=_json(manual))
    _refused(res, 422, "total_s", "out of range")
    res = coach.post("/api/runs/manual", json={**manual, "total_s": 5.0, "athlete_id": HUGE})
    _refused(res, 422, "athlete_id", "out of range")
    res = coach.post("/api/runs/manual", content=b'{"drill": "x", "athlete_id": 1, "total_s": NaN}')
    _refused(res, 422, "total_s")


def _json(body: dict[str, Any]) -> bytes:
    """json.dumps writes 1.8e308 as Infinity; the fuzzer sends the digits."""
    return b'{"drill": "%s", "athlete_id": %d, "total_s": 1.8e308}' % (
        body["drill"].encode(),
        body["athlete_id"],
    )


def test_a_200_kb_csv_cell_is_a_row_error_not_a_crash(coach: TestClient[Any]) -> None:
    csv = "name,team\r\n" + "A" * 200_000 + ",U16\r\n"
    res = coach.post(
        "/api/roster/import",
        files={"file": ("roster.csv", csv.encode(), "text/csv")},
        data={"mode": "check"},
    )
    assert res.status_code == 422, res.text
    (error,) = res.json()["errors"]
    assert res.headers["content-type"] == "application/problem+json"
    assert error["line"] == 2 and "longer than 131072 characters" in error["detail"]


@pytest.mark.parametrize(
    ("path", "json", "name"),
    [
        ("/api/teams", {"name": "U\x0016"}, "name"),
        ("/api/athletes", {"name": "Ada", "team": "U16", "display_name": "a\x00b"},
         "display_name"),
        ("/api/plans", {"name": "P", "blocks": [{"drill": "sprint-10m", "group": "U\x00"}]},
         "blocks[0].group"),
        ("/api/settings", {"x\x00": 1}, "key"),
    ],
)  # fmt: skip
def test_nul_in_any_json_text_is_refused_naming_the_field(
    coach_any_db: TestClient[Any], path: str, json: dict[str, Any], name: str
) -> None:
    method = "PUT" if path == "/api/settings" else "POST"
    _refused(coach_any_db.request(method, path, json=json), 422, name, "NUL")


def test_nul_in_parameters_and_csv_cells_is_refused(coach_any_db: TestClient[Any]) -> None:
    _refused(coach_any_db.get("/api/stations/a%00b"), 422, "name", "NUL")
    _refused(coach_any_db.get("/api/runs/recent", params={"drill": "a\x00"}), 422, "drill", "NUL")
    csv = "name,team\r\nA\x00da,U16\r\n"
    res = coach_any_db.post(
        "/api/roster/import",
        files={"file": ("roster.csv", csv.encode(), "text/csv")},
        data={"mode": "all"},
    )
    assert res.status_code == 422, res.text
    assert res.json()["errors"] == [
        {"line": 2, "field": "name", "detail": "contains a NUL character"}
    ]
    res = coach_any_db.post(
        "/api/roster/import",
        files={"file": ("roster.csv", b"name,team\r\nAda,\r\n", "text/csv")},
        data={"mode": "all", "team": "U\x0016"},
    )
    _refused(res, 422, "team", "NUL")
    # The same file with a clean team goes in: the checks keep the form for the route.
    res = coach_any_db.post(
        "/api/roster/import",
        files={"file": ("roster.csv", b"name,team\r\nAda,\r\n", "text/csv")},
        data={"mode": "all", "team": "U16"},
    )
    assert (res.status_code, res.json()["imported"]) == (200, 1), res.text


def test_an_oversized_body_is_a_413(coach: TestClient[Any]) -> None:
    res = coach.post("/api/teams", content=b'{"name": "' + b"x" * 11_000_000 + b'"}')
    assert res.status_code == 413, res.text[:200]


@pytest.mark.parametrize(
    "path", ["/static/app.js%00.html", "/static/%00", "/static/" + "a" * 300, "/static/a/" * 200]
)
def test_odd_static_paths_are_not_found(coach: TestClient[Any], path: str) -> None:
    res = coach.get(path)
    assert res.status_code == 404, res.text
    assert coach.get("/static/app.js").status_code == 200


def test_every_answer_carries_a_request_id(coach: TestClient[Any]) -> None:
    seen = set()
    for res in (coach.get("/api/drills"), coach.get("/no/such"), coach.get("/static/%00")):
        rid = res.headers["x-request-id"]
        assert len(rid) == 16 and rid not in seen
        seen.add(rid)
    # A proxy's own id is kept when it is a plain token, replaced when it is not.
    kept = coach.get("/api/drills", headers={"X-Request-Id": "proxy-42.a"})
    assert kept.headers["x-request-id"] == "proxy-42.a"
    odd = coach.get("/api/drills", headers={"X-Request-Id": "a b\tc"})
    assert odd.headers["x-request-id"] != "a b\tc"


def test_a_500_is_logged_with_its_traceback_under_the_id_it_answers_with(
    coach: TestClient[Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    services: Services = coach.app.state["services"]

    def broken() -> None:
        raise RuntimeError("a bug, deep down")

    monkeypatch.setattr(services.devices, "snapshot", broken)
    with caplog.at_level(logging.ERROR, logger="server.errors"):
        res = coach.get("/healthz")
    assert res.status_code == 500
    body = res.json()
    assert body["request_id"] == res.headers["x-request-id"]
    assert "a bug" not in res.text, "the answer does not show the server's insides"
    (record,) = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert "GET /healthz answered 500" in record.getMessage()
    assert record.exc_info is not None and "a bug, deep down" in str(record.exc_info[1])
