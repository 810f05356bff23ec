"""Plan routes: thin, the logic is in PlanService (server/plans/service.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK

from server.auth.guards import requires_coach
from server.plans.schemas import PlanBody
from server.plans.service import PlanService
from server.plans.store import PlanInfo, SessionInfo


@dataclass
class ScheduleRequest:
    at: datetime | None = None
    """UTC time to start (with its offset, e.g. 2026-12-01T16:00:00Z); None starts now."""
    time_scale: float = 1.0
    """Rests and countdowns are multiplied by this (tests and demos); 1 on a real field."""


@dataclass
class SwapRequest:
    athlete: str
    """Name of the athlete to put up next, as the plan names them."""


class PlansController(Controller):
    path = "/api/plans"
    tags = ("plans",)
    guards = (requires_coach,)

    @get("/", sync_to_thread=False)
    def list_plans(self, plan_service: PlanService) -> list[PlanInfo]:
        return plan_service.store.plans()

    @post("/", sync_to_thread=False)
    def create_plan(self, data: PlanBody, plan_service: PlanService) -> dict[str, int]:
        """Body: a plan as JSON, or {"text": "<TOML or JSON>", "source": "name for errors"}."""
        plans = plan_service
        if isinstance(data.get("text"), str):
            plan_id = plans.create_plan(data["text"], str(data.get("source") or "plan"))
        else:
            plan_id = plans.create_plan_data(data, "plan")
        return {"id": plan_id}

    @post("/{plan_id:int}/sessions", sync_to_thread=False, status_code=HTTP_200_OK)
    def schedule(
        self, plan_id: int, data: ScheduleRequest, plan_service: PlanService
    ) -> SessionInfo:
        """Start a session now, or plan it for `at`."""
        return plan_service.schedule(plan_id, data.at, data.time_scale)

    @get("/sessions", sync_to_thread=False)
    def list_sessions(
        self, plan_service: PlanService, session_state: str | None = None
    ) -> list[SessionInfo]:
        """Every session, or those in `session_state` (scheduled, running, paused, ...)."""
        return plan_service.store.sessions((session_state,) if session_state else None)

    @get("/sessions/{session_id:int}", sync_to_thread=False)
    def get_session(self, session_id: int, plan_service: PlanService) -> SessionInfo:
        """State and progress: reps done with their results, next athlete, countdown end."""
        return plan_service.store.session_info(session_id)

    @post("/sessions/{session_id:int}/pause", sync_to_thread=False, status_code=HTTP_200_OK)
    def pause(self, session_id: int, plan_service: PlanService) -> SessionInfo:
        return plan_service.pause(session_id)

    @post("/sessions/{session_id:int}/resume", sync_to_thread=False, status_code=HTTP_200_OK)
    def resume(self, session_id: int, plan_service: PlanService) -> SessionInfo:
        return plan_service.resume(session_id)

    @post("/sessions/{session_id:int}/go", sync_to_thread=False, status_code=HTTP_200_OK)
    def go(self, session_id: int, plan_service: PlanService) -> SessionInfo:
        """The coach's start for a coach-go drill (the big button): the clock starts now."""
        return plan_service.go(session_id)

    @post("/sessions/{session_id:int}/swap", sync_to_thread=False, status_code=HTTP_200_OK)
    def swap(self, session_id: int, data: SwapRequest, plan_service: PlanService) -> SessionInfo:
        """Put another athlete of the current block up next (they run before the others)."""
        return plan_service.swap(session_id, data.athlete)

    @post("/sessions/{session_id:int}/skip", sync_to_thread=False, status_code=HTTP_200_OK)
    def skip(self, session_id: int, plan_service: PlanService) -> SessionInfo:
        return plan_service.skip(session_id)

    @post("/sessions/{session_id:int}/abort", sync_to_thread=False, status_code=HTTP_200_OK)
    def abort(self, session_id: int, plan_service: PlanService) -> SessionInfo:
        return plan_service.abort(session_id)
