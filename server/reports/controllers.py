"""Coach-only report routes: file exports and the JSON behind the console's reports page.

Thin on purpose: the figures come from server/reports/figures.py via service.py, the same
code `agility export` runs, so a download and the command give the same file.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import Parameter
from sqlalchemy import Engine

from server.auth.guards import requires_coach
from server.catalog.service import Catalog
from server.errors import InvalidInputError
from server.reports.data import Scope, athlete_team, make_scope, team_name
from server.reports.day import DayReport, club_day, day_report, load_day_summary
from server.reports.day_files import DAY_FORMATS, check_day_format, day_bytes, day_filename
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
Day = Annotated[
    str | None,
    Parameter(query="date", description="one day, YYYY-MM-DD: the club's day in `tz`"),
]
Zone = Annotated[
    str | None,
    Parameter(
        query="tz",
        description="the IANA time zone of `date`, e.g. Europe/Oslo; default the server's",
    ),
]


def _team(engine: Engine, team: str | None, team_id: int | None) -> str | None:
    """The team asked for by name or id (the console passes ids); None for every team."""
    return (team_name(engine, team_id) if team_id is not None else team) or None


def _scope(
    engine: Engine,
    team: str | None,
    team_id: int | None,
    date_from: str | None,
    date_to: str | None,
) -> Scope:
    return make_scope(_team(engine, team, team_id), date_from, date_to)


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
        day: Day = None,
        tz: Zone = None,
    ) -> dict[str, Any]:
        """Per athlete and drill: best, mean, CV, rank, change, rating; per athlete:
        forward:backward ratios, COD deficits, left/right asymmetry and flags. `date` gives
        one club day (in `tz`, default the server's zone) instead of a UTC `from`/`to` range.
        An empty scope answers 200 with `message` saying why."""
        choices = parse_norm_choices(norm or [])
        if day is None and tz is None:
            scope = _scope(db_engine, team, team_id, date_from, date_to)
            return team_table(load_summary(db_engine, scope, catalog.drills, choices))
        if date_from is not None or date_to is not None:
            raise InvalidInputError("date: give one day (date) or a range (from, to), not both")
        name = _team(db_engine, team, team_id)
        summary = load_day_summary(db_engine, name, club_day(day, tz), catalog.drills, choices)
        return team_table(summary)

    @get("/day", sync_to_thread=True)
    def testing_day(
        self,
        db_engine: Engine,
        catalog: Catalog,
        day: Day = None,
        tz: Zone = None,
        team: str | None = None,
        team_id: int | None = None,
        norm: Norms = None,
        fmt: Annotated[
            str | None,
            Parameter(query="format", description="JSON when omitted; " + " | ".join(DAY_FORMATS)),
        ] = None,
    ) -> Response[DayReport | bytes]:
        """One club day: a row per athlete with a valid rep that day (team, name, stations),
        and per drill run that day the best time, its rank that day (ties share one), the norm
        band where a population was chosen (`norm`), and what to know to read it (hand time,
        cross-device bound, coarse); forward:backward ratios and flags. The day is `date` in
        `tz` (default the server's zone; the answer says which). A day without reps is an
        empty report with `message`, not an error. `format` gives a download instead
        (day-YYYY-MM-DD[-team].csv|xlsx|pdf)."""
        if fmt is not None:
            check_day_format(fmt)
        chosen = club_day(day, tz)
        name = _team(db_engine, team, team_id)
        choices = parse_norm_choices(norm or [])
        summary = load_day_summary(db_engine, name, chosen, catalog.drills, choices)
        report = day_report(summary, chosen)
        if fmt is None:
            return Response(report)
        return Response(
            day_bytes(report, fmt),
            media_type=DAY_FORMATS[fmt][0],
            headers={"Content-Disposition": f'attachment; filename="{day_filename(report, fmt)}"'},
        )

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
