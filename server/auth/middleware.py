"""CSRF by double-submit cookie, the client's real address, and the AuthService for the guards.

A page on another site can make the browser send our cookies but cannot read them, so it
cannot copy `agility_csrf` into the `X-CSRF-Token` header. Every POST, PUT, PATCH and DELETE
must carry that header equal to the cookie (login and setup too); the guard then also checks
the token against the one stored with the login. WebSockets only read, and pass untouched.

Before anything reads the client's address, a request that came through a reverse proxy the
coach named (server/auth/forwarded.py) gets the address the proxy saw; with none named, the
default, X-Forwarded-For is ignored.

Litestar's own CSRFConfig would need a signing secret to keep somewhere and knows nothing of
the token bound to a login, hence this small class.
"""

from __future__ import annotations

import hmac

from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.auth.forwarded import TrustedProxies, apply_forwarded
from server.auth.guards import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    attach_auth,
)
from server.auth.service import AuthService, new_token
from server.errors import ForbiddenError


def csrf_cookie(value: str) -> Cookie:
    """Readable by the pages' scripts (not HttpOnly) so they can echo it in the header."""
    return Cookie(key=CSRF_COOKIE, value=value, path="/", samesite="strict", httponly=False)


def session_cookie(value: str) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=value, path="/", samesite="strict", httponly=True)


def station_link_cookie(name: str, value: str, max_age: int) -> Cookie:
    """A station link's key, for that station's routes (server/auth/station_links.py):
    HttpOnly so no script reads it, Strict so no other site's page makes the browser send it,
    and gone when the link expires."""
    return Cookie(
        key=name, value=value, path="/", samesite="strict", httponly=True, max_age=max_age
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        if key.lower() != b"cookie":
            continue
        for part in bytes(value).decode("latin-1").split(";"):
            name, sep, val = part.strip().partition("=")
            if sep and name not in found:
                found[name] = val.strip().strip('"')
    return found


class SecurityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(self, auth: AuthService, proxies: TrustedProxies | None = None) -> None:
        self.auth = auth
        self.proxies = proxies or TrustedProxies()

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        apply_forwarded(scope, self.proxies)
        attach_auth(scope, self.auth)
        if scope["type"] != ScopeType.HTTP:
            await next_app(scope, receive, send)
            return
        cookies = _cookies(scope)
        sent_cookie = cookies.get(CSRF_COOKIE, "")
        if scope.get("method", "GET").upper() not in SAFE_METHODS:
            header = _header(scope, CSRF_HEADER.encode()) or ""
            if not header or not sent_cookie:
                raise ForbiddenError(
                    "missing CSRF token: send the agility_csrf cookie's value in the "
                    "X-CSRF-Token header (load any page first to get the cookie)"
                )
            if not hmac.compare_digest(header.encode(), sent_cookie.encode()):
                raise ForbiddenError(
                    "the X-CSRF-Token header does not match the agility_csrf cookie"
                )
        if sent_cookie:
            await next_app(scope, receive, send)
            return
        token = self._token_for(cookies.get(SESSION_COOKIE))
        header_pair = csrf_cookie(token).to_encoded_header()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append(header_pair)
                message = {**message, "headers": headers}
            await send(message)

        await next_app(scope, receive, send_with_cookie)

    def _token_for(self, session_token: str | None) -> str:
        """A browser that lost only its CSRF cookie gets its login's token back, not a new
        one the guard would refuse."""
        if session_token:
            found = self.auth.session(session_token)
            if found is not None:
                return found.csrf_token
        return new_token()
