"""Club settings, stored as JSON in `appsetting`, read by every public page.

`public_names` says how athletes appear on pages anyone can open (board, TV, phones):
- `full`: the roster name as typed ("Ada Lind");
- `display` (default): the athlete's display name, or, when none is set, the first name and
  the initial of the last ("Ada L."), so leaving the field empty never shows a full name;
- `initials`: "A.L.", for younger squads or rehab groups.
The console, behind a login, always shows full names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from server.db.models import AppSetting, utc_now
from server.db.upsert import save_row
from server.errors import InvalidInputError

PUBLIC_NAMES_KEY = "public_names"
PUBLIC_NAMES_MODES = ("full", "display", "initials")
DEFAULT_PUBLIC_NAMES = "display"
KNOWN_KEYS = (PUBLIC_NAMES_KEY,)


def public_name(athlete_name: str, display_name: str | None, mode: str) -> str:
    """The name a public page may show; ValueError for a mode outside PUBLIC_NAMES_MODES."""
    words = athlete_name.split()
    if mode == "full":
        return " ".join(words)
    if mode == "display":
        if display_name and display_name.strip():
            return " ".join(display_name.split())
        if len(words) < 2:
            return " ".join(words)
        return f"{words[0]} {words[-1][0]}."
    if mode == "initials":
        return "".join(f"{word[0].upper()}." for word in words)
    raise ValueError(f"unknown public_names mode {mode!r}; use one of {PUBLIC_NAMES_MODES}")


def _read(engine: Engine, key: str, session: Session | None = None) -> Any:
    if session is None:
        with Session(engine) as own:
            return _read(engine, key, own)
    row = session.get(AppSetting, key)
    if row is None:
        return None
    try:
        return json.loads(row.value_json)
    except ValueError:
        return None


def get_privacy(engine: Engine, session: Session | None = None) -> str:
    """The stored mode; the default when unset or unreadable, so a page never fails on it.
    `session`: one the caller already holds, so a board reads it on the same connection."""
    value = _read(engine, PUBLIC_NAMES_KEY, session)
    return value if value in PUBLIC_NAMES_MODES else DEFAULT_PUBLIC_NAMES


def read_settings(engine: Engine) -> dict[str, Any]:
    return {PUBLIC_NAMES_KEY: get_privacy(engine)}


def update_settings(engine: Engine, data: Mapping[str, Any]) -> dict[str, Any]:
    """Checks every key before storing any, and says what is wrong with each."""
    problems = [f"{key}: unknown setting" for key in data if key not in KNOWN_KEYS]
    if PUBLIC_NAMES_KEY in data and data[PUBLIC_NAMES_KEY] not in PUBLIC_NAMES_MODES:
        shown = ", ".join(repr(m) for m in PUBLIC_NAMES_MODES)
        problems.append(f"{PUBLIC_NAMES_KEY}: must be one of {shown}")
    if problems:
        error = InvalidInputError("\n".join(["invalid settings", *problems]), problems)
        raise error
    for key in KNOWN_KEYS:
        if key in data:
            _write(engine, key, data[key])
    return read_settings(engine)


def _write(engine: Engine, key: str, value: Any) -> None:
    text = json.dumps(value)

    def fill(row: AppSetting) -> None:
        row.value_json, row.updated_wall = text, utc_now()

    if save_row(engine, lambda s: s.get(AppSetting, key) or AppSetting(key=key), fill) is None:
        raise RuntimeError(f"could not store setting {key!r}")
