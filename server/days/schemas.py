"""The body of POST /api/days: a day plan document, or a day plan file's text.

It stays a plain object for Litestar: server/days/definition.py checks it and names every
problem at once with its field (unknown keys too), which a typed body would cut short at
the first wrong type, or drop silently for an unknown key. The schema below is what the
OpenAPI document shows of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar.openapi.spec import Example, OpenAPIFormat, OpenAPIType, Schema
from litestar.params import Body

from server.bodies import INTEGER, NAMES, NUMBER, STRING, document, text_form

_DRILL = document(
    "Station drill",
    {"drill": STRING, "reps": INTEGER, "rest_s": NUMBER,
     "order": Schema(type=OpenAPIType.STRING, enum=["round-robin", "athlete"])},
    ["drill"],
)  # fmt: skip
_STATION = document(
    "Day plan station", {"station": STRING, "drills": Schema(type=OpenAPIType.ARRAY, items=_DRILL)},
    ["station", "drills"],
)  # fmt: skip
_GROUP = document("Day plan group", {"name": STRING, "athletes": NAMES}, ["name", "athletes"])
DAY_PLAN_SCHEMA = document(
    "Day plan document",
    {"format": INTEGER, "name": STRING,
     "date": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE), "team": STRING,
     "countdown_s": NUMBER, "stations": Schema(type=OpenAPIType.ARRAY, items=_STATION),
     "groups": Schema(type=OpenAPIType.ARRAY, items=_GROUP)},
    ["name", "stations", "groups"],
)  # fmt: skip

_EXAMPLE_PLAN = {
    "format": 1, "name": "Pre-season testing", "date": "2026-12-05", "team": "U16",
    "countdown_s": 5,
    "stations": [
        {"station": "sprint-lane", "drills": [{"drill": "sprint-10m", "reps": 2, "rest_s": 60}]},
        {"station": "main", "drills": [{"drill": "t-test"}]},
    ],
    "groups": [{"name": "A", "athletes": ["Ada", "Bo"]}, {"name": "B", "athletes": ["Cy"]}],
}  # fmt: skip
_EXAMPLE_TEXT = {
    "text": 'name = "Pre-season testing"\n[[stations]]\nstation = "main"\n'
    'drills = [{drill = "sprint-10m", reps = 2}]\n[[groups]]\nname = "A"\n'
    'athletes = ["Ada", "Bo"]\n',
    "source": "pre-season.toml",
}

DayPlanBody = Annotated[
    dict[str, Any],
    Body(
        title="Day plan",
        description=(
            "A day plan's keys as JSON (format, name, date, team, countdown_s, stations: "
            "[{station, drills: [{drill, reps, rest_s, order}]}], groups: [{name, athletes}]; "
            'server/days/README.md), or {"text": "<TOML or JSON>", "source": "file name for '
            'errors"}.'
        ),
        schema_extra={"one_of": [DAY_PLAN_SCHEMA, text_form("Day plan")]},
        examples=[
            Example(summary="a day plan as JSON", value=_EXAMPLE_PLAN),
            Example(summary="a day plan file's text", value=_EXAMPLE_TEXT),
        ],
    ),
]
