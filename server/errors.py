"""One place maps every layer's errors to HTTP status codes and plain messages.

Every error answer, the app's and Litestar's own (404 for no such route, a typed body that
does not fit), has one format, RFC 9457 `application/problem+json`, built by `problem`:
`{"type", "title", "status", "detail", "errors": [{"field", "detail"}]}`
(docs/CONSOLE-API.md, "Errors and limits every route shares").

A 5xx is the server's fault, not the request's: it is logged with its traceback under the
request's id (server/request_ids.py), and the answer carries that id in its body as well as
in its `X-Request-Id` header, so the log line can be found from what the coach saw.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from sqlalchemy.exc import DataError

from drills import DrillError, DrillFileError, DrillsError
from hardware.errors import DeviceNotReady, HardwareError
from server.request_ids import request_id

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of the server's own errors."""


class NotFoundError(AppError):
    """The thing asked for does not exist (a drill slug, an athlete)."""


class InvalidInputError(AppError):
    """What was sent cannot be used; `errors` lists every problem, one line each
    (`field: message`), and the message's first line is the answer's `detail`.

    `source` is what each line of `errors` starts with (`tuesday.toml: `) when it comes from a
    file's checks: the file, not a field.
    """

    def __init__(self, message: str, errors: Sequence[str] = (), source: str = "") -> None:
        super().__init__(message)
        self.errors = list(errors)
        self.source = source


class ConflictError(AppError):
    """The request clashes with the current state (a rep is already running)."""


class NotAuthorizedError(AppError):
    """No valid coach login: a missing or expired session, or a wrong name or password."""


class ForbiddenError(AppError):
    """Logged in or not, this request may not do that (no CSRF token, setup from afar)."""


class TooManyAttemptsError(AppError):
    """Too many failed logins; `retry_after_s` says when the next attempt is heard."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


PROBLEM_JSON = "application/problem+json"
_FIELD_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\[\d+\]|\.[A-Za-z_][\w-]*)*")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(.+)`")


@dataclass(frozen=True)
class FieldError:
    """One problem of a request, and the field it is in (a dotted path, `blocks[1].name`)
    when it is in one, so a page can show the message beside that field."""

    field: str | None
    detail: str


@dataclass(frozen=True)
class Problem:
    """Every error answer's body (RFC 9457, `application/problem+json`): `detail` is the one
    line a page shows, `errors` each problem with its field; a 5xx adds `request_id`, and
    some answers add members of their own (a 409's `holder`, say)."""

    type: str
    """Always `about:blank`: `status` and `title` say what kind of problem it is."""
    title: str
    status: int
    detail: str
    errors: list[FieldError]
    request_id: str | None = None
    """Only on a 5xx: the id the server's log has the details under."""


def problem(
    status: int, detail: str, errors: Sequence[FieldError] = (), **members: object
) -> Response[dict[str, object]]:
    """The one builder of error answers: every handler here, and a route's own, use it."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "detail": e.detail} for e in errors],
        **members,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status code no RFC names
        return "Error"


def field_error(line: str, source: str = "") -> FieldError:
    """A problem line as the checks write it, `field: message` (after the `source: ` of a
    plan file), split into its field and its message; a line without a field keeps it all."""
    rest = line.removeprefix(f"{source}: ") if source else line
    field, sep, message = rest.partition(": ")
    if sep and _FIELD_PATH.fullmatch(field):
        return FieldError(field, message)
    return FieldError(None, line)  # the file's name stays: it is where the problem is


def problem_line(error: object) -> str:
    """One of a problem's `errors` as a line for a terminal: `field: detail`."""
    if isinstance(error, dict) and "detail" in error:
        return (
            f"{error['field']}: {error['detail']}" if error.get("field") else str(error["detail"])
        )
    return str(error)


def handle_drills_error(_: Request[Any, Any, Any], exc: DrillsError) -> Response[dict[str, object]]:
    if isinstance(exc, DrillFileError):
        errors = [FieldError(e.field or None, _drill_problem(e)) for e in exc.errors]
        return problem(HTTP_422_UNPROCESSABLE_ENTITY, "invalid drill file", errors)
    return problem(HTTP_409_CONFLICT, str(exc))


def _drill_problem(error: DrillError) -> str:
    # The file (and line) stay in the message: a drill folder's check names several files.
    where = error.file if error.line is None else f"{error.file}:{error.line}"
    return f"{where}: {error.message}"


def handle_hardware_error(
    request: Request[Any, Any, Any], exc: HardwareError
) -> Response[dict[str, object]]:
    if isinstance(exc, DeviceNotReady):
        return problem(HTTP_409_CONFLICT, str(exc))
    return _server_error(request, exc, HTTP_503_SERVICE_UNAVAILABLE, str(exc))


def handle_internal_error(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, object]]:
    """Anything no other handler knows: a bug. The message stays generic (it could hold data
    that is not the client's to see); the log has the rest."""
    detail = "internal server error: the server's log has the details under this request_id"
    return _server_error(request, exc, HTTP_500_INTERNAL_SERVER_ERROR, detail)


