"""Every error answer is one format, RFC 9457 `application/problem+json` (server/errors.py),
and every request body is in the OpenAPI document (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import Services, build_services, create_app
from server.config import Settings
from server.db.session import migrate
from server.errors import TooManyAttemptsError, handle_app_error, problem_line
from tests.auth_support import login_client

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


@pytest.fixture
def coach(sqlite_db: str) -> Iterator[TestClient[Any]]:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    with TestClient(create_app(services.settings, services)) as client:
        login_client(client, services.engine)
        client.app.state["services"] = services
        yield client


def _problem(res: Any, status: int) -> dict[str, Any]:
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/problem+json", res.headers
    body: dict[str, Any] = res.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status and body["type"]
    assert all(set(e) == {"field", "detail"} for e in body["errors"]), body
    return body


def _described(schema: dict[str, Any]) -> bool:
    """A schema that says something about the body, not only "an object"."""
    return any(key in schema for key in ("$ref", "properties", "oneOf", "items"))


def test_every_request_body_has_a_schema(coach: TestClient[Any]) -> None:
    document = coach.get("/schema/openapi.json").json()
    bodies = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            bodies += 1
            content = operation["requestBody"]["content"]
            for media, entry in content.items():
                assert _described(entry.get("schema", {})), (method, path, media, entry)
    assert bodies >= 20, "the walk found the bodies"


def test_the_document_shows_the_problem_format(coach: TestClient[Any]) -> None:
    document = coach.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) >= PROBLEM_KEYS
    assert set(schemas["FieldError"]["properties"]) == {"field", "detail"}
    teams = document["paths"]["/api/teams"]["post"]["responses"]
    assert "application/problem+json" in teams["400"]["content"]
    assert "application/problem+json" in teams["default"]["content"]


def test_every_kind_of_error_is_the_same_problem(
    coach: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = _problem(coach.post("/api/teams", json={"archived": "yes"}), 400)
    no_route = _problem(coach.get("/api/no/such/route"), 404)
    team_id = coach.post("/api/teams", json={"name": "Lions"}).json()["id"]
    app_error = _problem(
        coach.post("/api/athletes", json={"team_id": team_id, "name": "", "sex": "Q"}), 422
    )
    wrong_method = _problem(coach.delete("/api/teams"), 405)
    services: Services = coach.app.state["services"]

    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services.devices, "snapshot", broken)
    server_error = _problem(coach.get("/healthz"), 500)
    for body in (typed, no_route, app_error, wrong_method):
        assert set(body) == PROBLEM_KEYS, body
    assert set(server_error) == PROBLEM_KEYS | {"request_id"}
    assert (no_route["title"], no_route["errors"]) == ("Not Found", [])
    assert app_error["detail"] == "invalid athlete"
    assert app_error["errors"] == [
        {"field": "name", "detail": "is required"},
        {"field": "sex", "detail": "must be F, M or empty, not 'Q'"},
    ]


def test_a_wrong_typed_or_unknown_field_is_named(coach: TestClient[Any]) -> None:
    team_id = coach.post("/api/teams", json={"name": "Lions"}).json()["id"]
    ada = coach.post("/api/athletes", json={"team_id": team_id, "name": "Ada"}).json()
    wrong = _problem(coach.patch(f"/api/athletes/{ada['id']}", json={"squad_number": True}), 400)
    assert [e["field"] for e in wrong["errors"]] == ["squad_number"]
    unknown = _problem(coach.put("/api/settings", json={"theme": "dark"}), 400)
    assert unknown["errors"] == [{"field": "theme", "detail": "unknown field"}]
    path = _problem(coach.get("/api/athletes", params={"team_id": "x"}), 400)
    assert [e["field"] for e in path["errors"]] == ["team_id"]


def test_a_patch_tells_absent_from_null(coach: TestClient[Any]) -> None:
    team_id = coach.post("/api/teams", json={"name": "Lions"}).json()["id"]
    body = {"team_id": team_id, "name": "Ada", "display_name": "Ace", "group": "Backs"}
    ada = coach.post("/api/athletes", json=body).json()
    kept = coach.patch(f"/api/athletes/{ada['id']}", json={"group": None}).json()
    assert (kept["display_name"], kept["group"]) == ("Ace", None)


def test_a_plan_file_problem_names_its_field(coach: TestClient[Any]) -> None:
    bad = _problem(coach.post("/api/plans", json={"text": 'name = "x"\n', "source": "x.toml"}), 422)
    assert bad["detail"] == "x.toml: invalid plan"
    assert {"field": "blocks", "detail": "required: at least one [[blocks]] entry"} in bad["errors"]


def test_a_429_keeps_its_retry_after() -> None:
    response = handle_app_error(None, TooManyAttemptsError("too many failed sign-ins", 7))  # type: ignore[arg-type]
    assert (response.status_code, response.media_type) == (429, "application/problem+json")
    assert response.headers["Retry-After"] == "7"
    assert response.content["detail"] == "too many failed sign-ins"


def test_the_cli_prints_each_problem_as_a_line() -> None:
    assert problem_line({"field": "blocks[1].reps", "detail": "must be 1 or more"}) == (
        "blocks[1].reps: must be 1 or more"
    )
    assert problem_line({"field": None, "detail": "x.toml: not valid TOML"}) == (
        "x.toml: not valid TOML"
    )
