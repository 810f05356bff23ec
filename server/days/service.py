"""Day plans: store one, show its progress, and start its rotations one after the other.

A rotation starts only when the coach asks (POST /api/days/{id}/next), never by itself: on a
field groups run late, and the head coach sends them on when every station is free. Starting
a rotation stores one plan per busy station (the station's drills for the group there) and
runs each on its station at once, through PlanService like any station session, so pause,
skip, check-in and the station pages work on it as on any other.

It is refused, naming the stations, while a station of the day still has a session
scheduled, running or paused (the day's or another), or when a station of the day does not
exist: a half-started rotation would send a group to a station that cannot take it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine

from server.catalog.service import Catalog
from server.days.definition import DayDefinition, parse_day, parse_day_text
from server.days.progress import DayPlanInfo, DayPlanSummary, day_info, summary
from server.days.rotation import assignments
from server.days.store import DayPlanStore
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.plans.service import PlanService
from server.stations.registry import MAIN, Stations

log = logging.getLogger(__name__)


def _invalid(field: str, problem: str) -> InvalidInputError:
    error = InvalidInputError(f"invalid {field}", [f"{field}: {problem}"])
    return error


class DayPlanService:
    def __init__(
        self, engine: Engine, plans: PlanService, stations: Stations, catalog: Catalog,
        today: Callable[[], date] = date.today,
    ) -> None:  # fmt: skip
        self.store = DayPlanStore(engine)
        self.plans = plans
        self.stations = stations
        self.catalog = catalog
        self.today = today

    # -- creating and reading ---------------------------------------------------------------

    def create(self, text: str, source: str = "day plan") -> DayPlanInfo:
        """From a file's text (TOML, or JSON)."""
        day = parse_day_text(text, source, self.catalog, self.today())
        return self.get(self.store.add(day))

    def create_data(self, data: Any, source: str = "day plan") -> DayPlanInfo:
        """From the keys of a day plan (a JSON body)."""
        day = parse_day(data, source, self.catalog, self.today())
        return self.get(self.store.add(day))

    def summaries(self) -> list[DayPlanSummary]:
        """Every day plan, newest first."""
        return [summary(row) for row in self.store.rows()]

    def get(self, day_id: int) -> DayPlanInfo:
        row = self.store.row(day_id)
        day = DayDefinition.from_json(row.definition_json)
        return day_info(row, self.store.sessions(day_id), self.refusal(day, row.rotation))

    # -- rotations --------------------------------------------------------------------------

    def refusal(self, day: DayDefinition, current: int) -> str | None:
        """Why the rotation after `current` cannot start now; None if it can."""
        if current >= day.rotations:
            return f"all rotations done ({day.rotations} of {day.rotations}) for {day.name!r}"
        names = [s.station for s in day.stations]
        missing = []
        for name in names:
            try:
                self.stations.get(name)
            except NotFoundError:
                missing.append(name)
        if missing:
            return (
                f"no station {', '.join(missing)}: create "
                f"{'it' if len(missing) == 1 else 'them'} (console, Devices tab, Stations) "
                "before the rotation starts"
            )
        busy = {b.station: f"{b.station} (session {b.session_id} {b.state})"
                for b in self.store.busy(names)}  # fmt: skip
        for name in names:  # a runner ending right now may not have written its state yet
            if name not in busy and self.plans.running_on(None if name == MAIN else name):
                busy[name] = f"{name} (a session is running)"
        if busy:
            waiting = ", ".join(busy[n] for n in names if n in busy)
            return (
                f"stations still busy: {waiting}; rotation {current + 1} starts when every "
                "station of the day is free (its session finished or aborted)"
            )
        return None

    def next_rotation(self, day_id: int, time_scale: float = 1.0) -> DayPlanInfo:
        """Start the next rotation on every busy station of it, now."""
        row = self.store.row(day_id)  # 404 first
        if not (math.isfinite(time_scale) and 0 < time_scale <= 1):
            raise _invalid("time_scale", f"must be above 0 and at most 1, not {time_scale}")
        day = DayDefinition.from_json(row.definition_json)
        problem = self.refusal(day, row.rotation)
        if problem is not None:
            raise ConflictError(f"day plan {day_id}: {problem}")
        rotation = row.rotation + 1
        # Every station's drills must run on its devices before any session starts: a
        # rotation half started would send a group to a station that cannot take it.
        slots = assignments(day, rotation)
        unfit = []
        for slot in slots:
            station = None if slot.station == MAIN else slot.station
            coordinator = self.plans.coordinator_of(station)
            problem = self.plans.problems(slot.plan, station, coordinator)
            if problem is not None:
                unfit.append(f"{slot.station}: {problem}")
        if unfit:
            raise ConflictError(
                f"day plan {day_id}: rotation {rotation} cannot start: " + "; ".join(unfit)
            )
        if not self.store.claim_rotation(day_id, row.rotation):
            raise ConflictError(f"day plan {day_id}: rotation {rotation} was started meanwhile")
        for slot in slots:
            plan_id = self.plans.store.add_plan(slot.plan)
            station = None if slot.station == MAIN else slot.station
            info = self.plans.schedule(plan_id, None, time_scale, station)
            self.store.tag_session(info.id, day_id, rotation)
            log.info("day plan %d rotation %d: group %s on station %s (session %d)",
                     day_id, rotation, slot.group.name, slot.station, info.id)  # fmt: skip
        return self.get(day_id)
