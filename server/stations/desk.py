"""What is done at one station, without HTTP: its state, check-in by tag, and the controls of
the session running there.

The assistant's phone (with a station link, server/auth/station_links.py) and the coach both
come here. Every control goes through PlanService, the code behind the console's session
routes (a check-in is a swap), so a queue moves the same way whoever pressed the button.

A tag nobody has is not lost: each station keeps the tags it could not place, until a coach
attaches them, and the coach sees them in the station's state. They are stored (table
`unknowntag`), so a blank card read before a restart can still be attached after it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from server.db.models import Athlete, utc_now
from server.db.models import UnknownTag as UnknownTagRow
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.plans.runner import Phase, PlanRunner
from server.plans.service import PlanService
from server.plans.store import SessionInfo, SessionState
from server.roster.fields import check_tag
from server.roster.service import UnknownTagError, find_by_tag
from server.stations.registry import MAIN, Stations

# Unknown tags kept per station: enough for a squad's worth of blank cards, and a bound on
# what a reader stuck in a loop can fill memory with.
MAX_UNKNOWN_TAGS = 50
MAX_ATHLETE_NAME = 100


@dataclass
class UnknownTag:
    tag: str
    """As the roster would store it (trimmed, upper-case): what the coach attaches."""
    first_wall: datetime
    last_wall: datetime
    reads: int
    """How many times it was read here."""


@dataclass
class StationState:
    station: dict[str, Any]
    """As GET /api/stations/{name} gives it: name, bindings, start spacing and `on_course`
    (athlete, drill, rep; null between reps)."""
    session: SessionInfo | None
    """The session running (or paused) on this station; its `progress` has `next` (up next,
    or on course while `phase` is running), `queue`, `done` (every rep with its state and
    times), `phase` and `countdown_end_wall`. Null when none is."""
    upcoming: SessionInfo | None
    """The next session planned on this station, while none is running."""
    unknown_tags: list[UnknownTag]
    """Tags read here that no athlete has (newest last), until a coach attaches them."""


@dataclass
class CheckinResult:
    athlete: str
    team: str
    message: str
    """For the assistant, e.g. "Bo Berg is up next"."""
    state: StationState


def _invalid(field: str, problem: str) -> InvalidInputError:
    error = InvalidInputError(f"invalid {field}", [f"{field}: {problem}"])
    return error


def check_athlete_name(value: str) -> str:
    """A name to swap in, as the plan names athletes: bounded, printable, one line."""
    name = value.strip()
    if not 1 <= len(name) <= MAX_ATHLETE_NAME:
        raise _invalid("athlete", f"1 to {MAX_ATHLETE_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise _invalid("athlete", "must not contain control characters")
    return name


class StationDesk:
    def __init__(
        self, plans: PlanService, stations: Stations, engine: Engine,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:  # fmt: skip
        self.plans = plans
        self.stations = stations
        self.engine = engine
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------

    def state(self, name: str) -> StationState:
        info = self.stations.info(self.stations.get(name))
        session = self._live_session(name)
        return StationState(
            station=info, session=session,
            upcoming=None if session is not None else self._upcoming(name),
            unknown_tags=self._unknown_tags(name),
        )  # fmt: skip

    def _runner(self, name: str) -> PlanRunner | None:
        for runner in self.plans.runners.values():
            if (runner.station or MAIN) == name:
                return runner
        return None

    def running(self, name: str) -> PlanRunner:
        """The runner of the station's session; 409 when none is going."""
        self.stations.get(name)  # 404 for an unknown station first
        runner = self._runner(name)
        if runner is None:
            raise ConflictError(f"no session running on station {name}")
        return runner

    def _live_session(self, name: str) -> SessionInfo | None:
        runner = self._runner(name)
        if runner is not None:
            return self.plans.store.session_info(runner.session_id)
        # Paused by a restart: no runner until someone resumes it.
        live = (SessionState.RUNNING.value, SessionState.PAUSED.value)
        found = [s for s in self.plans.store.sessions(live) if s.station == name]
        return found[-1] if found else None

    def _upcoming(self, name: str) -> SessionInfo | None:
        planned = [
            s for s in self.plans.store.sessions((SessionState.SCHEDULED.value,))
            if s.station == name
        ]  # fmt: skip
        return min(planned, key=lambda s: s.scheduled_wall or "", default=None)

    def _unknown_tags(self, name: str) -> list[UnknownTag]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(UnknownTagRow).where(UnknownTagRow.station == name)
                .order_by(col(UnknownTagRow.last_wall), col(UnknownTagRow.id))
            ).all()  # fmt: skip
            if not rows:
                return []
            # Attached since it was read: the coach has dealt with it.
            attached = set(
                session.exec(
                    select(Athlete.tag).where(col(Athlete.tag).in_([r.tag for r in rows]))
                ).all()
            )
            if attached:
                session.exec(
                    delete(UnknownTagRow).where(
                        col(UnknownTagRow.station) == name,
                        col(UnknownTagRow.tag).in_(list(attached)),
                    )
                )
                session.commit()
            return [
                UnknownTag(r.tag, r.first_wall, r.last_wall, r.reads)
                for r in rows if r.tag not in attached
            ]  # fmt: skip

    def _remember(self, name: str, tag: str) -> None:
        now = self.clock()
        with Session(self.engine) as session:
            row = session.exec(
                select(UnknownTagRow).where(UnknownTagRow.station == name, UnknownTagRow.tag == tag)
            ).first()
            if row is None:
                row = UnknownTagRow(station=name, tag=tag, first_wall=now, last_wall=now, reads=0)
            row.last_wall, row.reads = now, row.reads + 1
            session.add(row)
            session.commit()
            # Bounded: a reader stuck in a loop fills a page, not the disk.
            stale = session.exec(
                select(UnknownTagRow.id).where(UnknownTagRow.station == name)
                .order_by(col(UnknownTagRow.last_wall).desc(), col(UnknownTagRow.id).desc())
                .offset(MAX_UNKNOWN_TAGS)
            ).all()  # fmt: skip
            if stale:
                session.exec(delete(UnknownTagRow).where(col(UnknownTagRow.id).in_(list(stale))))
                session.commit()

    # -- check-in ---------------------------------------------------------------------------

    def checkin(self, name: str, raw_tag: str) -> CheckinResult:
        """The tag's athlete goes up next in the station's session (a swap)."""
        self.stations.get(name)
        tag = check_tag(raw_tag)  # 422 naming `tag` for a long one or a control character
        try:
            athlete = find_by_tag(self.engine, tag)
        except UnknownTagError:
            self._remember(name, tag)
            raise NotFoundError(
                f"tag {tag} is not on the roster: ask the coach to attach it"
            ) from None
        runner = self.running(name)
        names = sorted({n for (_block, n), i in runner.athlete_ids.items() if i == athlete.id})
        if not names:
            raise ConflictError(
                f"{athlete.name} ({athlete.team}) is not in the plan running on station {name} "
                f"({runner.plan.name}): send them to their own station, or ask the coach"
            )
        who = names[0]
        on_course = runner.phase is Phase.RUNNING and runner.index < len(runner.steps)
        if on_course and runner.steps[runner.index].athlete == who:
            message = f"{who} is on course now"
        else:
            info = self.plans.swap(runner.session_id, who)
            progress = info.progress
            ahead = (progress.get("next") or {}).get("athlete")
            if progress.get("phase") == Phase.RUNNING.value and ahead and ahead != who:
                message = f"{who} is up next, after {ahead}"
            else:
                message = f"{who} is up next"
        return CheckinResult(athlete.name, athlete.team, message, self.state(name))

    # -- controls ---------------------------------------------------------------------------

    def pause(self, name: str) -> StationState:
        self.plans.pause(self.running(name).session_id)
        return self.state(name)

    def resume(self, name: str) -> StationState:
        self.stations.get(name)
        runner = self._runner(name)
        if runner is not None:
            self.plans.resume(runner.session_id)
        else:
            paused = self._live_session(name)
            if paused is None or paused.state != SessionState.PAUSED.value:
                raise ConflictError(f"no session running on station {name}")
            self.plans.resume(paused.id)  # paused by a restart: picks up where it was
        return self.state(name)

    def skip(self, name: str) -> StationState:
        """Voids the rep on course, or passes over the athlete up next."""
        self.plans.skip(self.running(name).session_id)
        return self.state(name)

    def go(self, name: str) -> StationState:
        """The start of a coach-go drill: the clock starts now."""
        self.plans.go(self.running(name).session_id)
        return self.state(name)

    def swap(self, name: str, athlete: str) -> StationState:
        who = check_athlete_name(athlete)
        self.plans.swap(self.running(name).session_id, who)
        return self.state(name)

    def void(self, name: str, run_id: int | None = None) -> StationState:
        """Voids a rep under way (a false start, a slip); the session goes on with the next
        athlete. Unlike skip, never passes over anyone. On a course that takes several
        athletes at once, `run_id` says whose rep; without it, the only one under way."""
        runner = self.running(name)
        coordinator = runner.coordinator
        reason = f"voided at station {name}"
        if coordinator.series is not None:  # a pod series or an interval block: one at a time
            if run_id is not None or coordinator.series.plan_session_id != runner.session_id:
                raise ConflictError(f"no such rep under way on station {name}")
            coordinator.void(reason)
            return self.state(name)
        under_way = [a for a in coordinator.on_course() if a.plan_session_id == runner.session_id]
        if run_id is not None:
            chosen = next((a for a in under_way if a.run_id == run_id), None)
            if chosen is None:
                raise ConflictError(f"run {run_id} is not under way on station {name}")
        elif not under_way:
            raise ConflictError(f"nobody is on course on station {name}: no rep to void")
        elif len(under_way) > 1:
            names = ", ".join(a.athlete for a in under_way)
            raise ConflictError(
                f"{len(under_way)} athletes are on course on station {name} ({names}): "
                "say whose rep to void (run_id)"
            )
        else:
            chosen = under_way[0]
        coordinator.void_run(chosen, reason)
        return self.state(name)
