"""Auth routes: thin, the logic is in AuthService (server/auth/service.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.auth.guards import (
    PUBLIC_OPT,
    SESSION_COOKIE,
    auth_service,
    current_coach,
    forget_session,
)
from server.auth.middleware import csrf_cookie, session_cookie
from server.auth.service import NewLogin


@dataclass
class Credentials:
    name: str
    password: str


def _client_host(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _logged_in(login: NewLogin, status: int) -> Response[dict[str, Any]]:
    # The CSRF token changes with each login, so one planted before it is worth nothing.
    return Response(
        {"coach": login.coach.as_json()},
        status_code=status,
        cookies=[session_cookie(login.token), csrf_cookie(login.csrf_token)],
    )


# Open without a login; the middleware's CSRF check still applies to the POSTs.
PUBLIC = {PUBLIC_OPT: True}


class AuthController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @get("/me", sync_to_thread=False, opt=PUBLIC)
    def me(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Who is logged in, and whether the first coach still has to be made."""
        coach = current_coach(request)
        return {
            "coach": coach.as_json() if coach else None,
            "setup_needed": auth_service(request).setup_needed(),
        }

    @post("/setup", sync_to_thread=True, opt=PUBLIC, status_code=HTTP_201_CREATED)
    def setup(self, request: Request[Any, Any, Any], data: Credentials) -> Response[dict[str, Any]]:
        """The first coach; answers only a request from localhost while no coach exists."""
        login = auth_service(request).setup(data.name, data.password, _client_host(request))
        return _logged_in(login, HTTP_201_CREATED)

    @post("/login", sync_to_thread=True, opt=PUBLIC, status_code=HTTP_200_OK)
    def login(self, request: Request[Any, Any, Any], data: Credentials) -> Response[dict[str, Any]]:
        """401 for a wrong name or password alike; 429 with Retry-After while this
        client address must wait (server/auth/ratelimit.py); never 429 on the laptop."""
        login = auth_service(request).login(data.name, data.password, _client_host(request))
        return _logged_in(login, HTTP_200_OK)

    @post("/logout", sync_to_thread=False, opt=PUBLIC, status_code=HTTP_204_NO_CONTENT)
    def logout(self, request: Request[Any, Any, Any]) -> Response[None]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            auth_service(request).logout(token)
        forget_session(request)
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
