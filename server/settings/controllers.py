"""Settings routes (coach only): thin, the logic is in server/settings/service.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, put
from msgspec import UNSET, Struct, UnsetType
from sqlalchemy import Engine

from server.auth.guards import requires_coach
from server.bodies import given
from server.settings.service import read_settings, update_settings


class SettingsBody(Struct, forbid_unknown_fields=True):
    """PUT /api/settings: the keys given change; the others keep their value."""

    public_names: str | UnsetType = UNSET
    """How public pages name athletes: "full", "display" or "initials" (checked by the
    service, with its message)."""


class SettingsController(Controller):
    path = "/api/settings"
    tags = ("settings",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=True)
    def get_settings(self, db_engine: Engine) -> dict[str, Any]:
        """{"public_names": "full" | "display" | "initials"}"""
        return read_settings(db_engine)

    @put("/", sync_to_thread=True)
    def put_settings(self, data: SettingsBody, db_engine: Engine) -> dict[str, Any]:
        """Changes the keys given; an unknown key (400) or value (422) is refused."""
        return update_settings(db_engine, given(data))
