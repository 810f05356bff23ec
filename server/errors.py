"""One place maps every layer's errors to HTTP status codes and plain messages."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
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
    status = HTTP_404_NOT_FOUND if isinstance(exc, NotFoundError) else HTTP_409_CONFLICT
    return _error(status, str(exc))


EXCEPTION_HANDLERS = {
    DrillsError: handle_drills_error,
    HardwareError: handle_hardware_error,
    AppError: handle_app_error,
}
