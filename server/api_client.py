"""A coach's signed-in HTTP client of a running server, for commands that take `--server URL`.

It does what the console does (web/static/js/api.js): a first GET hands out the
`agility_csrf` cookie, the login is POSTed with that cookie's value in `X-CSRF-Token`, and
every later request sends the session cookie back and the login's new token in the header
(server/auth/middleware.py). The coach's name comes from `--coach NAME` or $AGILITY_COACH,
the password from $AGILITY_PASSWORD; on a terminal, what is missing is asked. The password
is never an argument: it would sit in the shell history.
"""

from __future__ import annotations

import getpass
import http.cookiejar
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from server.errors import ConflictError, NotAuthorizedError, problem_line

COACH_ENV = "AGILITY_COACH"
PASSWORD_ENV = "AGILITY_PASSWORD"
CSRF_COOKIE = "agility_csrf"  # server/auth/guards.py
CSRF_HEADER = "X-CSRF-Token"
TIMEOUT_S = 10


@dataclass(frozen=True)
class Login:
    name: str
    password: str


def how_to_sign_in(server: str) -> str:
    return (
        f"{server} needs a coach's sign-in: pass --coach NAME (or set ${COACH_ENV}) and set "
        f"${PASSWORD_ENV} to the password, or run the command in a terminal to be asked"
    )


def login_from(
    server: str,
    coach: str | None,
    stdin: TextIO | None = None,
    ask_name: Callable[[str], str] = input,
    ask_password: Callable[[str], str] = getpass.getpass,
) -> Login:
    """The coach's name and password from the option, the environment or the terminal."""
    stdin = stdin or sys.stdin
    name = coach or os.environ.get(COACH_ENV, "")
    password = os.environ.get(PASSWORD_ENV, "")
    interactive = _isatty(stdin)
    if not name and interactive:
        name = ask_name(f"Coach's name at {server}: ").strip()
    if not password and interactive and name:
        password = ask_password(f"Password for {name}: ")
    if not name or not password:
        raise NotAuthorizedError(how_to_sign_in(server))
    return Login(name, password)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class ApiClient:
    """Signs in on the first call (asking `login` then), and stays signed in."""

    def __init__(self, server: str, login: Callable[[], Login]) -> None:
        self.server = server.rstrip("/")
        self._login = login
        self._cookies = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self._cookies)
        self._opener = urllib.request.build_opener(cookies)
        self._signed_in = False

    def call(self, method: str, path: str, body: Any = None) -> Any:
        if not self._signed_in:
            self.sign_in()
        return self._send(method, path, body)

    def sign_in(self) -> None:
        login = self._login()
        self._send("GET", "/api/auth/me")  # hands out the CSRF cookie
        try:
            self._send("POST", "/api/auth/login", {"name": login.name, "password": login.password})
        except NotAuthorizedError as exc:
            raise NotAuthorizedError(
                f"{self.server} refused the sign-in as {login.name!r}: {exc}"
            ) from None
        self._signed_in = True

    def _csrf(self) -> str:
        return next((c.value or "" for c in self._cookies if c.name == CSRF_COOKIE), "")

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method not in ("GET", "HEAD", "OPTIONS"):
            headers[CSRF_HEADER] = self._csrf()
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=TIMEOUT_S) as res:
                return json.loads(res.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise _error(exc) from None
        except urllib.error.URLError as exc:
            raise ConflictError(f"no server at {self.server}: {exc.reason}") from None


def _error(exc: urllib.error.HTTPError) -> Exception:
    try:
        detail = json.loads(exc.read() or b"{}")
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    lines = [str(detail.get("detail", exc.reason)), *map(problem_line, detail.get("errors", []))]
    message = "\n  ".join(lines)
    if exc.code == 401:
        return NotAuthorizedError(message)
    return ConflictError(message)
