"""One place maps every layer's errors to HTTP status codes and plain messages.

A 5xx is the server's fault, not the request's: it is logged with its traceback under the
request's id (server/request_ids.py), and the answer carries that id in its body as well as
in its `X-Request-Id` header, so the log line can be found from what the coach saw.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
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

from drills import DrillFileError, DrillsError
from hardware.errors import DeviceNotReady, HardwareError
from server.request_ids import request_id

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of the server's own errors."""


class NotFoundError(AppError):
    """The thing asked for does not exist (a drill slug, an athlete)."""


class InvalidInputError(AppError):
    """What was sent cannot be used; `errors` lists every problem, one line each."""

    errors: list[str]


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


def _error(
    status: int, message: str, details: list[str] | None = None
) -> Response[dict[str, object]]:
    body: dict[str, object] = {"status_code": status, "detail": message}
    if details:
        body["errors"] = details
    return Response(body, status_code=status)


def handle_drills_error(_: Request[Any, Any, Any], exc: DrillsError) -> Response[dict[str, object]]:
    if isinstance(exc, DrillFileError):
        return _error(
            HTTP_422_UNPROCESSABLE_ENTITY, "invalid drill file", [str(e) for e in exc.errors]
        )
    return _error(HTTP_409_CONFLICT, str(exc))


def handle_hardware_error(
    request: Request[Any, Any, Any], exc: HardwareError
) -> Response[dict[str, object]]:
    if isinstance(exc, DeviceNotReady):
        return _error(HTTP_409_CONFLICT, str(exc))
    return _server_error(request, exc, HTTP_503_SERVICE_UNAVAILABLE, str(exc))


def handle_internal_error(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, object]]:
    """Anything no other handler knows: a bug. The message stays generic (it could hold data
    that is not the client's to see); the log has the rest."""
    detail = "internal server error: the server's log has the details under this request_id"
    return _server_error(request, exc, HTTP_500_INTERNAL_SERVER_ERROR, detail)


def handle_data_error(
    request: Request[Any, Any, Any], exc: DataError
) -> Response[dict[str, object]]:
    """A value the database refused (a number beyond its column, say) that no check caught
    before: the request's fault, so a 422; logged with the request id, as a check is missing
    (server/input_limits.py)."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    log.warning("%s %s: the database refused a value (request_id %s)", request.method,
                request.url.path, request_id(request.scope), exc_info=exc)  # fmt: skip
    return _error(HTTP_422_UNPROCESSABLE_ENTITY, f"a value does not fit the database: {reason}")


def _server_error(
    request: Request[Any, Any, Any], exc: Exception, status: int, detail: str
) -> Response[dict[str, object]]:
    rid = request_id(request.scope)
    log.error("%s %s answered %d (request_id %s)", request.method, request.url.path, status, rid,
              exc_info=exc)  # fmt: skip
    response = _error(status, detail)
    response.content["request_id"] = rid
    return response


def handle_app_error(_: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, object]]:
    if isinstance(exc, InvalidInputError):
        first = str(exc).splitlines()[0]
        return _error(HTTP_422_UNPROCESSABLE_ENTITY, first, list(getattr(exc, "errors", [])))
    if isinstance(exc, TooManyAttemptsError):
        response = _error(HTTP_429_TOO_MANY_REQUESTS, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    status = next((s for cls, s in _APP_STATUS.items() if isinstance(exc, cls)), HTTP_409_CONFLICT)
    return _error(status, str(exc))


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
}
