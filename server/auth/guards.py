"""Who may call what (docs/CONSOLE-API.md, "Security model").

`requires_coach` goes on coach routes; `coach_policy` runs on every route of the app, so a
route added without a guard is still closed when it changes something or sits under /api/.
Both need SecurityMiddleware (server/auth/middleware.py), which hands them the AuthService.

A station link (server/auth/station_links.py) opens only the routes that say
opt={STATION_OPT: True} and carry the station's `{name}`, and only for its own station; on any
other coach route its holder gets a 403 naming the station, not the 401 that would ask a
phone at the side of a course for a coach's password.
"""

from __future__ import annotations

import hmac
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.service import ActiveSession, AuthService, CoachIdentity
from server.auth.station_links import (
    COOKIE_PREFIX,
    LinkGrant,
    StationLinkService,
    station_cookie,
)
from server.errors import ForbiddenError, NotAuthorizedError

__all__ = ["CoachIdentity", "coach_policy", "current_coach", "requires_coach", "requires_station"]

SESSION_COOKIE = "agility_session"
CSRF_COOKIE = "agility_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# GET routes under /api/ that anyone may read; their answers apply the privacy setting.
PUBLIC_API_PATHS = frozenset({"/api/drills", "/api/runs/recent", "/api/live/since", "/api/auth/me"})
PUBLIC_API_PREFIXES = ("/api/leaderboards/",)
# A route that must answer without a login (login itself) says so with opt={PUBLIC_OPT: True}.
PUBLIC_OPT = "agility_public"
# A route a station's link may call too, for the station its `{name}` path parameter names.
STATION_OPT = "agility_station"
# How many station cookies one request is checked for (a database read each): a phone runs
# one station, two at most; a request with a hundred is not worth a hundred reads.
MAX_LINK_COOKIES = 8

_AUTH_KEY = "agility.auth"
_SESSION_KEY = "agility.session"
_GRANTS_KEY = "agility.station_links"
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


def station_links(connection: ASGIConnection[Any, Any, Any, Any]) -> StationLinkService:
    auth = auth_service(connection)
    return StationLinkService(auth.engine, auth.clock)


def link_grants(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, LinkGrant]:
    """The stations the request's link cookies open now (unknown, revoked and expired keys
    left out), looked up once per request."""
    state = _state(connection)
    cached = state.get(_GRANTS_KEY)
    if cached is not None:
        return cast("dict[str, LinkGrant]", cached)
    links = station_links(connection)
    found: dict[str, LinkGrant] = {}
    named = [(k, v) for k, v in connection.cookies.items() if k.startswith(COOKIE_PREFIX)]
    for cookie, key in named[:MAX_LINK_COOKIES]:
        grant = links.grant(key)
        # A key only counts under its own station's cookie name.
        if grant is not None and cookie == station_cookie(grant.station):
            found[grant.station] = grant
    state[_GRANTS_KEY] = found
    return found


def _runs_only(held: dict[str, LinkGrant]) -> str:
    names = " and ".join(sorted(held))
    return f"this phone's station link runs station {names} only"


def forget_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """After logout, the rest of this request must not see the old login."""
    _state(connection)[_SESSION_KEY] = None


def current_coach(connection: ASGIConnection[Any, Any, Any, Any]) -> CoachIdentity | None:
    found = active_session(connection)
    return found.coach if found else None


def current_coach_id(connection: ASGIConnection[Any, Any, Any, Any]) -> int | None:
    """The id a correction or a flag decision is recorded under; None: nobody signed in."""
    coach = current_coach(connection)
    return None if coach is None else coach.id


def _method(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.scope.get("method", "GET")).upper()


def requires_coach(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler | None = None
) -> None:
    """401 without a valid login. A change must also carry this login's own CSRF token: the
    middleware has checked header against cookie, this checks the cookie was not swapped."""
    found = active_session(connection)
    if found is None:
        held = link_grants(connection)
        if held:
            raise ForbiddenError(f"{_runs_only(held)}: this needs a coach's login")
        raise NotAuthorizedError("log in as a coach first")
    if _method(connection) not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
            raise ForbiddenError("the CSRF token does not belong to this login; reload the page")


def requires_station(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler | None = None
) -> None:
    """A coach (as requires_coach), or a link for the station the route's `{name}` names.

    A link's POSTs have passed the middleware's double-submit CSRF check; there is no login
    token to bind them to, but the link's cookie is SameSite=Strict, so a page on another
    site cannot make the browser send it at all.
    """
    if active_session(connection) is not None:
        requires_coach(connection)
        return
    name = str(connection.path_params.get("name", ""))
    key = connection.cookies.get(station_cookie(name)) if name else None
    if key:
        grant = station_links(connection).grant(key)
        if grant is not None and grant.station == name:
            return
    held = link_grants(connection)
    if held:
        raise ForbiddenError(f"{_runs_only(held)}, not this one: open that station's own link")
    if key:
        raise NotAuthorizedError(
            f"the link for station {name} has expired or was revoked: ask the coach for a new one"
        )
    raise NotAuthorizedError("open the station link the coach gave you, or log in as a coach")


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
    if handler.opt.get(STATION_OPT):
        requires_station(connection, handler)
        return
    path = connection.scope.get("path", "/").rstrip("/") or "/"
    if not is_public(_method(connection), path):
        requires_coach(connection, handler)
