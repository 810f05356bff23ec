"""Plan limits (issue 16, item 6): every count and time in a plan is bounded, with an error
naming the field and the limit, and nesting that would exhaust the parsers' stack is a clear
error, from a file, from TOML or JSON text in the API, and from a JSON body."""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient

from server.app import build_services, create_app
from server.catalog.service import Catalog
from server.config import Settings
from server.db.session import migrate
from server.errors import InvalidInputError
from server.plans.definition import (
    MAX_ATHLETES,
    MAX_BLOCKS,
    MAX_REPS,
    MAX_STEPS,
    PlanFileError,
    parse_plan,
    parse_plan_text,
    plan_steps,
)
from tests.auth_support import login_client

CATALOG = Catalog.load()


def _plan(**block: object) -> str:
    fields = {"drill": "sprint-10m", "athletes": ["Ada", "Bo"], **block}
    return json.dumps({"name": "Bounds", "blocks": [fields]})


def _errors(text: str) -> list[str]:
    with pytest.raises(PlanFileError) as info:
        parse_plan_text(text, "big.toml", CATALOG)
    return info.value.errors


def test_a_billion_reps_is_an_error_naming_the_field_and_the_limit() -> None:
    text = 'name = "x"\n[[blocks]]\ndrill = "sprint-10m"\ngroup = "U16"\nreps = 1000000000\n'
    assert _errors(text) == ["big.toml: blocks[1].reps: must be at most 50, not 1000000000"]
    assert parse_plan_text(_plan(reps=MAX_REPS), "ok", CATALOG).blocks[0].reps == MAX_REPS


def test_times_are_bounded() -> None:
    errors = _errors(
        json.dumps({"name": "x", "countdown_s": 601,
                    "blocks": [{"drill": "sprint-10m", "group": "U16", "rest_s": 3601}]})
    )  # fmt: skip
    assert errors == [
        "big.toml: countdown_s: must be at most 600 seconds, not 601",
        "big.toml: blocks[1].rest_s: must be at most 3600 seconds, not 3601",
    ]
    block = {"drill": "sprint-10m", "group": "U16", "rest_s": 3600}
    edge = json.dumps({"name": "x", "countdown_s": 600, "blocks": [block]})
    assert parse_plan_text(edge, "ok", CATALOG).blocks[0].rest_s == 3600.0


def test_blocks_and_athletes_are_bounded() -> None:
    block = {"drill": "sprint-10m", "group": "U16"}
    many = json.dumps({"name": "x", "blocks": [block] * (MAX_BLOCKS + 1)})
    assert _errors(many) == ["big.toml: blocks: at most 50 blocks, not 51"]
    crowd = [f"Athlete {i}" for i in range(MAX_ATHLETES + 1)]
    assert _errors(_plan(athletes=crowd)) == [
        "big.toml: blocks[1].athletes: at most 200 athletes, not 201"
    ]


def test_the_whole_plan_is_bounded_in_reps() -> None:
    squad = [f"Athlete {i}" for i in range(41)]  # 5 blocks x 50 reps x 41 = 10 250
    block = {"drill": "sprint-10m", "athletes": squad, "reps": 50}
    errors = _errors(json.dumps({"name": "x", "blocks": [block] * 5}))
    assert errors == [
        f"big.toml: blocks: 10250 reps in all (reps times athletes); at most {MAX_STEPS}"
    ]
    # A group is resolved when the session starts: bounded there too.
    plan = parse_plan_text(_plan(group="U16", athletes=None, reps=50), "ok", CATALOG)
    with pytest.raises(InvalidInputError, match="at most 10000"):
        plan_steps(plan, [[f"A{i}" for i in range(201)]], CATALOG)


@pytest.mark.parametrize(
    "text",
    [
        "name = 'x'\na = " + "[" * 10_000 + "]" * 10_000 + "\n",
        "name = 'x'\na = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n",
        '{"name": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["toml-arrays", "toml-inline-tables", "json"],
)
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(text: str) -> None:
    assert _errors(text) == ["big.toml: tables or lists nested more than 8 levels deep"]


def test_decoded_json_nested_deep_and_huge_values_in_messages() -> None:
    deep: object = 1
    for _ in range(900):
        deep = [deep]
    with pytest.raises(PlanFileError) as info:
        parse_plan(
            {"name": "x", "blocks": [{"drill": "sprint-10m", "reps": deep}]}, "body", CATALOG
        )
    assert info.value.errors == ["body: tables or lists nested more than 8 levels deep"]
    with pytest.raises(PlanFileError) as info:
        block = {"drill": "sprint-10m", "group": "U", "reps": [[["x" * 10_000]]]}
        parse_plan({"name": "x", "blocks": [block]}, "body", CATALOG)
    (message,) = info.value.errors
    assert message.startswith("body: blocks[1].reps: must be a whole number, 1 or more, not [[")
    assert len(message) < 200, "a huge value is cut short in the message"


def _said(body: dict[str, object]) -> str:
    """The detail and the listed problems of an error answer, each as `field: message`."""
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    lines = [f"{e['field']}: {e['detail']}" if e["field"] else e["detail"] for e in errors]
    return "\n".join([str(body["detail"]), *lines])


def test_the_api_answers_422_naming_the_field(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    with TestClient(create_app(services.settings, services)) as client:
        login_client(client, services.engine)
        res = client.post("/api/plans", json=json.loads(_plan(reps=1_000_000_000)))
        assert res.status_code == 422, res.text
        assert "blocks[1].reps: must be at most 50, not 1000000000" in _said(res.json())
        deep = '{"name": "x", "a": ' + "[" * 50_000 + "]" * 50_000 + "}"
        res = client.post("/api/plans", json={"text": deep, "source": "deep.json"})
        assert res.status_code == 422, res.text
        assert "deep.json: tables or lists nested more than 8 levels deep" in _said(res.json())
        nested: object = "Ada"
        for _ in range(100):
            nested = [nested]
        body = {"name": "x", "blocks": [{"drill": "sprint-10m", "athletes": nested}]}
        res = client.post("/api/plans", json=body)
        assert res.status_code == 422, res.text
        assert "nested more than 8 levels deep" in _said(res.json())
    services.engine.dispose()
