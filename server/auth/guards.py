"""Who may call what (docs/CONSOLE-API.md, "Security model").

`requires_coach` goes on coach routes; `coach_policy` runs on every route of the app, so a
route added without a guard is still closed when it changes something or sits under /api/.
Both need SecurityMiddleware (server/auth/middleware.py), which hands them the AuthService.
"""

from __future__ import annotations

import hmac
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.service import ActiveSession, AuthService, CoachIdentity
from server.errors import ForbiddenError, NotAuthorizedError

__all__ = ["CoachIdentity", "coach_policy", "current_coach", "requires_coach"]

SESSION_COOKIE = "agility_session"
CSRF_COOKIE = "agility_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# GET routes under /api/ that anyone may read; their answers apply the privacy setting.
PUBLIC_API_PATHS = frozenset({"/api/drills", "/api/runs/recent", "/api/live/since", "/api/auth/me"})
PUBLIC_API_PREFIXES = ("/api/leaderboards/",)
# A route that must answer without a login (login itself) says so with opt={PUBLIC_OPT: True}.
PUBLIC_OPT = "agility_public"

_AUTH_KEY = "agility.auth"
_SESSION_KEY = "agility.session"
_UNSET = object()


def _state(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    return connection.scope.setdefault("state", {})


def attach_auth(scope: Any, auth: AuthService) -> None:
    """Called by the middleware for each request, before any guard."""
    scope.setdefault("state", {})[_AUTH_KEY] = auth


def auth_service(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthService:
    auth = _state(connection).get(_AUTH_KEY)
    if not isinstance(auth, AuthService):
        raise RuntimeError("SecurityMiddleware is not installed on this app")
    return auth


def active_session(connection: ASGIConnection[Any, Any, Any, Any]) -> ActiveSession | None:
    """The request's login, looked up once per request."""
    state = _state(connection)
    cached = state.get(_SESSION_KEY, _UNSET)
    if cached is not _UNSET:
        return cast("ActiveSession | None", cached)
    token = connection.cookies.get(SESSION_COOKIE)
    found = auth_service(connection).session(token) if token else None
    state[_SESSION_KEY] = found
    return found


def forget_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """After logout, the rest of this request must not see the old login."""
    _state(connection)[_SESSION_KEY] = None


def current_coach(connection: ASGIConnection[Any, Any, Any, Any]) -> CoachIdentity | None:
    found = active_session(connection)
    return found.coach if found else None


def _method(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.scope.get("method", "GET")).upper()


def requires_coach(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler | None = None
) -> None:
    """401 without a valid login. A change must also carry this login's own CSRF token: the
    middleware has checked header against cookie, this checks the cookie was not swapped."""
    found = active_session(connection)
    if found is None:
        raise NotAuthorizedError("log in as a coach first")
    if _method(connection) not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
            raise ForbiddenError("the CSRF token does not belong to this login; reload the page")


def is_public(method: str, path: str) -> bool:
    if method not in SAFE_METHODS:
        return False
    if method == "OPTIONS" or not (path == "/api" or path.startswith("/api/")):
        return True
    return path in PUBLIC_API_PATHS or path.startswith(PUBLIC_API_PREFIXES)


def coach_policy(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: every change and every /api/ read not listed as public needs a coach."""
    if handler.opt.get(PUBLIC_OPT):
        return
    path = connection.scope.get("path", "/").rstrip("/") or "/"
    if not is_public(_method(connection), path):
        requires_coach(connection, handler)
