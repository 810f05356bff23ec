"""What a day plan's page shows: per rotation, which group is at which station and how far its
session is, read from the day's plansession rows alone (so it is the same after a restart).

Reps done and the total come from the session's progress (server/plans/runner.py saves
`index`, reps done or passed over, and `total`); before a session has started, the total is
the plan's own count (every drill's reps for every athlete of the group).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from server.days.definition import DayDefinition
from server.days.rotation import assignments
from server.days.store import ACTIVE_STATES
from server.db.models import DayPlan, PlanSession
from server.stations.registry import MAIN

IDLE = "idle"  # a station no group is at in this rotation
NOT_STARTED = "not started"  # the rotation has not begun


@dataclass
class StationSlot:
    station: str
    group: str | None
    """The group at this station in this rotation; null: the station is idle."""
    athletes: list[str]
    session_id: int | None
    """The session the rotation started here; null before it starts (or when idle)."""
    state: str
    """The session's state (scheduled, running, paused, finished, aborted, missed), or
    "not started", or "idle"."""
    done: int | None
    """Reps done or passed over; null when idle."""
    total: int | None
    """Reps in the station's plan for this group; null when idle."""


@dataclass
class RotationProgress:
    rotation: int
    state: str
    """pending (not begun), running (a session is scheduled, running or paused), done."""
    stations: list[StationSlot]


@dataclass
class GroupInfo:
    name: str
    athletes: list[str]


@dataclass
class DayPlanSummary:
    id: int
    name: str
    day: str
    """The club's day, an ISO date."""
    rotation: int
    """The last rotation started; 0: none yet."""
    rotations: int
    """One per station: every group visits every station once."""
    created_wall: str


@dataclass
class DayPlanInfo:
    id: int
    name: str
    day: str
    team: str
    rotation: int
    """The current rotation: the last one started; 0 before the first."""
    rotations: int
    finished: bool
    """Every rotation started and none of its sessions still scheduled, running or paused."""
    next_refused: str | None
    """Why POST .../next would be refused now (a station busy or missing, all rotations
    done); null when the next rotation can start."""
    stations: list[str]
    """In rotation order; "main" is the main station."""
    groups: list[GroupInfo]
    progress: list[RotationProgress]
    """Every rotation, the first first."""
    created_wall: str
    updated_wall: str


def summary(row: DayPlan) -> DayPlanSummary:
    assert row.id is not None
    day = DayDefinition.from_json(row.definition_json)
    return DayPlanSummary(row.id, row.name, row.day, row.rotation, day.rotations,
                          row.created_wall.isoformat())  # fmt: skip


def day_info(row: DayPlan, sessions: list[PlanSession], next_refused: str | None) -> DayPlanInfo:
    """The page's view of a day from its row and the sessions it started."""
    assert row.id is not None
    day = DayDefinition.from_json(row.definition_json)
    # (rotation, station) -> the session started there; the last one if ever two.
    started = {(s.rotation, s.station or MAIN): s for s in sessions}
    rotations = [_rotation(day, r, row.rotation, started) for r in range(1, day.rotations + 1)]
    finished = row.rotation >= day.rotations and all(r.state == "done" for r in rotations)
    return DayPlanInfo(
        id=row.id, name=row.name, day=row.day, team=day.team, rotation=row.rotation,
        rotations=day.rotations, finished=finished, next_refused=next_refused,
        stations=[s.station for s in day.stations],
        groups=[GroupInfo(g.name, list(g.athletes)) for g in day.groups],
        progress=rotations, created_wall=row.created_wall.isoformat(),
        updated_wall=row.updated_wall.isoformat(),
    )  # fmt: skip


def _rotation(
    day: DayDefinition, rotation: int, current: int,
    started: dict[tuple[int | None, str], PlanSession],
) -> RotationProgress:  # fmt: skip
    by_station = {a.station: a for a in assignments(day, rotation)}
    slots: list[StationSlot] = []
    for station in day.stations:
        name = station.station
        a = by_station.get(name)
        if a is None:
            slots.append(StationSlot(name, None, [], None, IDLE, None, None))
            continue
        planned = sum(b.reps for b in a.plan.blocks) * len(a.group.athletes)
        row = started.get((rotation, name))
        if row is None:
            slots.append(StationSlot(name, a.group.name, list(a.group.athletes), None,
                                     NOT_STARTED, 0, planned))  # fmt: skip
            continue
        progress = json.loads(row.progress_json or "{}")
        done = progress.get("index")
        total = progress.get("total")
        slots.append(StationSlot(
            name, a.group.name, list(a.group.athletes), row.id, row.state,
            int(done) if isinstance(done, int) else 0,
            int(total) if isinstance(total, int) else planned,
        ))  # fmt: skip
    busy = [s for s in slots if s.group is not None]
    if rotation > current:
        state = "pending"
    elif any(s.state in ACTIVE_STATES for s in busy):
        state = "running"
    else:
        state = "done"
    return RotationProgress(rotation, state, slots)
