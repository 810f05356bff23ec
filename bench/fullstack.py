"""The `fullstack` section: device clock (ours) against host receipt (the naive baseline).

Both methods time the very same beam breaks in the same run: simulated hubs on real ptys,
with clock drift and 1-16 ms USB latency, through the real driver, engine and database.
The device-clock figure is the split the server stored; the baseline is the difference of
the host receive times of the same two events.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile

from bench.common import JsonDict
from bench.stats import summarize
from drills import RunState
from hardware.device import DeviceEvent
from hardware.messages import EventKind
from hardware.sim.athlete import make_team
from server.app import build_services
from server.config import Settings
from server.db.session import migrate
from server.devices.service import DeviceService
from server.runs.coordinator import RunCoordinator
from server.sim.reps import schedule_rep
from server.sim.rig import SimRig


async def _lane(
    lane: int, services_db: str, reps: int, drift_ppm: float, seed: int
) -> list[tuple[float, float]]:
    services = build_services(Settings(db=services_db))
    drill = services.catalog.get("backward-sprint-10m")
    coordinator = RunCoordinator(services.recorder, layout={})
    seen: list[DeviceEvent] = []

    def listen(event: DeviceEvent) -> None:
        seen.append(event)
        coordinator.on_device_event(event)

    devices = DeviceService(listen)
    # Alternate the sign of the drift so both fast and slow crystals are in the sample.
    sign = 1 if lane % 2 == 0 else -1
    rig = await SimRig.start(devices, drill, seed=seed + lane, drift_ppm=sign * drift_ppm)
    coordinator.layout.update(rig.layout)
    rng = random.Random(seed + lane)
    athlete = make_team(1, rng)[0]
    recorder = services.recorder
    athlete_id = recorder.ensure_athlete(recorder.ensure_team("Bench"), f"lane {lane}")
    pairs: list[tuple[float, float]] = []
    start_ch, finish_ch = (rig.layout[r].channel for r in drill.roles_in_order)
    try:
        for rep in range(1, reps + 1):
            first = len(seen)
            done = coordinator.begin(drill, athlete_id, athlete.name, rep, start_within_s=5.0)
            breaks = schedule_rep(rig.hub, drill, rig.layout, athlete, rng, lead_s=0.1)
            outcome = await asyncio.wait_for(done, timeout=15)
            if outcome.state is not RunState.FINISHED or outcome.total_us is None:
                raise RuntimeError(f"lane {lane} rep {rep}: {outcome}")
            truth_us = (breaks[-1][1] - breaks[0][1]) / 1000
            broken = [e for e in seen[first:] if e.kind is EventKind.BEAM_BROKEN]
            start = next(e for e in broken if e.channel == start_ch)
            finish = next(e for e in broken if e.channel == finish_ch)
            receipt_us = finish.received_mono_us - start.received_mono_us
            pairs.append(((outcome.total_us - truth_us) / 1000, (receipt_us - truth_us) / 1000))
            await asyncio.sleep(0.15)
    finally:
        await devices.close_all()
        rig.stop()
        services.engine.dispose()
    return pairs


def run_fullstack(db: str, lanes: int, reps: int, drift_ppm: float, seed: int) -> list[JsonDict]:
    """One row per method: its name and the summary of |recorded - true split| in ms."""
    migrate(db)

    async def main() -> list[tuple[float, float]]:
        results = await asyncio.gather(*(_lane(i, db, reps, drift_ppm, seed) for i in range(lanes)))
        return [pair for lane in results for pair in lane]

    pairs = asyncio.run(main())
    return [
        {"method": "device_clock", **summarize((p[0] for p in pairs), "runs")},
        {"method": "host_receipt", **summarize((p[1] for p in pairs), "runs")},
    ]


def fullstack_section(seed: int) -> JsonDict:
    """The section's run: 4 lanes of 10 reps, crystals at +-80 ppm, on a throwaway database."""
    with tempfile.TemporaryDirectory() as tmp:
        return {"rows": run_fullstack(os.path.join(tmp, "bench.db"), 4, 10, 80.0, seed)}


def fullstack_markdown(r: JsonDict) -> str:
    rows = ["| method | runs | p50 error (ms) | p99 error (ms) | max error (ms) |"]
    rows.append("|---|---:|---:|---:|---:|")
    for x in r["rows"]:
        rows.append(
            f"| {x['method']} | {x['runs']} | {x['p50_ms']:.3f} | {x['p99_ms']:.3f}"
            f" | {x['max_ms']:.3f} |"
        )
    return f"""Backward sprint 10 m reps by virtual athletes on simulated hubs (4 lanes at once,
10 reps each) through the whole server: driver, engine, recorder and an SQLite database.
Each hub is on a real pseudo-terminal with its own clock drifting by ±80 ppm and 1-16 ms
USB latency per frame.
Start and finish are two beams of one hub, so the split is a difference of raw ticks.
`device_clock` is the split the server stored; `host_receipt` times the same two beam breaks by
when their bytes reached the host. No target: this figure shows the whole stack agrees with the
hardware-level figures below.

Command: `python -m bench --only fullstack`

{chr(10).join(rows)}
"""
