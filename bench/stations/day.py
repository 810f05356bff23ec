"""One server's testing day in the stations benchmark: its stations, the athletes' plan
sessions, and each athlete's beam edges sent as soon as a station arms them."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bench.common import JsonDict
from drills import Drill, StartType
from hardware.messages import EventKind
from hardware.sim.athlete import VirtualAthlete
from hardware.timebase import mono_us
from server.app import Services
from server.devices.layouts import binding_json
from server.runs.coordinator import ActiveRun, RunCoordinator
from server.sim.rig import SimRig
from server.sim.route import Crossing, route_crossings

TEAM: Final = "Stations bench"
POLL_S: Final = 0.01  # how often the harness looks for a newly armed athlete
LEAD_S: Final = 0.15  # from seeing an athlete armed to their first crossing, at the earliest
# How long a single clean break lasts: a body at the line holds a beam 60-300 ms.
CLEAR_S: Final = (0.06, 0.3)
# The passed athletes: a steady jogger (even pace), and one who sprints to the 10 m gate and
# then pulls up (walks in).
PASSED_KINDS: Final = ("steady-jog", "pulls-up")
SESSION_SLACK_S: Final = 30.0  # on top of each rep's share: a session past it is stuck
LAUNCH_WITHIN_S: Final = 10.0  # from scheduling a session to its runner going


@dataclass(frozen=True)
class StationsConfig:
    """What one run simulates (defaults: the figures in docs/BENCHMARKS.md)."""

    athletes: int = 40
    stations: int = 6  # the first N of STATION_DRILLS
    rounds: int = 2  # each group does one rep at a station per round, then moves on
    start_every_s: float = 5.0  # on the sprint lanes
    spacing_s: float = 4.0  # their minimum start spacing (the course refuses closer starts)
    slowest: float = 1.5  # athletes take 1 to `slowest` times the body model's time
    baseline_reps: int = 6  # the one-lane baseline (0: not run)
    overtakes: int = 4  # passed athletes in the overtakes scenario (0: not run)
    countdown_s: float = 1.0  # the plans' countdown, times time_scale
    time_scale: float = 0.2
    drift_ppm: float = 80.0
    settle: bool = True  # wait for every hub's clock rate before the first rep
    seed: int = 1


@dataclass(frozen=True)
class Profile:
    """How one athlete runs: `normal` at `factor` times the model's time, or passed after the
    10 m gate (`steady-jog`, `pulls-up`) with a 20 m time of `total_s`."""

    kind: str = "normal"
    factor: float = 1.0
    total_s: float = 0.0


@dataclass
class Rep:
    station: str
    athlete: str
    profile: Profile
    active: ActiveRun
    passes: list[tuple[str, int]]  # (role, true ns of its break), in route order


@dataclass
class Station:
    name: str
    drill: Drill
    overlap: bool
    rig: SimRig
    coordinator: RunCoordinator
    # (channel, true ns of a break) -> the rep and the index of its pass
    owner: dict[tuple[int, int], tuple[Rep, int]] = field(default_factory=dict)
    last_start_ns: int | None = None
    seen: set[int] = field(default_factory=set)
    laned: bool = False  # the coordinator really ran a shared course for this drill


@dataclass
class Feed:
    """A page on the live feed: when each message it cares about reached its queue."""

    messages: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (mono µs, msg)

    async def read(self, queue: asyncio.Queue[str | None]) -> None:
        kept = {"split", "flag", "start_refused", "crossing_unassigned"}
        while (text := await queue.get()) is not None:
            arrived = mono_us()
            message = json.loads(text)
            if message.get("type") in kept:
                self.messages.append((arrived, message))

    def of(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        return [(t, m) for t, m in self.messages if m.get("type") == kind]


class Day:
    """One server's testing day: its stations, the athletes' plans, and what was sent."""

    def __init__(
        self, services: Services, cfg: StationsConfig, team: dict[str, VirtualAthlete],
        profiles: dict[str, Profile], rng: random.Random,
    ) -> None:  # fmt: skip
        self.services = services
        self.cfg = cfg
        self.team = team
        self.profiles = profiles
        self.rng = rng
        self.stations: list[Station] = []
        self.reps: list[Rep] = []
        self.sessions: list[JsonDict] = []
        self.timed_from_ns = time.monotonic_ns()
        self.session_starts_ns: list[int] = []

    async def open(self, slug: str, overlap: bool, seed: int) -> None:
        drill = self.services.catalog.get(slug)
        if drill.start.type is not StartType.AUTO:
            raise ValueError(f"{slug}: the harness runs auto-start drills only")
        rig = await SimRig.start(
            self.services.devices, drill, seed=seed, drift_ppm=self.cfg.drift_ppm
        )
        bindings = {role: binding_json(b) for role, b in rig.layout.items()}
        spacing = self.cfg.spacing_s if overlap else 0.0
        station = self.services.stations.put(slug, bindings, spacing)
        self.stations.append(Station(slug, drill, overlap, rig, station.coordinator))

    # -- the athletes -------------------------------------------------------------------------

    async def watch(self) -> None:
        """Send each athlete off as soon as their station arms them."""
        while True:
            for station in self.stations:
                active = station.coordinator.active
                if active is not None and id(active) not in station.seen:
                    station.seen.add(id(active))  # the rep is kept in self.reps: ids stay unique
                    station.laned |= station.coordinator.lane is not None
                    self._send(station, active)
            await asyncio.sleep(POLL_S)

    @staticmethod
    def _times(crossings: Sequence[Crossing], profile: Profile) -> list[float]:
        """Seconds from setting off to each crossing, as this athlete runs."""
        times = [c.t_s * profile.factor for c in crossings]
        if profile.kind == PASSED_KINDS[0]:
            times = [0.0, profile.total_s / 2, profile.total_s]
        elif profile.kind == PASSED_KINDS[1]:  # their own sprint to the 10 m gate, then a walk
            times = [0.0, times[1], profile.total_s]
        return times

    def _send(self, station: Station, active: ActiveRun) -> None:
        drill, hub = station.drill, station.rig.hub
        profile = self.profiles.get(active.athlete, Profile())
        athlete = self.team[active.athlete]
        crossings = route_crossings(drill, athlete, self.rng)
        times = self._times(crossings, profile)
        set_off = time.monotonic_ns() + round(LEAD_S * 1e9)
        if station.overlap and station.last_start_ns is not None:
            set_off = max(set_off, station.last_start_ns + round(self.cfg.start_every_s * 1e9))
        rep = Rep(station.name, active.athlete, profile, active, [])
        for index, (crossing, t_s) in enumerate(zip(crossings, times, strict=True)):
            at_ns = set_off + round(t_s * 1e9)
            channel = station.rig.layout[crossing.role].channel
            # Speed at the line from the body model, slowed as this athlete's times are.
            pace = t_s / crossing.t_s if crossing.t_s > 0 else profile.factor
            speed = athlete.speed_at(crossing.t_s, crossing.backward) / max(pace, 1.0)
            clear_s = min(max(athlete.beam_clear_s(speed), CLEAR_S[0]), CLEAR_S[1])
            hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
            hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + round(clear_s * 1e9))
            station.owner[(channel, at_ns)] = (rep, index)
            rep.passes.append((crossing.role, at_ns))
        station.last_start_ns = rep.passes[0][1]
        self.reps.append(rep)

    # -- the sessions -------------------------------------------------------------------------

    async def rotate(self, groups: Sequence[Sequence[str]], rounds: int) -> None:
        """Group g is at station (g + r) mod N in round r; a station takes the next group
        once its own session and that group's previous one are over."""
        n = len(self.stations)
        done = {(g, r): asyncio.Event() for g in range(len(groups)) for r in range(rounds)}

        async def chain(s: int) -> None:
            for r in range(rounds):
                g = (s - r) % n
                if g >= len(groups):
                    continue
                if r > 0:
                    await done[(g, r - 1)].wait()
                if groups[g]:
                    await self._session(self.stations[s], list(groups[g]), r)
                done[(g, r)].set()

        await asyncio.gather(*(chain(s) for s in range(n)))

    async def _session(self, station: Station, athletes: list[str], round_: int) -> None:
        plans = self.services.plans
        self.session_starts_ns.append(time.monotonic_ns())
        plan_id = plans.create_plan_data({
            "name": f"{station.name} round {round_ + 1}", "team": TEAM,
            "countdown_s": self.cfg.countdown_s,
            "blocks": [{"drill": station.drill.slug, "athletes": athletes, "reps": 1,
                        "rest_s": 0}],
        })  # fmt: skip
        info = plans.schedule(plan_id, time_scale=self.cfg.time_scale, station=station.name)
        limit_s = len(athletes) * (self.cfg.start_every_s + station.drill.time_limit_us / 1e6)
        limit_s += SESSION_SLACK_S
        deadline = time.monotonic() + limit_s
        problem = None
        # Only in-memory state is polled: the harness must not load the server's database.
        runner = None
        launch_by = time.monotonic() + LAUNCH_WITHIN_S
        while runner is None and time.monotonic() < launch_by:
            runner = plans.runners.get(info.id)  # the scheduler's job launches it
            await asyncio.sleep(0.02)
        if runner is None or runner.task is None:
            problem = "never launched"
        else:
            task = runner.task
            while not task.done():
                if runner.paused:
                    problem = f"paused: {runner.reason}"
                elif time.monotonic() > deadline:
                    problem = f"not over after {limit_s:.0f} s"
                if problem is not None:
                    runner.abort(f"bench: {problem}")
                    break
                await asyncio.wait({task}, timeout=0.1)
        row = plans.store.session_row(info.id)
        self.sessions.append({
            "station": station.name, "round": round_ + 1, "athletes": len(athletes),
            "state": row.state, "problem": problem,
        })  # fmt: skip
