"""One place maps every layer's errors to HTTP status codes and plain messages."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.status_codes import (
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from drills import DrillFileError, DrillsError
from hardware.errors import DeviceNotReady, HardwareError


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
    _: Request[Any, Any, Any], exc: HardwareError
) -> Response[dict[str, object]]:
    status = HTTP_409_CONFLICT if isinstance(exc, DeviceNotReady) else HTTP_503_SERVICE_UNAVAILABLE
    return _error(status, str(exc))


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
    DrillsError: handle_drills_error,
    HardwareError: handle_hardware_error,
    AppError: handle_app_error,
}
