"""The stations benchmark in one call: each scenario on a fresh server, then the targets
(see bench/stations/)."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Final

from bench.common import JsonDict, wait_clocks
from bench.gc_passes import full_collections
from bench.stations.day import PASSED_KINDS, Day, Feed, Profile, StationsConfig
from bench.stations.figures import LATENCY_TARGET_MS, figures, overtake_figures
from hardware.sim.athlete import VirtualAthlete, make_team
from server.app import build_services
from server.config import Settings
from server.db.session import migrate
from server.heap import settle_heap

# The testing day's stations in rotation order, and whether each lets the next athlete start
# before the last has finished. Sprint lanes alternate with one-at-a-time drills, so each
# group moves from one kind to the other, and two stations (the smoke test) are one of each.
STATION_DRILLS: Final = (
    ("sprint-20m", True),
    ("505-left", False),
    ("backward-sprint-20m", True),
    ("backpedal-turn-sprint", False),
    ("sprint-10m", True),
    ("505-right", False),
)
OVERTAKE_DRILL: Final = "sprint-20m"  # start, 10 m gate, finish: passes after the 10 m gate
# A passed athlete's 20 m time: slow enough that the athlete who set off 5 s later reaches the
# finish well ahead (more than the 0.5 s re-arm, so the gate sees both), inside the 10 s limit.
PASSED_TOTAL_S: Final = (9.3, 9.7)


def _athletes(count: int, rng: random.Random) -> dict[str, VirtualAthlete]:
    return {f"Athlete {i + 1:02d}": a for i, a in enumerate(make_team(count, rng))}


def _groups(names: list[str], n: int) -> list[list[str]]:
    size, extra = divmod(len(names), n)
    out, at = [], 0
    for g in range(n):
        take = size + (g < extra)
        out.append(names[at : at + take])
        at += take
    return out


async def _scenario(
    name: str, cfg: StationsConfig, tmp: str, drills: Sequence[tuple[str, bool]],
    groups: list[list[str]], rounds: int, team: dict[str, VirtualAthlete],
    profiles: dict[str, Profile], overtakes: bool = False,
) -> JsonDict:  # fmt: skip
    started = time.monotonic()
    db = os.path.join(tmp, f"{name}.db")
    migrate(db)
    services = build_services(Settings(db=db))
    services.scheduler.start()
    queue = services.live.subscribe()
    feed = Feed()
    reader = asyncio.create_task(feed.read(queue))
    day = Day(services, cfg, team, profiles, random.Random(f"stations:{cfg.seed}:{name}:route"))
    watcher: asyncio.Task[None] | None = None
    try:
        for i, (slug, overlap) in enumerate(drills):
            await day.open(slug, overlap, seed=cfg.seed * 1000 + i)
        settle_s = 0.0
        if cfg.settle:
            keys = [s.rig.key for s in day.stations]
            settle_s = await wait_clocks(services.devices, keys, settle=True)
        # As `agility serve` does before it serves: the start-up heap out of the collector's way.
        settle_heap()
        watcher = asyncio.create_task(day.watch())
        day.timed_from_ns = time.monotonic_ns()
        cpu0, wall0 = time.process_time(), time.monotonic()
        with full_collections() as collections:
            await day.rotate(groups, rounds)
            await asyncio.sleep(0.2)  # the last messages through the queue
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        out = figures(day, feed, collections)
        if overtakes:
            out.update(overtake_figures(day, feed))
    finally:
        if watcher is not None:
            watcher.cancel()
        await services.plans.stop()
        services.scheduler.shutdown(wait=False)
        await services.devices.close_all()
        for station in day.stations:
            station.rig.stop()
        services.live.unsubscribe(queue)
        queue.put_nowait(None)
        await reader
        services.engine.dispose()
        gc.unfreeze()  # the next scenario's server is built afresh: let this one's go
    out.update({
        "settle_s": round(settle_s, 1), "timed_s": round(wall, 1),
        "cpu_percent": round(100 * cpu / wall) if wall > 0 else None,
        "duration_s": round(time.monotonic() - started, 1),
    })  # fmt: skip
    return out


async def _bench(cfg: StationsConfig) -> JsonDict:
    rng = random.Random(f"stations:{cfg.seed}")
    drills = STATION_DRILLS[: cfg.stations]
    team = _athletes(cfg.athletes, rng)
    names = list(team)
    profiles = {n: Profile(factor=rng.uniform(1.0, cfg.slowest)) for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        main = await _scenario(
            "stations", cfg, tmp, drills, _groups(names, len(drills)), cfg.rounds, team, profiles
        )
        baseline = None
        if cfg.baseline_reps:
            lane = [d for d in drills if d[1]][:1] or [(OVERTAKE_DRILL, True)]
            group = names[: cfg.baseline_reps]
            baseline = await _scenario("baseline", cfg, tmp, lane, [group], 1, team, profiles)
        overtakes = None
        if cfg.overtakes:
            passing = _athletes(2 * cfg.overtakes, random.Random(f"stations:{cfg.seed}:pass"))
            order, chosen = list(passing), {}
            for i in range(cfg.overtakes):
                kind = PASSED_KINDS[i % len(PASSED_KINDS)]
                chosen[order[2 * i]] = Profile(kind, total_s=rng.uniform(*PASSED_TOTAL_S))
                chosen[order[2 * i + 1]] = Profile("overtaker", factor=1.0)
            overtakes = await _scenario(
                "overtakes", cfg, tmp, [(OVERTAKE_DRILL, True)], [order], 1, passing, chosen,
                overtakes=True,
            )  # fmt: skip
    return {
        "config": {**asdict(cfg), "drills": [list(d) for d in drills]},
        "stations": main,
        "baseline": baseline,
        "overtakes": overtakes,
    }


def targets(result: JsonDict) -> JsonDict:
    """The issue's targets for the six-station scenario, each with whether it was met."""
    main = result["stations"]
    p99 = main["latency"]["p99_ms"]
    clean = (
        main["wrong_assignments"] == 0 and main["crossings_missing"] == 0
        and main["splits_off_truth"] == 0 and not main["not_finished"]
    )  # fmt: skip
    return {
        "assigned_correctly": {"wrong": main["wrong_assignments"], "met": clean},
        "split_to_phone_p99": {
            "max_ms": LATENCY_TARGET_MS, "measured_ms": p99,
            "met": p99 is not None and p99 <= LATENCY_TARGET_MS,
        },
        "no_flags_or_refusals": {
            "flags": main["flags"], "refused": main["refused"],
            "met": main["flags"] == 0 and main["refused"] == 0 and main["unassigned"] == 0,
        },
    }  # fmt: skip


def run_stations_bench(cfg: StationsConfig | None = None) -> JsonDict:
    """Run the scenarios and return one JSON-able dict (see bench/stations/)."""
    cfg = cfg or StationsConfig()
    if not 1 <= cfg.stations <= len(STATION_DRILLS):
        raise ValueError(f"stations: 1 to {len(STATION_DRILLS)}")
    result = asyncio.run(_bench(cfg))
    result["targets"] = targets(result)
    result["met"] = all(t["met"] for t in result["targets"].values())
    return result
