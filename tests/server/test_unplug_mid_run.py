"""A gate unplugged for 3 s in the middle of a run and plugged back: nothing lost or doubled.

The lane is the server's own wiring (a migrated SQLite file, build_services, RunCoordinator,
a DeviceService feeding coordinator.on_device_event, a USB watcher over a SimPortLister) with
two gates on two virtual ports, each with its own clock: the start gate and the finish gate,
so the split is a difference of two device clocks mapped to host time. One of them loses its
cable for 3 s around its crossing and comes back on a new tty path; the run must finish with
the true split, every raw event stored once, and no extra run or split.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session, select

from drills import RunState
from hardware.device import DeviceEvent
from hardware.messages import DeviceKind, EventKind
from hardware.records import device_key
from hardware.sim.athlete import make_team
from hardware.sim.device import VirtualDevice
from hardware.sim.lister import SimPortLister
from hardware.sim.models import SimClock
from hardware.sim.port import VirtualPort
from server.app import build_services
from server.config import Settings
from server.db.models import DeviceEvent as DeviceEventRow
from server.db.models import Run, Split
from server.db.session import migrate
from server.devices.service import DeviceService
from server.runs.coordinator import Binding, RunCoordinator
from tests.support import wait_until_async

DRILL = "backward-sprint-10m"
TOLERANCE_US = 1000
UNPLUG_S = 3.0
MS = 1_000_000
SCENARIO_TIMEOUT_S = 30.0
T = TypeVar("T")


@dataclass
class Gate:
    device: VirtualDevice
    port: VirtualPort

    @property
    def key(self) -> str:
        return device_key(self.device.kind, self.device.device_id)


def make_gate(device_id: int, rng: random.Random, drift_ppm: float) -> Gate:
    """A gate alone on its cable, with its own clock: any 32-bit start, its own drift."""
    clock = SimClock(
        origin_ns=time.monotonic_ns(), offset_ticks=rng.getrandbits(32), drift_ppm=drift_ppm
    )
    device = VirtualDevice(DeviceKind.GATE, device_id, clock=clock, seed=device_id)
    port = VirtualPort([device], seed=device_id, name=f"gate-{device_id:X}")
    return Gate(device, port)


@dataclass(frozen=True)
class Outcome:
    state: RunState
    true_split_ns: int
    delivered: list[DeviceEvent]
    lost_s: float
    back_s: float


async def run_with_unplug(sqlite_db: str, unplug: str, seed: int) -> tuple[Outcome, list[Gate]]:
    """One rep of the drill with the `unplug` gate ("start" or "finish") off its cable for
    UNPLUG_S around its crossing. Returns what happened and the gates, for the truth."""
    services = build_services(Settings(db=sqlite_db))
    recorder = services.recorder
    drill = services.catalog.get(DRILL)
    rng = random.Random(seed)
    gates = {
        "start": make_gate(0x5710_0000 | seed, rng, drift_ppm=95.0),
        "finish": make_gate(0xF1A0_0000 | seed, rng, drift_ppm=-140.0),
    }
    delivered: list[DeviceEvent] = []
    failures: list[str] = []

    def listener(event: DeviceEvent) -> None:
        delivered.append(event)  # what the host hands the server, doubles included
        try:
            coordinator.on_device_event(event)
        except Exception as exc:  # the hub would only log it: keep it for the assertion
            failures.append(f"{type(exc).__name__}{exc.args} on {event}")
            raise

    manager = DeviceService(listener)
    # Wired to this test's own devices as build_services wires the app's to its own.
    coordinator = RunCoordinator(
        recorder, layout={}, readiness=manager.not_ready_reason, outputs=manager
    )
    lister = SimPortLister()
    pulled = gates[unplug]
    try:
        usb = pulled.port.usb
        manager.watch_usb([(usb.vid, usb.pid)], lister=lister.comports)
        for gate in gates.values():
            gate.port.start()
            lister.add(gate.port)

        def ready() -> bool:
            # What a split across two device clocks needs: offsets and measured rates.
            return all(manager.not_ready_reason(g.key, True) is None for g in gates.values())

        await wait_until_async("both gates ready to time a split between them", ready, 20.0)
        coordinator.layout.update({role: Binding(g.key, 0) for role, g in gates.items()})
        athlete = make_team(1, rng)[0]
        athlete_id = recorder.ensure_athlete(recorder.ensure_team("Unplug"), athlete.name)
        done = coordinator.begin(drill, athlete_id, athlete.name, rep=1, start_within_s=20.0)

        # The athlete's breaks at true times; each beam clears 80 ms after it is broken.
        start_s, finish_s = athlete.crossing_times_s([0.0, 10.0], True, rng)
        go_ns = time.monotonic_ns() + 300 * MS
        start_ns, finish_ns = go_ns + round(start_s * 1e9), go_ns + round(finish_s * 1e9)
        for role, at_ns in (("start", start_ns), ("finish", finish_ns)):
            device = gates[role].device
            device.schedule_edge(0, EventKind.BEAM_BROKEN, at_ns)
            device.schedule_edge(0, EventKind.BEAM_RESTORED, at_ns + 80 * MS)

        # Pull the cable 1 s before the gate's crossing, put it back 2 s after it.
        crossing_ns = start_ns if unplug == "start" else finish_ns
        await asyncio.sleep(max(0.0, (crossing_ns - time.monotonic_ns()) / 1e9 - 1.0))
        state = manager.device(pulled.key)
        assert state is not None
        old_path = pulled.port.port
        pulled.port.unplug()
        t_pull = time.monotonic()
        await wait_until_async("the unplugged gate marked lost", lambda: not state.connected, 1.0)
        lost_s = time.monotonic() - t_pull
        await asyncio.sleep(UNPLUG_S - (time.monotonic() - t_pull))
        assert len(pulled.device.truth_since(0)) == 2, "its crossing happened while unplugged"
        assert pulled.device.unacked == 2
        new_path = pulled.port.replug()
        t_back = time.monotonic()
        assert new_path != old_path
        await wait_until_async("the run to end", lambda: done.done() or bool(failures), 5.0)
        assert not failures, f"coordinator.on_device_event raised: {failures}"
        outcome = done.result()
        back_s = time.monotonic() - t_back
        await wait_until_async(
            "every event acked", lambda: all(g.device.unacked == 0 for g in gates.values()), 3.0
        )
        await asyncio.sleep(0.3)  # a late replay would be delivered by now
        assert state.connected and manager.device(pulled.key) is state
        assert state.info.port == new_path
        result = Outcome(outcome.state, finish_ns - start_ns, delivered, lost_s, back_s)
        return result, list(gates.values())
    finally:
        await manager.close_all()
        for gate in gates.values():
            gate.port.stop()
        services.engine.dispose()


async def bounded(scenario: Coroutine[Any, Any, T]) -> T:
    return await asyncio.wait_for(scenario, SCENARIO_TIMEOUT_S)


def check_storage(sqlite_db: str, outcome: Outcome, gates: list[Gate]) -> None:
    truth = {
        (g.key, g.device.boot_id, t.seq): t for g in gates for t in g.device.truth_since(0)
    }  # fmt: skip
    ids = Counter((e.device, e.boot_id, e.seq) for e in outcome.delivered)
    assert not [k for k, n in ids.items() if n > 1], f"delivered twice: {ids}"
    assert set(ids) == set(truth), f"delivered {sorted(ids)}, truth {sorted(truth)}"

    services = build_services(Settings(db=sqlite_db))
    try:
        with Session(services.engine) as session:
            rows = session.exec(select(DeviceEventRow)).all()
            stored = Counter((r.device, r.boot_id, r.seq) for r in rows)
            assert not [k for k, n in stored.items() if n > 1], stored
            assert set(stored) == set(truth), f"stored {sorted(stored)}, truth {sorted(truth)}"
            for row in rows:
                t = truth[(row.device, row.boot_id, row.seq)]
                assert (row.channel, row.kind) == (t.channel, t.kind.name.lower()), row
                assert (row.ticks - t.ticks) % (1 << 32) == 0, row
            runs = session.exec(select(Run)).all()
            assert len(runs) == 1, runs
            run = runs[0]
            splits = session.exec(select(Split)).all()
            assert len(splits) == 1 and splits[0].run_id == run.id, splits
            split = splits[0]
            error_us = split.elapsed_us - outcome.true_split_ns / 1000
            print(
                f"split {split.elapsed_us} us, truth {outcome.true_split_ns / 1000:.0f} us, "
                f"error {error_us:+.0f} us; lost after {outcome.lost_s * 1000:.0f} ms, "
                f"run finished {outcome.back_s:.2f} s after the replug"
            )
            assert run.state == "finished" and run.total_us == split.elapsed_us, run
            assert abs(error_us) <= TOLERANCE_US, f"split off by {error_us:.0f} us"
    finally:
        services.engine.dispose()


def test_finish_gate_unplugged_3s_across_the_finish(sqlite_db: str) -> None:
    migrate(sqlite_db)
    outcome, gates = asyncio.run(bounded(run_with_unplug(sqlite_db, "finish", seed=31)))
    assert outcome.state is RunState.FINISHED, outcome
    check_storage(sqlite_db, outcome, gates)


def test_start_gate_unplugged_3s_across_the_start(sqlite_db: str) -> None:
    migrate(sqlite_db)
    outcome, gates = asyncio.run(bounded(run_with_unplug(sqlite_db, "start", seed=32)))
    assert outcome.state is RunState.FINISHED, outcome
    check_storage(sqlite_db, outcome, gates)
