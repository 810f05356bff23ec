"""Demo mode: a squad of virtual athletes runs backward sprints through simulated gates.

Sessions a coach starts from the console run too, on a second simulated hub with virtual
athletes named after the roster (server/plans/sim.py); the squad pauses while they do.

The gates are a simulated hub on a pseudo-terminal, driven by the real driver, so the demo
exercises the same path as a coach's USB gates: pty, protocol, clock sync, engine, storage,
live feed. APScheduler decides when the next rep starts; the device clock times it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hardware.sim.athlete import VirtualAthlete, make_team
from server.catalog.service import Catalog
from server.devices import gate_rules
from server.devices.service import DeviceManager
from server.runs.coordinator import RunCoordinator
from server.simulation import SimRig, schedule_rep

log = logging.getLogger(__name__)

DEMO_TEAM = "Demo Squad"
DEMO_DRILL = "backward-sprint-10m"
SQUAD_SIZE = 12
REP_EVERY_S = 4.0
BOUNCE_PROB = 0.15
JOB_ID = "demo:next-rep"


class Demo:
    def __init__(
        self,
        catalog: Catalog,
        coordinator: RunCoordinator,
        devices: DeviceManager,
        scheduler: AsyncIOScheduler,
        seed: int,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.catalog = catalog
        self.coordinator = coordinator
        self.devices = devices
        self.scheduler = scheduler
        self.rng = random.Random(seed)
        self.seed = seed
        self.rig: SimRig | None = None
        self.squad: list[tuple[VirtualAthlete, int]] = []
        self.reps_started = 0
        # True while a coach's session runs (console or plan): the squad waits its turn.
        self.busy = busy

    async def start(self) -> None:
        drill = self.catalog.get(DEMO_DRILL)
        # Whole bodies on the lane (hands and heels before the torso), timed as our gates are
        # by default: the longest break (server/devices/gate_rules.py).
        self.rig = await SimRig.start(self.devices, drill, self.seed, bodies=True)
        self.rig.layout = gate_rules.choose(
            drill, self.rig.layout, {self.rig.key: self.rig.session.devices[0].info}
        )
        self.coordinator.layout.update(self.rig.layout)
        recorder = self.coordinator.recorder
        team_id = recorder.ensure_team(DEMO_TEAM)
        self.squad = [
            (athlete, recorder.ensure_athlete(team_id, athlete.name))
            for athlete in make_team(SQUAD_SIZE, self.rng)
        ]
        self.scheduler.add_job(
            self._next_rep, "interval", seconds=REP_EVERY_S, id=JOB_ID, replace_existing=True,
            next_run_time=datetime.now(UTC), max_instances=1, coalesce=True,
        )  # fmt: skip
        log.info("demo: %d athletes on %s via %s", len(self.squad), DEMO_DRILL, self.rig.hub.port)

    async def _next_rep(self) -> None:
        rig = self.rig
        if rig is None or self.coordinator.current is not None or self.busy():
            return
        # A session on the other simulated hub may have bound the lane elsewhere.
        self.coordinator.layout.clear()
        self.coordinator.layout.update(rig.layout)
        athlete, athlete_id = self.squad[self.reps_started % len(self.squad)]
        rep = self.coordinator.recorder.count_runs(rig.drill.slug, athlete_id) + 1
        self.reps_started += 1
        self.coordinator.begin(rig.drill, athlete_id, athlete.name, rep, start_within_s=3.0)
        schedule_rep(rig.hub, rig.drill, rig.layout, athlete, self.rng, lead_s=0.3,
                     bounce_prob=BOUNCE_PROB, bodies=rig.bodies)  # fmt: skip

    async def stop(self) -> None:
        if self.scheduler.get_job(JOB_ID) is not None:
            self.scheduler.remove_job(JOB_ID)
        if self.rig is not None:
            self.rig.stop()
            self.rig = None
