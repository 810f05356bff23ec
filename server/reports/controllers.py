"""Coach-only report routes: file exports and the JSON behind the console's reports page.

Thin on purpose: the figures come from server/reports/summary.py via service.py, the same
code `agility export` runs, so a download and the command give the same file.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import Parameter
from sqlalchemy import Engine

from server.auth.guards import requires_coach
from server.catalog.service import Catalog
from server.reports.data import Scope, athlete_team, make_scope, team_name
from server.reports.service import (
    FORMATS,
    athlete_history,
    check_format,
    export_bytes,
    export_filename,
    load_summary,
    parse_norm_choices,
    team_table,
)

From = Annotated[str | None, Parameter(query="from", description="first day, YYYY-MM-DD (UTC)")]
To = Annotated[str | None, Parameter(query="to", description="last day, YYYY-MM-DD (UTC)")]
Norms = Annotated[
    list[str] | None,
    Parameter(description="population per drill, e.g. t-test=college-men,college-women"),
]


def _scope(
    engine: Engine,
    team: str | None,
    team_id: int | None,
    date_from: str | None,
    date_to: str | None,
) -> Scope:
    name = team_name(engine, team_id) if team_id is not None else team
    return make_scope(name, date_from, date_to)


class ReportsController(Controller):
    path = "/api/reports"
    tags = ("reports",)
    guards = (requires_coach,)

    @get("/export", sync_to_thread=True)
    def export(
        self,
        db_engine: Engine,
        catalog: Catalog,
        fmt: Annotated[str, Parameter(query="format", description=" | ".join(FORMATS))],
        date_from: From = None,
        date_to: To = None,
        team: str | None = None,
        team_id: int | None = None,
        norm: Norms = None,
    ) -> Response[bytes]:
        """The export as a download; every team and date when omitted. 409 with a sentence
        when nothing in scope counts (no reps, or all voided), 404 for an unknown team."""
        check_format(fmt)
        scope = _scope(db_engine, team, team_id, date_from, date_to)
        summary = load_summary(db_engine, scope, catalog.drills, parse_norm_choices(norm or []))
        filename = export_filename(scope, fmt)
        return Response(
            export_bytes(summary, fmt),
            media_type=FORMATS[fmt][0],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @get("/team", sync_to_thread=True)
    def team_report(
        self,
        db_engine: Engine,
        catalog: Catalog,
        date_from: From = None,
        date_to: To = None,
        team: str | None = None,
        team_id: int | None = None,
        norm: Norms = None,
    ) -> dict[str, Any]:
        """Per athlete and drill: best, mean, CV, rank, change, rating; per athlete:
        forward:backward ratios, COD deficits, left/right asymmetry and flags. An empty
        scope answers 200 with `message` saying why."""
        scope = _scope(db_engine, team, team_id, date_from, date_to)
        choices = parse_norm_choices(norm or [])
        return team_table(load_summary(db_engine, scope, catalog.drills, choices))

    @get("/athlete/{athlete_id:int}", sync_to_thread=True)
    def athlete_report(
        self,
        athlete_id: int,
        db_engine: Engine,
        catalog: Catalog,
        date_from: From = None,
        date_to: To = None,
    ) -> dict[str, Any]:
        """One athlete's history per drill (best and mean per test day, every rep with its
        flags) and forward:backward ratios over time, for the history chart."""
        base = make_scope(athlete_team(db_engine, athlete_id), date_from, date_to)
        scope = Scope(base.team, base.date_from, base.date_to, athlete_id)
        return athlete_history(load_summary(db_engine, scope, catalog.drills))
