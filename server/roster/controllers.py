"""Roster routes (coach only): thin, the logic is in service.py and csv_io.py."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, MediaType, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy import Engine

from server.auth.guards import requires_coach
from server.bodies import given
from server.errors import PROBLEM_JSON, Problem, problem
from server.roster import csv_io
from server.roster.schemas import AthleteBody, TeamBody, TeamPatch
from server.roster.service import (
    AthleteInfo,
    TagTakenError,
    TeamInfo,
    UnknownTagError,
    create_athlete,
    create_team,
    find_by_tag,
    list_athletes,
    list_teams,
    set_tag,
    update_athlete,
    update_team,
)

CSV = "text/csv; charset=utf-8"


def _csv(text: str, filename: str) -> Response[bytes]:
    # The byte-order mark makes Excel read the file as UTF-8 (names with å, é, ø).
    return Response(
        ("\ufeff" + text).encode("utf-8"),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@dataclass
class ImportForm:
    file: UploadFile
    team: str | None = None
    """Team of rows whose `team` cell is empty."""
    mode: str = csv_io.ImportMode.CHECK.value
    """check (nothing is stored), all (only if every row is valid) or valid_only."""


@dataclass
class TagRequest:
    """PUT /api/athletes/{id}/tag: the tag to attach, or null to take the athlete's off."""

    tag: str | None
    """As the reader typed it; trimmed and upper-cased, 1-64 printable ASCII characters."""
    move: bool = False
    """Take the tag off the athlete who has it (logged); without it that is a 409."""


@dataclass(frozen=True)
class UnknownTag(Problem):
    """404 of GET /api/athletes/by-tag/{tag}: the station page offers to attach `tag`."""

    tag: str = ""
    """The tag read, normalised: what to PUT to attach it."""


@dataclass(frozen=True)
class TagTaken(Problem):
    """409 when a tag is on another athlete (`holder`)."""

    tag: str = ""
    holder: AthleteInfo | None = None


def _unknown_tag(_: Request[Any, Any, Any], exc: UnknownTagError) -> Response[dict[str, object]]:
    return problem(HTTP_404_NOT_FOUND, str(exc), tag=exc.tag)


def _tag_taken(_: Request[Any, Any, Any], exc: TagTakenError) -> Response[dict[str, object]]:
    return problem(HTTP_409_CONFLICT, str(exc), tag=exc.tag, holder=asdict(exc.holder))


# Other errors go to the app's handler; these two also give the tag (and its holder).
_TAKEN_RESPONSES = {
    HTTP_409_CONFLICT: ResponseSpec(
        TagTaken, description="the tag is on another athlete", media_type=PROBLEM_JSON
    )
}
_TAKEN_HANDLERS: ExceptionHandlersMap = {TagTakenError: _tag_taken}
_UNKNOWN_RESPONSES = {
    HTTP_404_NOT_FOUND: ResponseSpec(
        UnknownTag, description="no athlete has the tag", media_type=PROBLEM_JSON
    )
}
_UNKNOWN_HANDLERS: ExceptionHandlersMap = {UnknownTagError: _unknown_tag}


class TeamsController(Controller):
    path = "/api/teams"
    tags = ("roster",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=True)
    def get_teams(self, db_engine: Engine) -> list[TeamInfo]:
        return list_teams(db_engine)

    @post("/", sync_to_thread=True)
    def post_team(self, data: TeamBody, db_engine: Engine) -> TeamInfo:
        """409 when the name is taken."""
        return create_team(db_engine, given(data))

    @patch("/{team_id:int}", sync_to_thread=True)
    def patch_team(self, team_id: int, data: TeamPatch, db_engine: Engine) -> TeamInfo:
        """The fields given change."""
        return update_team(db_engine, team_id, given(data))


