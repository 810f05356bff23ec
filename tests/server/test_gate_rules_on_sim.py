"""Gate rules end to end: whole bodies (hardware/sim/body.py) break a simulated hub's beams,
the real driver reads them through a pseudo-terminal, and the coordinator applies each role's
rule. Each stored split must be what the rule makes of the edges that really happened (the
simulator's truth, fed to the same rule here), and the crossings must be kept with their rule.
How close each rule comes to the torso is the benchmark's question: `python -m bench run gates`."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

from sqlmodel import Session, select

from drills import RunState, Stamp
from drills.crossing import BeamEdge, CrossingDetector, GateRule, Trigger
from hardware.messages import EventKind
from hardware.sim.athlete import make_team
from hardware.sim.models import TruthEvent
from server.app import build_services
from server.catalog.service import Catalog
from server.config import Settings
from server.db.models import Crossing, Split
from server.db.session import migrate
from server.devices.service import DeviceService
from server.runs.coordinator import Binding, RunCoordinator
from server.runs.recorder import RunRecorder
from server.sim.reps import schedule_rep
from server.sim.rig import SimRig

REPS = 12


def _expected_us(truth: list[TruthEvent], layout: dict[str, Binding], rule: GateRule) -> int:
    """The split the rule makes of the true edges: start crossing to finish crossing."""
    at: dict[str, int] = {}
    for role in ("start", "finish"):
        binding = layout[role]
        detector = CrossingDetector(rule)
        found = []
        for t in truth:
            beam = binding.beam_of(t.channel)
            if beam is None:
                continue
            us = t.mono_ns // 1000
            stamp = Stamp(mono_us=us, clock="truth", ticks=us, tick_hz_est=1e6)
            found += detector.edge(BeamEdge(beam, t.kind is EventKind.BEAM_BROKEN, stamp))
        found += detector.flush()
        at[role] = found[0].at.mono_us
    return at["finish"] - at["start"]


async def _reps(recorder: RunRecorder, trigger: Trigger, seed: int) -> list[tuple[int, int, int]]:
    """(run_id, split the rule makes of the true edges, torso truth) in us, for REPS
    backward-sprint reps timed with `trigger`."""
    drill = Catalog.load().get("backward-sprint-10m")
    coordinator = RunCoordinator(recorder, layout={})
    devices = DeviceService(coordinator.on_device_event)
    rig = await SimRig.start(devices, drill, seed=seed, bodies=True, beams=trigger.beams)
    layout = {role: replace(b, trigger=trigger, rearm_ms=400) for role, b in rig.layout.items()}
    coordinator.layout.update(layout)
    rng = random.Random(seed)
    athlete = make_team(1, rng)[0]
    athlete_id = recorder.ensure_athlete(recorder.ensure_team("Rules"), f"{athlete.name} {seed}")
    out: list[tuple[int, int, int]] = []
    try:
        for rep in range(1, REPS + 1):
            seen = len(rig.hub.truth)
            done = coordinator.begin(drill, athlete_id, athlete.name, rep, start_within_s=5.0)
            breaks = schedule_rep(rig.hub, drill, rig.layout, athlete, rng, lead_s=0.1,
                                  bodies=True)  # fmt: skip
            outcome = await asyncio.wait_for(done, timeout=15)
            assert outcome.state is RunState.FINISHED, outcome
            assert coordinator.last_run_id is not None
            await asyncio.sleep(0.6)  # the trailing limbs leave the beam before the next rep
            expected = _expected_us(rig.hub.truth_since(seen), layout, layout["start"].rule())
            torso = (breaks[-1][1] - breaks[0][1]) // 1000
            out.append((coordinator.last_run_id, expected, torso))
    finally:
        await devices.close_all()
        rig.stop()
    return out


def test_each_rule_against_torso_truth_through_the_real_driver(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    triggers = tuple(Trigger)

    async def main() -> list[list[tuple[int, int, int]]]:
        # The same athlete and seed for each rule: the same bodies cross the same gates.
        return list(await asyncio.gather(*(_reps(services.recorder, t, seed=41) for t in triggers)))

    results = dict(zip(triggers, asyncio.run(main()), strict=True))
    off_torso: dict[Trigger, list[int]] = {}
    with Session(services.engine) as session:
        for trigger, reps in results.items():
            off_torso[trigger] = []
            for run_id, expected_us, torso_us in reps:
                split = session.exec(select(Split).where(Split.run_id == run_id)).one()
                # Through the driver, the device clock (80 ppm off, mapped by its ticks) and
                # the coordinator, the rule's crossing of the true edges, to within 0.5 ms.
                assert abs(split.elapsed_us - expected_us) <= 500, (trigger, split, expected_us)
                off_torso[trigger].append(abs(split.elapsed_us - torso_us))
            rules = session.exec(
                select(Crossing.trigger).where(Crossing.run_id.in_([r[0] for r in reps]))  # type: ignore[attr-defined]
            ).all()
            # Each rep's start and finish crossing, kept with the rule that found it.
            assert set(rules) == {trigger.value} and len(rules) == 2 * REPS, (trigger, rules)
    # The limbs really lead: first-break is off the torso in some reps (how far, and how much
    # the other rules recover, is the benchmark's: python -m bench run gates).
    assert max(off_torso[Trigger.FIRST_BREAK]) > 2_000, off_torso
    # The same bodies: the two-beam rule that corrects on each beam is the nearer the torso.
    assert sum(off_torso[Trigger.DUAL_LONGEST]) < sum(off_torso[Trigger.FIRST_BREAK]), off_torso
