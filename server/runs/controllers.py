"""Read-only view of recent runs, so a page that (re)connects can catch up."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from sqlalchemy import Engine

from server.auth.guards import current_coach
from server.runs.queries import RecentRun, recent_runs


class RunsController(Controller):
    path = "/api/runs"
    tags = ("runs",)

    @get("/recent", sync_to_thread=True)
    def get_recent(
        self, request: Request[Any, Any, Any], db_engine: Engine, drill: str | None = None,
        limit: int = 20,
    ) -> list[RecentRun]:  # fmt: skip
        """The latest reps, newest first, with their splits in seconds. Names follow the
        privacy setting, except for a signed-in coach, who sees full names and athlete ids."""
        coach = current_coach(request) is not None
        return recent_runs(
            db_engine, drill, max(1, min(limit, 200)), names="full" if coach else None,
            with_ids=coach,
        )  # fmt: skip
