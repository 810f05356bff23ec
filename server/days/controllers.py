"""Day plan routes: thin, the logic is in DayPlanService (server/days/service.py)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.auth.guards import requires_coach
from server.days.progress import DayPlanInfo, DayPlanSummary
from server.days.schemas import DayPlanBody
from server.days.service import DayPlanService


@dataclass
class NextRotationRequest:
    time_scale: float = 1.0
    """Rests and countdowns of the rotation's sessions are multiplied by this (tests and
    demos); 1 on a real field."""


class DayPlansController(Controller):
    path = "/api/days"
    tags = ("days",)
    guards = (requires_coach,)

    # On the loop (sync_to_thread=False), as the station routes: the plan runners live there.
    @get("/", sync_to_thread=False)
    def list_days(self, day_plans: DayPlanService) -> list[DayPlanSummary]:
        """Every day plan, newest first."""
        return day_plans.summaries()

    @post("/", sync_to_thread=False, status_code=HTTP_201_CREATED)
    def create_day(self, data: DayPlanBody, day_plans: DayPlanService) -> DayPlanInfo:
        """Store a day plan (nothing starts yet); 422 lists every problem with its field."""
        if isinstance(data.get("text"), str):
            return day_plans.create(data["text"], str(data.get("source") or "day plan"))
        return day_plans.create_data(data, "day plan")

    @get("/{day_id:int}", sync_to_thread=False)
    def get_day(self, day_id: int, day_plans: DayPlanService) -> DayPlanInfo:
        """The day with every rotation: which group is at which station, each session's state
        and reps done of its total, the current rotation and whether the day is finished."""
        return day_plans.get(day_id)

    @post("/{day_id:int}/next", sync_to_thread=False, status_code=HTTP_200_OK)
    def next_rotation(
        self, day_id: int, day_plans: DayPlanService, data: NextRotationRequest | None = None
    ) -> DayPlanInfo:
        """Start the next rotation now: a session per busy station, each station's drills for
        the group there. 409, naming the stations, while one is busy or missing, or when every
        rotation is done."""
        return day_plans.next_rotation(day_id, (data or NextRotationRequest()).time_scale)