class AthletesController(Controller):
    path = "/api/athletes"
    tags = ("roster",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=True)
    def get_athletes(
        self, db_engine: Engine, team_id: int | None = None, include_archived: bool = False
    ) -> list[AthleteInfo]:
        return list_athletes(db_engine, team_id, include_archived)

    @post("/", sync_to_thread=True, responses=_TAKEN_RESPONSES, exception_handlers=_TAKEN_HANDLERS)
    def post_athlete(self, data: AthleteBody, db_engine: Engine) -> AthleteInfo:
        """`team_id` (or `team`, a name, made if new), `name`, and any other field."""
        return create_athlete(db_engine, given(data))

    @patch(
        "/{athlete_id:int}",
        sync_to_thread=True,
        responses=_TAKEN_RESPONSES,
        exception_handlers=_TAKEN_HANDLERS,
    )
    def patch_athlete(self, athlete_id: int, data: AthleteBody, db_engine: Engine) -> AthleteInfo:
        """The fields given change; `{"archived": true}` takes the athlete off the roster."""
        return update_athlete(db_engine, athlete_id, given(data))

    @get(
        "/by-tag/{tag:str}",
        sync_to_thread=True,
        responses=_UNKNOWN_RESPONSES,
        exception_handlers=_UNKNOWN_HANDLERS,
    )
    def get_by_tag(self, tag: str, db_engine: Engine) -> AthleteInfo:
        """The athlete a station read (archived ones too: see `archived`). The tag is
        normalised first, so any case finds it. Percent-encode it; a tag with a `/` (a QR
        code holding a URL) cannot travel in a path: use `GET /api/athletes/by-tag?tag=`."""
        return find_by_tag(db_engine, tag)

    @get(
        "/by-tag",
        sync_to_thread=True,
        responses=_UNKNOWN_RESPONSES,
        exception_handlers=_UNKNOWN_HANDLERS,
    )
    def get_by_tag_query(self, tag: str, db_engine: Engine) -> AthleteInfo:
        """As `/by-tag/{tag}`, for any tag, `/` included."""
        return find_by_tag(db_engine, tag)

    @put(
        "/{athlete_id:int}/tag",
        sync_to_thread=True,
        responses=_TAKEN_RESPONSES,
        exception_handlers=_TAKEN_HANDLERS,
    )
    def put_tag(self, athlete_id: int, data: TagRequest, db_engine: Engine) -> AthleteInfo:
        """Attach a tag on the spot (null takes it off); one on another athlete only moves
        with `"move": true`."""
        return set_tag(db_engine, athlete_id, data.tag, data.move)


class RosterCsvController(Controller):
    path = "/api/roster"
    tags = ("roster",)
    guards = (requires_coach,)

    @get("/template.csv", sync_to_thread=False, media_type=CSV)
    def template(self) -> Response[bytes]:
        """The columns and two example rows, to fill in a spreadsheet."""
        return _csv(csv_io.template_csv(), "roster-template.csv")

    @get("/export.csv", sync_to_thread=True, media_type=CSV)
    def export(
        self, db_engine: Engine, team_id: int | None = None, include_archived: bool = False
    ) -> Response[bytes]:
        """Every athlete (of `team_id` if given), in the template's columns."""
        return _csv(csv_io.export_csv(db_engine, team_id, include_archived), "roster.csv")

    @post("/import", media_type=MediaType.JSON, status_code=HTTP_200_OK)
    async def import_csv(
        self,
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        db_engine: Engine,
    ) -> Response[dict[str, Any]]:
        """{"imported", "valid_rows", "errors": [{"line", "field", "detail"}], "header",
        "rows"}; when there are errors and nothing was imported, the same members in a 422
        problem. `header` and `rows` are the file's cells as read (row i on line i + 2),
        empty when the file could not be read, so a page can show each problem beside its
        row."""
        content = await data.file.read()
        report = await to_thread.run_sync(
            csv_io.import_roster, db_engine, content, data.team, data.mode
        )
        body: dict[str, Any] = {
            "imported": report.imported,
            "valid_rows": report.valid_rows,
            "errors": [
                {"line": e.line, "field": e.field, "detail": e.message} for e in report.errors
            ],
            "header": report.header,
            "rows": report.rows,
        }
        if not report.refused:
            return Response(body, status_code=HTTP_200_OK)
        count = len(report.errors)
        detail = f"nothing was imported: {count} problem{'s' if count != 1 else ''} in the file"
        response = problem(HTTP_422_UNPROCESSABLE_ENTITY, detail)
        response.content.update(body)  # the rows' problems, each with its line
        return response
