"""Public, read-only view of recent runs, so a page that (re)connects can catch up."""

from __future__ import annotations

from litestar import Controller, get
from sqlalchemy import Engine

from server.runs.queries import RecentRun, recent_runs


class RunsController(Controller):
    path = "/api/runs"
    tags = ("runs",)

    @get("/recent", sync_to_thread=True)
    def get_recent(
        self, db_engine: Engine, drill: str | None = None, limit: int = 20
    ) -> list[RecentRun]:
        """The latest reps, newest first, with their splits in seconds."""
        return recent_runs(db_engine, drill, max(1, min(limit, 200)))
