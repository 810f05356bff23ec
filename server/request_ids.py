"""A request id on every answer (`X-Request-Id`), the same one a failure's log line carries.

A coach who reports "it said 500" can read the id off the answer (its header, and the 500's
body) and the server's log has the traceback under that same id. A reverse proxy that sends
an `X-Request-Id` of its own keeps it, when it is a plain short token; anything else is
replaced by a new one, so nothing a client sends ends up raw in the log.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, cast

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

REQUEST_ID_HEADER = "X-Request-Id"
_STATE_KEY = "agility_request_id"
_HEADER = REQUEST_ID_HEADER.lower().encode()
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(scope: Scope) -> str:
    """This request's id: the proxy's, else made on first use; the same for the whole request
    (the error handler and the hook that adds the header both ask)."""
    state = cast("dict[str, Any]", scope).setdefault("state", {})
    found = state.get(_STATE_KEY)
    if isinstance(found, str):
        return found
    headers = scope.get("headers", [])
    sent = next((bytes(v).decode("latin-1") for k, v in headers if k.lower() == _HEADER), "")
    made = sent if _SANE.fullmatch(sent) else secrets.token_hex(8)
    state[_STATE_KEY] = made
    return made


async def add_request_id(message: Message, scope: Scope) -> None:
    """The app's before_send hook: the header on every HTTP answer, 404s and errors too."""
    if message["type"] != "http.response.start":
        return
    if "headers" not in message:
        message["headers"] = []
    headers = MutableScopeHeaders.from_message(message)
    headers[REQUEST_ID_HEADER] = request_id(scope)
