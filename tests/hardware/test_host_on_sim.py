"""The real host (PortSession) against simulated devices for rules of PROTOCOL.md sections 5-6:
events delivered late after an unplug keep their time, and the polarity command."""

from __future__ import annotations

import asyncio
import time

import pytest

from hardware.cues import CommandFailed
from hardware.device import DeviceEvent, PortSession
from hardware.messages import DeviceKind, EventKind
from hardware.records import device_key
from hardware.registry import DeviceRegistry
from hardware.sim.device import VirtualDevice
from hardware.sim.models import LatencyModel
from hardware.sim.port import VirtualPort
from tests.hardware.host_fake import run
from tests.support import wait_until_async

MS = 1_000_000
QUICK_USB = LatencyModel(0.5, 2.0)
UNPLUG_S = 3.0


def test_events_stamped_while_unplugged_arrive_late_with_their_own_time() -> None:
    # PROTOCOL.md section 5, "Late events count": the device keeps each edge and its tick
    # across a 3 s unplug; replayed after the replug, the events map to when they happened,
    # not to when they arrived, so a rep that is still open times them right.
    device = VirtualDevice(DeviceKind.GATE, 0x0F1A, seed=3)
    port = VirtualPort([device], latency=QUICK_USB, seed=4, name="late")
    registry = DeviceRegistry()
    events: list[DeviceEvent] = []

    async def scenario() -> None:
        first = PortSession(port.start(), on_event=events.append, registry=registry)
        second: PortSession | None = None
        try:
            await first.start()
            await first.wait_ready(timeout_s=3.0)
            start_ns = time.monotonic_ns() + 50 * MS
            device.schedule_edge(0, EventKind.BEAM_BROKEN, start_ns)  # the start, heard live
            await wait_until_async("the start event", lambda: len(events) == 1, 2.0)
            port.unplug()
            await wait_until_async("the link lost", lambda: first.lost, 1.0)
            finish_ns = time.monotonic_ns() + 500 * MS  # the finish, while unplugged
            device.schedule_edge(1, EventKind.BEAM_BROKEN, finish_ns)
            await asyncio.sleep(UNPLUG_S)  # the unplug itself, the finish in it: nothing arrives
            assert device.unacked == 1 and len(events) == 1
            second = PortSession(port.replug(), on_event=events.append, registry=registry)
            await second.start()
            await wait_until_async(
                "the finish, replayed after HELLO", lambda: len(events) == 2, 3.0
            )
        finally:
            await first.stop()
            if second is not None:
                await second.stop()
        start, finish = events
        truth = device.truth_since(0)
        assert [(e.seq, e.ticks) for e in events] == [(t.seq, t.ticks) for t in truth]
        assert finish.received_mono_us - finish_ns / 1000 >= (UNPLUG_S - 0.6) * 1e6
        assert finish.mono_us is not None and finish.sync_error_us is not None
        assert abs(finish.mono_us - finish_ns / 1000) <= finish.sync_error_us
        # The split a rep takes from the two stamps, on one device clock.
        split_us = (finish.ticks - start.ticks) / finish.tick_hz_est * 1e6
        assert abs(split_us - (finish_ns - start_ns) / 1000) <= 100

    try:
        run(scenario)
    finally:
        port.stop()
    assert not port.errors


def test_polarity_reaches_a_gate_and_a_pod_refuses_it() -> None:
    gate = VirtualDevice(DeviceKind.GATE, 0x6A7E, seed=5)
    pod = VirtualDevice(DeviceKind.POD, 0x90D, seed=6)
    port = VirtualPort([gate, pod], latency=QUICK_USB, seed=7, name="polarity")

    async def scenario() -> None:
        session = PortSession(port.start(), on_event=lambda _: None)
        try:
            await session.start()
            await wait_until_async("both devices", lambda: len(session.devices) == 2, 2.0)
            await session.set_polarity(device_key(gate.kind, gate.device_id), 1, True)
            assert gate.polarity_high == [False, True]
            await session.set_polarity(device_key(gate.kind, gate.device_id), 1, False)
            assert gate.polarity_high == [False, False]
            with pytest.raises(CommandFailed, match="not supported"):
                await session.set_polarity(device_key(pod.kind, pod.device_id), 0, True)
            with pytest.raises(CommandFailed, match="no such beam"):
                await session.set_polarity(device_key(gate.kind, gate.device_id), 2, True)
        finally:
            await session.stop()

    try:
        run(scenario)
    finally:
        port.stop()
    assert not port.errors
