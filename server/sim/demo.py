"""Demo mode: a squad of virtual athletes runs backward sprints and sprints through simulated
gates, on two stations at once.

Sessions a coach starts from the console run too, on a rig of their own with virtual
athletes named after the roster (server/sim/plans.py). The squad keeps out of a coach's way:
it starts no rep on a station while a session runs there or is due within COACH_CLEARANCE_S,
and its reps are guests of the lane (a coach's rep armed meanwhile voids the squad's).

Each lane's gates are a simulated rig (server/sim/rig.py): a timing hub on a pseudo-terminal,
driven by the real driver, so the demo
exercises the same path as a coach's USB gates: pty, protocol, clock sync, engine, storage,
live feed. APScheduler decides when the next rep starts; the device clock times it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hardware.device_ports import DevicePorts
from hardware.sim.athlete import VirtualAthlete, make_team
from server.catalog.service import Catalog
from server.devices.layouts import binding_json
from server.runs.coordinator import RunCoordinator
from server.sim.reps import schedule_rep
from server.sim.rig import SimRig
from server.stations.registry import MAIN, Stations

log = logging.getLogger(__name__)

DEMO_TEAM = "Demo Squad"
DEMO_DRILL = "backward-sprint-10m"
# The second station of the demo's testing day.
SECOND_STATION = "sprint-lane"
SECOND_DRILL = "sprint-20m"
SQUAD_SIZE = 12
REP_EVERY_S = 4.0
# A session due this soon on a station holds the squad off it: its first rep must find the
# lane free.
COACH_CLEARANCE_S = 15.0
BOUNCE_PROB = 0.15
JOB_ID = "demo:next-rep"


@dataclass
class _Lane:
    """One course of the demo: a station, its drill, its own simulated rig and coordinator."""

    station: str
    coordinator: RunCoordinator
    offset: int  # where in the squad this lane's rotation begins
    rig: SimRig
    reps_started: int = 0

    @property
    def job_id(self) -> str:
        return f"{JOB_ID}:{self.station}"


class Demo:
    """The squad runs on two stations at once, as on a testing day: the main one (backward
    sprints) and a second one (forward sprints), each on its own simulated rig."""

    def __init__(
        self,
        catalog: Catalog,
        coordinator: RunCoordinator,
        devices: DevicePorts,
        scheduler: AsyncIOScheduler,
        seed: int,
        busy: Callable[[str | None, float], bool] = lambda _station, _within_s: False,
        stations: Stations | None = None,
    ) -> None:
        self.catalog = catalog
        self.devices = devices
        self.scheduler = scheduler
        self.rng = random.Random(seed)
        self.seed = seed
        self.squad: list[tuple[VirtualAthlete, int]] = []
        self.stations = stations
        # Whether a coach's session runs on a station (None: the main one) or is due within
        # the seconds given: the squad's lane there waits.
        self.busy = busy
        self.coordinator = coordinator
        self.lanes: list[_Lane] = []
        self.recorder = coordinator.recorder

    async def start(self) -> None:
        team_id = self.recorder.ensure_team(DEMO_TEAM)
        self.squad = [
            (athlete, self.recorder.ensure_athlete(team_id, athlete.name))
            for athlete in make_team(SQUAD_SIZE, self.rng)
        ]
        courses = [(MAIN, DEMO_DRILL, self.coordinator, 0)]
        if self.stations is not None:
            # Bound below, once its rig is up; the station itself is the coach's to change.
            station = self.stations.put(SECOND_STATION, {}, 0.0)
            courses.append((SECOND_STATION, SECOND_DRILL, station.coordinator, SQUAD_SIZE // 2))
        for i, (name, slug, coordinator, offset) in enumerate(courses):
            # Whole bodies on the lane (hands and heels before the torso), timed as our gates
            # are by default: the longest break (server/devices/gate_rules.py).
            rig = await SimRig.start(
                self.devices, self.catalog.get(slug), self.seed + i, bodies=True,
                gate_defaults=True,
            )  # fmt: skip
            lane = _Lane(name, coordinator, offset, rig)
            self.lanes.append(lane)
            if name == MAIN:
                coordinator.layout.update(rig.layout)
            elif self.stations is not None:
                self.stations.put(name, {r: binding_json(b) for r, b in rig.layout.items()}, 0.0)
            self.scheduler.add_job(
                self._next_rep, "interval", args=[lane], seconds=REP_EVERY_S, id=lane.job_id,
                replace_existing=True, next_run_time=datetime.now(UTC), max_instances=1,
                coalesce=True,
            )  # fmt: skip
            log.info("demo: %d athletes on %s at station %s via %s", len(self.squad),
                     slug, name, rig.hub.port)  # fmt: skip

    async def _next_rep(self, lane: _Lane) -> None:
        rig, coordinator = lane.rig, lane.coordinator
        station = None if lane.station == MAIN else lane.station
        if coordinator.current is not None:
            return
        if self.busy(station, COACH_CLEARANCE_S):
            return
        if coordinator.layout != rig.layout:
            # A coach's session on the plans' simulated rig bound the lane elsewhere.
            coordinator.layout.clear()
            coordinator.layout.update(rig.layout)
        index = (lane.offset + lane.reps_started) % len(self.squad)
        athlete, athlete_id = self.squad[index]
        rep = coordinator.recorder.count_runs(rig.drill.slug, athlete_id) + 1
        lane.reps_started += 1
        coordinator.begin(rig.drill, athlete_id, athlete.name, rep, start_within_s=3.0,
                          guest=True)  # fmt: skip
        schedule_rep(rig.hub, rig.drill, rig.layout, athlete, self.rng, lead_s=0.3,
                     bounce_prob=BOUNCE_PROB, bodies=rig.bodies)  # fmt: skip

    async def stop(self) -> None:
        for lane in self.lanes:
            if self.scheduler.get_job(lane.job_id) is not None:
                self.scheduler.remove_job(lane.job_id)
            lane.rig.stop()
        self.lanes = []
