"""Writes runs, splits and raw device events, and announces them once they are committed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from drills import RunOutcome, SplitResult
from drills.crossing import Detected
from drills.timing import elapsed_us
from hardware.device import DeviceEvent
from server.db.models import Athlete, CourseFlag, Team, utc_now
from server.db.models import Crossing as CrossingRow
from server.db.models import DeviceEvent as DeviceEventRow
from server.db.models import Drill as DrillRow
from server.db.models import Run as RunRow
from server.db.models import Split as SplitRow
from server.errors import NotFoundError
from server.leaderboard import summary as board_summary
from server.live.hub import LiveHub
from server.live.messages import LiveType


def seconds(us: int | None) -> float | None:
    return None if us is None else us / 1_000_000


def first_break_lead_us(found: Detected) -> int:
    """How much earlier the first break the rule weighed was than the crossing it chose: what
    first-break would have timed instead (0 when they are the same edge)."""
    first = next((e for e in found.edges if e.broken), found.chosen)
    return elapsed_us(first.at, found.chosen.at)


def edges_json(found: Detected) -> str:
    """The edges a crossing weighed, as the `crossing` table keeps them:
    [[device, boot, seq, beam, broken], ...] in arrival order."""
    edges = [[*(e.ref or ("", 0, 0)), e.beam, e.broken] for e in found.edges]
    return json.dumps(edges, separators=(",", ":"))


def crossing_note(found: Detected) -> dict[str, Any]:
    """A crossing for the live feed and the run view: the rule, and what it overruled."""
    return {
        "rule": found.trigger.value,
        "first_break_lead_ms": round(first_break_lead_us(found) / 1000, 1),
        "edges": len(found.edges),
    }


# The station of reps that name none (the lane of before): one spelling for every layer.
MAIN_STATION = "main"
# A rep the server was timing when it stopped without closing it (a crash, a power cut): it
# keeps its number and its splits, shows in run lists and reports, and never counts.
INTERRUPTED = "interrupted"
UNCLOSED_STATES = ("armed", "waiting_cue", "running")


class RunRecorder:
    """Every write commits before anything is published: a phone never shows a lost split."""

    def __init__(self, engine: Engine, live: LiveHub, station: str | None = None) -> None:
        self.engine = engine
        self.live = live
        # The station whose reps this recorder opens (None: the main one); every live
        # message about a rep names it, so boards can show one station.
        self.station = station

    @property
    def station_name(self) -> str:
        return self.station or MAIN_STATION

    def for_station(self, station: str) -> RunRecorder:
        """The same database and feed, for the reps of another station."""
        return RunRecorder(self.engine, self.live, station)

    def ensure_team(self, name: str) -> int:
        with Session(self.engine) as session:
            team = session.exec(select(Team).where(Team.name == name)).first()
            if team is None:
                team = Team(name=name)
                session.add(team)
                session.commit()
                session.refresh(team)
            assert team.id is not None
            return team.id

    def ensure_athlete(self, team_id: int, name: str) -> int:
        with Session(self.engine) as session:
            athlete = session.exec(
                select(Athlete).where(Athlete.team_id == team_id, Athlete.name == name)
            ).first()
            if athlete is None:
                athlete = Athlete(team_id=team_id, name=name)
                session.add(athlete)
                session.commit()
                session.refresh(athlete)
            assert athlete.id is not None
            return athlete.id

    def drill_id(self, slug: str) -> int:
        with Session(self.engine) as session:
            row = session.exec(select(DrillRow).where(DrillRow.slug == slug)).first()
            if row is None or row.id is None:
                raise NotFoundError(f"drill {slug!r} is not in the database; sync the catalog")
            return row.id

    def athletes_with_bib(self, teammate_id: int, bib: int) -> list[tuple[int, str]]:
        """(id, name) of every athlete on `teammate_id`'s team wearing squad number `bib`,
        archived ones left out: a Timy set to start numbers names athletes by it."""
        with Session(self.engine) as session:
            teammate = session.get(Athlete, teammate_id)
            if teammate is None:
                return []
            rows = session.exec(
                select(Athlete).where(
                    Athlete.team_id == teammate.team_id,
                    Athlete.squad_number == bib,
                    Athlete.archived == False,  # noqa: E712 (a SQL expression)
                )
            ).all()
            return [(a.id, a.name) for a in rows if a.id is not None]

    def count_runs(self, slug: str, athlete_id: int) -> int:
        with Session(self.engine) as session:
            drill_id = self.drill_id(slug)
            query = (
                select(func.count())
                .select_from(RunRow)
                .where(RunRow.drill_id == drill_id, RunRow.athlete_id == athlete_id)
            )
            return int(session.exec(query).one())

    def close_orphans(self) -> int:
        """At server start no rep can be under way: close those left open by a crash as
        interrupted (the next rep of the athlete still takes the next number); how many."""
        with Session(self.engine) as session:
            orphans = session.exec(
                select(RunRow.id, RunRow.drill_id, RunRow.athlete_id).where(
                    col(RunRow.state).in_(UNCLOSED_STATES)
                )
            ).all()
            if not orphans:
                return 0
            session.exec(
                update(RunRow)
                .where(col(RunRow.id).in_([run_id for run_id, _, _ in orphans]))
                .values(state=INTERRUPTED, reason="the server stopped during the rep",
                        finished_wall=utc_now())
            )  # fmt: skip
            board_summary.refresh(session, sorted({(d, a) for _, d, a in orphans}))
            session.commit()
        return len(orphans)

    def open_run(
        self, drill_id: int, athlete_id: int, rep: int, *, familiarisation: bool = False,
        plan_session_id: int | None = None,
    ) -> int:  # fmt: skip
        with Session(self.engine) as session:
            run = RunRow(
                drill_id=drill_id, athlete_id=athlete_id, rep=rep, state="running",
                familiarisation=familiarisation, plan_session_id=plan_session_id,
                station=self.station,
            )  # fmt: skip
            session.add(run)
            session.commit()
            session.refresh(run)
            assert run.id is not None
            return run.id

    def add_split(
        self, run_id: int, position: int, split: SplitResult, context: dict[str, Any],
        final: bool, reaction_us: int | None = None, crossing: Detected | None = None,
    ) -> None:  # fmt: skip
        """Store a split and announce it; `crossing`: how its end was found, for the run view."""
        with Session(self.engine) as session:
            session.add(
                SplitRow(
                    run_id=run_id, position=position, name=split.name, from_role=split.from_role,
                    to_role=split.to_role, distance_m=split.distance_m,
                    elapsed_us=split.elapsed_us, reaction_us=reaction_us,
                    cross_device_error_us=split.cross_device_error_us, manual=split.manual,
                    coarse=split.coarse,
                )
            )  # fmt: skip
            session.commit()
        self.live.publish(
            {
                "type": LiveType.SPLIT, **context, "station": self.station_name, "run_id": run_id,
                "position": position,
                "split": split.name, "elapsed_s": seconds(split.elapsed_us),
                "distance_m": split.distance_m, "final": final,
                "cross_device_error_s": seconds(split.cross_device_error_us),
                "manual": split.manual, "coarse": split.coarse,
                "crossing": None if crossing is None else crossing_note(crossing),
            }
        )  # fmt: skip

    def add_flag(self, flag: CourseFlag) -> int:
        """Keep a doubtful crossing of an overlapping course for the coach; its id."""
        flag.station = self.station
        with Session(self.engine) as session:
            session.add(flag)
            session.commit()
            assert flag.id is not None
            return flag.id

    def add_crossings(self, run_id: int, crossings: list[tuple[str, Detected]]) -> None:
        """Keep how each gate role's crossing of the rep was found."""
        if not crossings:
            return
        with Session(self.engine) as session:
            for role, found in crossings:
                device, boot_id, seq = found.chosen.ref or ("", 0, 0)
                session.add(
                    CrossingRow(
                        run_id=run_id, role=role, trigger=found.trigger.value,
                        at_mono_us=found.at.mono_us, device=device, boot_id=boot_id, seq=seq,
                        edges_json=edges_json(found),
                        first_break_lead_us=first_break_lead_us(found),
                    )
                )  # fmt: skip
            session.commit()

    def close_run(self, run_id: int, outcome: RunOutcome, context: dict[str, Any]) -> None:
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            assert run is not None
            run.state = outcome.state.value
            run.reason = outcome.reason
            run.total_us = outcome.total_us
            run.reaction_us = outcome.reaction_us
            run.movement_us = outcome.movement_us
            run.finished_wall = utc_now()
            # A hand time in any split (a Timy keypad impulse) makes the rep a hand time, so
            # boards and reports mark it as they mark a time typed in by a coach.
            marks = session.exec(
                select(SplitRow.manual, SplitRow.cross_device_error_us).where(
                    SplitRow.run_id == run_id
                )
            ).all()
            run.manual = run.manual or any(manual for manual, _ in marks)
            run.cross_device_error_us = max(
                (bound for _, bound in marks if bound is not None), default=None
            )
            session.add(run)
            manual, bound_us = run.manual, run.cross_device_error_us
            board_summary.refresh(session, [(run.drill_id, run.athlete_id)])
            session.commit()
        self.live.publish(
            {
                "type": LiveType.RUN, **context, "station": self.station_name, "run_id": run_id,
                "state": outcome.state.value,
                "total_s": seconds(outcome.total_us), "reason": outcome.reason,
                "reaction_s": seconds(outcome.reaction_us),
                "movement_s": seconds(outcome.movement_us),
                "manual": manual, "cross_device_error_s": seconds(bound_us),
            }
        )  # fmt: skip

    def attach_event(self, event: DeviceEvent, run_id: int) -> None:
        """Link an already stored raw event to the run it started."""
        with Session(self.engine) as session:
            row = session.exec(
                select(DeviceEventRow).where(
                    DeviceEventRow.device == event.device,
                    DeviceEventRow.boot_id == event.boot_id,
                    DeviceEventRow.seq == event.seq,
                )
            ).first()
            if row is not None:
                row.run_id = run_id
                session.add(row)
                session.commit()

    def store_device_event(self, event: DeviceEvent, run_id: int | None) -> bool:
        """Append a raw event; False if (device, boot, seq) is already stored (a replay)."""
        with Session(self.engine) as session:
            session.add(
                DeviceEventRow(
                    device=event.device, boot_id=event.boot_id, seq=event.seq,
                    channel=event.channel, kind=event.kind.name.lower(), ticks=event.ticks,
                    tick_hz_est=event.tick_hz_est, mapped_mono_us=event.mono_us,
                    received_mono_us=event.received_mono_us, run_id=run_id,
                    by_receipt=event.by_receipt, manual=event.manual, coarse=event.coarse,
                )
            )  # fmt: skip
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True