def handle_http_error(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, object]]:
    """Litestar's own refusals (no such route, wrong method, a typed body or parameter that
    does not fit, a body too large) in the same format as the app's."""
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return _server_error(request, exc, exc.status_code, exc.detail)
    errors = _validation_errors(exc.extra) if isinstance(exc, ValidationException) else []
    response = problem(exc.status_code, exc.detail, errors)
    response.headers.update(exc.headers or {})
    return response


def _validation_errors(extra: object) -> list[FieldError]:
    """Litestar's `extra` ({"message", "key", "source"} each) as field problems; `data` is
    the body as a whole, and an unknown key is named as the field it is."""
    found: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            found.append(FieldError(None, str(item)))
            continue
        message, key = str(item.get("message", "")), item.get("key")
        if unknown := _UNKNOWN_FIELD.fullmatch(message):
            found.append(FieldError(unknown.group(1), "unknown field"))
        else:
            found.append(FieldError(None if key in (None, "data") else str(key), message))
    return found


def handle_data_error(
    request: Request[Any, Any, Any], exc: DataError
) -> Response[dict[str, object]]:
    """A value the database refused (a number beyond its column, say) that no check caught
    before: the request's fault, so a 422; logged with the request id, as a check is missing
    (server/input_limits.py)."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    log.warning("%s %s: the database refused a value (request_id %s)", request.method,
                request.url.path, request_id(request.scope), exc_info=exc)  # fmt: skip
    return problem(HTTP_422_UNPROCESSABLE_ENTITY, f"a value does not fit the database: {reason}")


def _server_error(
    request: Request[Any, Any, Any], exc: Exception, status: int, detail: str
) -> Response[dict[str, object]]:
    rid = request_id(request.scope)
    log.error("%s %s answered %d (request_id %s)", request.method, request.url.path, status, rid,
              exc_info=exc)  # fmt: skip
    return problem(status, detail, request_id=rid)


def handle_app_error(_: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, object]]:
    if isinstance(exc, InvalidInputError):
        first = str(exc).splitlines()[0]
        errors = [field_error(line, exc.source) for line in exc.errors]
        return problem(HTTP_422_UNPROCESSABLE_ENTITY, first, errors)
    if isinstance(exc, TooManyAttemptsError):
        response = problem(HTTP_429_TOO_MANY_REQUESTS, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    status = next((s for cls, s in _APP_STATUS.items() if isinstance(exc, cls)), HTTP_409_CONFLICT)
    return problem(status, str(exc))


_APP_STATUS: dict[type[AppError], int] = {
    NotFoundError: HTTP_404_NOT_FOUND,
    NotAuthorizedError: HTTP_401_UNAUTHORIZED,
    ForbiddenError: HTTP_403_FORBIDDEN,
}


EXCEPTION_HANDLERS = {
    HTTP_500_INTERNAL_SERVER_ERROR: handle_internal_error,  # any exception not an HTTP one
    DataError: handle_data_error,
    DrillsError: handle_drills_error,
    HardwareError: handle_hardware_error,
    AppError: handle_app_error,
    HTTPException: handle_http_error,  # ValidationException too: it is one
}
