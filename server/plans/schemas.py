"""The body of POST /api/plans: a plan document, or a plan file's text.

It stays a plain object for Litestar: server/plans/definition.py checks it and names every
problem at once with its field (unknown keys too), which a typed body would cut short at
the first wrong type. The schema below is what the OpenAPI document shows of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.openapi.spec import Example, OpenAPIType, Schema
from litestar.params import Body

from server.bodies import INTEGER, NAMES, NUMBER, STRING, document, text_form

_BLOCK = document(
    "Plan block",
    {"drill": STRING, "reps": INTEGER, "rest_s": NUMBER, "athletes": NAMES, "group": STRING,
     "order": Schema(type=OpenAPIType.STRING, enum=["round-robin", "athlete"])},
    ["drill"],  # and `athletes` or `group`
)  # fmt: skip
PLAN_SCHEMA = document(
    "Plan",
    {"format": INTEGER, "name": STRING, "team": STRING, "countdown_s": NUMBER,
     "blocks": Schema(type=OpenAPIType.ARRAY, items=_BLOCK)},
    ["name", "blocks"],
)  # fmt: skip

_EXAMPLE_PLAN = {
    "format": 1, "name": "Tuesday speed", "team": "U16", "countdown_s": 5,
    "blocks": [{"drill": "sprint-10m", "reps": 2, "rest_s": 60, "athletes": ["Ada", "Bo"]}],
}  # fmt: skip

PlanBody = Annotated[
    dict[str, Any],
    Body(
        title="Plan body",
        description=(
            'A plan as JSON (server/plans/README.md), or {"text": "<TOML or JSON>", '
            '"source": "name for errors"}; 422 lists every problem with its field.'
        ),
        schema_extra={"one_of": [PLAN_SCHEMA, text_form("Plan")]},
        examples=[Example(summary="a plan as JSON", value=_EXAMPLE_PLAN)],
    ),
]
