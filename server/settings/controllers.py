"""Settings routes (coach only): thin, the logic is in server/settings/service.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, put
from sqlalchemy import Engine

from server.auth.guards import requires_coach
from server.settings.service import read_settings, update_settings


class SettingsController(Controller):
    path = "/api/settings"
    tags = ("settings",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=True)
    def get_settings(self, db_engine: Engine) -> dict[str, Any]:
        """{"public_names": "full" | "display" | "initials"}"""
        return read_settings(db_engine)

    @put("/", sync_to_thread=True)
    def put_settings(self, data: dict[str, Any], db_engine: Engine) -> dict[str, Any]:
        """Changes the keys given; an unknown key or value is refused with all problems."""
        return update_settings(db_engine, data)
