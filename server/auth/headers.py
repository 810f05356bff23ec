"""Security headers on every answer: pages, API, static files, errors (404s included).

A `before_send` hook of the app rather than a middleware: Litestar runs middleware only for
a route it found, and a 404 or 405 must carry the headers too. A header a route set itself
is kept (the station page's `Referrer-Policy: no-referrer`, the pages' CSP).

- `X-Content-Type-Options: nosniff`: a file is only ever what its Content-Type says.
- `Referrer-Policy: same-origin`: no other site learns the server's address or a page's URL.
- `Content-Security-Policy` with `frame-ancestors 'none'`: no other site frames a page to
  trick a click on it. A page keeps its own policy (server/pages.py); an HTML file under
  /static/ gets that same one; an API answer or a file gets `default-src 'none'`, as it runs
  nothing. The API docs at /schema get their own (server/api_docs.py): their viewer is
  served from the package and runs one inline script, allowed by its hash.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from server.api_docs import DOCS_CSP
from server.pages import CSP as PAGE_CSP

API_CSP = "default-src 'none'; frame-ancestors 'none'"
FRAME_CSP = "frame-ancestors 'none'"
REFERRER_POLICY = "same-origin"
API_DOCS_PATH = "/schema"  # server/api_docs.py DOCS_PATH


def _policy_for(scope: Scope, content_type: str) -> str:
    if not content_type.lower().startswith("text/html"):
        return API_CSP
    path = str(scope.get("path", ""))
    if path == API_DOCS_PATH or path.startswith(API_DOCS_PATH + "/"):
        return DOCS_CSP
    return PAGE_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's before_send hook; touches only the start of an HTTP answer."""
    if message["type"] != "http.response.start":
        return
    if "headers" not in message:
        message["headers"] = []
    headers = MutableScopeHeaders.from_message(message)
    if "x-content-type-options" not in headers:
        headers["X-Content-Type-Options"] = "nosniff"
    if "referrer-policy" not in headers:
        headers["Referrer-Policy"] = REFERRER_POLICY
    policy = headers.get("content-security-policy")
    if policy is None:
        headers["Content-Security-Policy"] = _policy_for(scope, headers.get("content-type") or "")
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {FRAME_CSP}"
