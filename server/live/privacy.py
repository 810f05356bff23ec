"""Athlete names in live messages, as the privacy setting allows: `/ws/live` is public.

Messages are built by the recorder and the plan runner with roster names; rewriting them once
in LiveHub.publish covers every client, the catch-up history and every message type, so no
producer has to remember. An `athlete` field is mapped whole; any other text (a plan's pause
reason names the athlete) has known full names replaced where they appear as words.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from server.db.models import Athlete
from server.settings import get_privacy, public_name

# The roster is re-read this often, and sooner (but not more than every RELOAD_MIN_S) when a
# message names someone it does not know; a name it does not know yet is shortened anyway.
ROSTER_TTL_S = 5.0
RELOAD_MIN_S = 0.5


class NameRedactor:
    """Callable that LiveHub applies to every message before numbering and sending it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._mode = ""
        self._loaded_mono = -ROSTER_TTL_S
        self._names: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    @property
    def mode(self) -> str:
        """The setting the last message was rewritten under (LiveHub keeps it per message)."""
        return self._mode

    def current_mode(self) -> str:
        return get_privacy(self.engine)

    def __call__(self, message: dict[str, Any]) -> dict[str, Any]:
        mode = get_privacy(self.engine)
        if mode == "full":
            self._mode = mode
            return message
        age = time.monotonic() - self._loaded_mono
        athlete = message.get("athlete")
        unknown = isinstance(athlete, str) and athlete not in self._names
        if mode != self._mode or age > ROSTER_TTL_S or (unknown and age > RELOAD_MIN_S):
            self._load(mode)
        rewritten = self._rewrite(message, "")
        assert isinstance(rewritten, dict)
        return rewritten

    def public(self, name: str) -> str:
        """A name the map does not know (not on the roster) is shortened all the same."""
        return self._names.get(name) or public_name(name, None, self._mode)

    def _load(self, mode: str) -> None:
        with Session(self.engine) as session:
            rows = session.exec(select(Athlete.name, Athlete.display_name)).all()
        names: dict[str, str] = {}
        for name, display in rows:
            shown = public_name(name, display, mode)
            # Two athletes of one name on two teams may have different display names; then
            # neither display name is right, and the shortened roster name is safe for both.
            if names.get(name, shown) != shown:
                shown = public_name(name, None, mode)
            names[name] = shown
        self._names = names
        hidden = sorted((n for n, shown in names.items() if shown != n), key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in hidden) + r")(?!\w)")
            if hidden
            else None
        )
        self._mode = mode
        self._loaded_mono = time.monotonic()

    def _rewrite(self, value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: self._rewrite(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._rewrite(v, key) for v in value]
        if isinstance(value, str):
            if key == "athlete":
                return self.public(value)
            if self._pattern is not None:
                return self._pattern.sub(lambda m: self.public(m.group(0)), value)
        return value
