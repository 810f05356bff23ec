"""Fault injection through the real driver on real ptys: corruption and loss, hot-plug.

Every scenario drives hardware.device.PortSession (through DeviceService where the server
would) against the simulator, and compares what the host delivered with the truth the
devices recorded: exactly once, in order, field by field. A session through garbage bytes
and devices of unknown protocol versions are test_faults_bad_input.py; the frame decoder's
own fuzzing (random bytes never raise, resync on the next good frame) is test_wire.py.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from hardware.device import DeviceEvent
from hardware.messages import (
    DeviceKind,
    EventKind,
)
from hardware.sim.device import VirtualDevice
from hardware.sim.lister import SimPortLister
from hardware.sim.port import VirtualPort
from server.devices.service import DeviceService
from tests.hardware.fault_rig import (
    MS,
    QUICK_USB,
    check_against_truth,
    gate,
    key_of,
    run_bounded,
)
from tests.support import wait_until_async

# --- a: corruption and loss over 10,000 events ----------------------------------------------------

PORTS = 2
DEVICES_PER_PORT = 8  # a hub at address 0 and seven radio gates behind it
EVENTS = 10_000
# In waves: 25 edges per device, 10 ms apart (16 devices: 1,600 events/s), then a pause until
# the host has acknowledged the wave (25 waves, ~8 s). A steady stream this dense overloads the
# host on a busy 2-core machine, and go-back-N resends then snowball (20x the traffic seen):
# short waves keep each device's backlog at 25 events at most.
WAVE_EVENTS = 25
EVENT_GAP_NS = 10 * MS


def test_10000_events_through_corruption_and_loss_arrive_exactly_once() -> None:
    ports = [
        VirtualPort(
            [
                gate(
                    0x5A00 + 0x10 * p + a, seed=100 * p + a,
                    kind=DeviceKind.HUB if a == 0 else DeviceKind.GATE,
                )
                for a in range(DEVICES_PER_PORT)
            ],
            latency=QUICK_USB, seed=p, name=f"faulty-{p}",
        )
        for p in range(PORTS)
    ]  # fmt: skip
    devices: list[VirtualDevice] = [d for port in ports for d in port.devices.values()]
    per_device = EVENTS // len(devices)
    assert per_device * len(devices) == EVENTS
    delivered: list[DeviceEvent] = []

    def wave_done(count: int) -> bool:
        return len(delivered) >= count and all(d.unacked == 0 for d in devices)

    async def scenario() -> tuple[DeviceService, float]:
        manager = DeviceService(delivered.append)
        try:
            sessions = [await manager.open(port.start()) for port in ports]
            for session in sessions:
                await session.wait_ready(timeout_s=5.0, count=DEVICES_PER_PORT)
            for port in ports:  # both directions, from here on
                port.corrupt_rate, port.loss_rate = 0.001, 0.05
            t0 = time.monotonic()
            for first in range(0, per_device, WAVE_EVENTS):
                start = time.monotonic_ns() + 20 * MS
                for i, device in enumerate(devices):
                    phase = i * EVENT_GAP_NS // len(devices)  # interleave the devices' edges
                    for k in range(first, min(first + WAVE_EVENTS, per_device)):
                        kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                        at = start + phase + (k - first) * EVENT_GAP_NS
                        device.schedule_edge((k // 2) % 2, kind, at)
                wave_end = min(first + WAVE_EVENTS, per_device) * len(devices)
                await wait_until_async(
                    f"{wave_end} events delivered and acked", partial(wave_done, wave_end), 20.0
                )
            took = time.monotonic() - t0
            await asyncio.sleep(0.3)  # any late repeat would be delivered by now
            return manager, took
        finally:
            await manager.close_all()

    try:
        manager, took = run_bounded(scenario, 60.0)
    finally:
        for port in ports:
            port.stop()

    stats = [port.stats for port in ports]
    snap = manager.snapshot()
    faults = {
        "frames_up": sum(s.frames_up for s in stats),
        "lost_up": sum(s.lost_up for s in stats),
        "lost_down": sum(s.lost_down for s in stats),
        "corrupted_up": sum(s.corrupted_up for s in stats),
        "corrupted_down": sum(s.corrupted_down for s in stats),
        "retransmitted_events": sum(getattr(d, "resent", 0) for d in devices),
        "naks_sent": sum(d["naks_sent"] for d in snap),
        "repeats_dropped": sum(d["duplicates"] for d in snap),
        "lost_frames_seen": sum(d["lost_frames"] for d in snap),
    }
    report = ", ".join(f"{k} {v}" for k, v in faults.items())
    print(f"{EVENTS} events in {took:.2f} s through 0.1 % corruption and 5 % loss: {report}")
    assert len(delivered) == EVENTS, f"{len(delivered)} delivered ({report})"
    check_against_truth(delivered, devices)
    # The knobs really bit, both ways, and the protocol really repaired it.
    assert faults["lost_up"] > 0 and faults["lost_down"] > 0, report
    assert faults["corrupted_up"] > 0 and faults["corrupted_down"] > 0, report
    assert faults["retransmitted_events"] > 0 and faults["naks_sent"] > 0, report
    assert all(not port.errors for port in ports), [port.errors for port in ports]
    assert all(d["state"] == "lost" for d in snap)  # closed at the end, nothing else


# --- d: hot-plug, unplug, replug on a new path ---------------------------------------------------


def test_hot_plug_unplug_and_replug_resume_with_buffered_events() -> None:
    device = gate(0xD1, seed=11)
    port = VirtualPort([device], latency=QUICK_USB, seed=12, name="hot-plug")
    lister = SimPortLister()
    delivered: list[DeviceEvent] = []
    key = key_of(device)

    async def scenario() -> None:
        manager = DeviceService(delivered.append)
        try:
            manager.watch_usb([(port.usb.vid, port.usb.pid)], lister=lister.comports)
            await asyncio.sleep(0.1)  # the watcher's first look finds no port: a plug-in follows
            first_path = port.start()
            plugged = time.monotonic()
            lister.add(port)

            def is_ready() -> bool:
                state = manager.device(key)
                return state is not None and state.ready

            await wait_until_async("the plugged device ready", is_ready, 5.0)
            ready_s = time.monotonic() - plugged
            print(f"hot-plug: {key} identified and clock-synced {ready_s:.2f} s after plug-in")
            state = manager.device(key)
            assert state is not None and state.info.port == first_path

            now = time.monotonic_ns()
            for k in range(4):
                kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                device.schedule_edge(0, kind, now + 20 * MS + k * 30 * MS)
            await wait_until_async("events before the unplug", lambda: len(delivered) == 4, 2.0)
            await wait_until_async("every event acknowledged", lambda: device.unacked == 0, 2.0)
            clock, samples, boot = state.clock, state.clock.sample_count, device.boot_id

            port.unplug()
            pulled = time.monotonic()
            await wait_until_async("the device marked lost", lambda: not state.connected, 0.5)
            lost_s = time.monotonic() - pulled
            print(f"unplug: {key} marked lost {lost_s * 1000:.0f} ms after the cable was pulled")
            entry = next(d for d in manager.snapshot() if d["key"] == key)
            assert entry["state"] == "lost" and entry["connected"] is False

            # Beam edges while unplugged: stamped and kept by the device.
            now = time.monotonic_ns()
            for k in range(6):
                kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                device.schedule_edge(k % 2, kind, now + 50 * MS + k * 40 * MS)
            await wait_until_async(
                "edges while unplugged", lambda: len(device.truth_since(0)) == 10, 2.0
            )
            await asyncio.sleep(0.3)  # unplugged: nothing may be delivered meanwhile
            assert len(delivered) == 4 and device.unacked == 6

            second_path = port.replug()
            replugged = time.monotonic()
            assert second_path != first_path  # re-enumerated under another name
            await wait_until_async(
                "the buffered events after replug", lambda: len(delivered) >= 10, 5.0
            )
            back_s = time.monotonic() - replugged
            print(f"replug: 6 buffered events delivered {back_s:.2f} s after plug-in")
            await wait_until_async(
                "the replayed events acknowledged", lambda: device.unacked == 0, 2.0
            )
            await asyncio.sleep(0.2)  # a late repeat would show up here
            assert manager.device(key) is state and state.connected
            assert state.clock is clock and state.clock.sample_count >= samples
            assert state.info.boot_id == boot == device.boot_id
            assert state.info.port == second_path and second_path in manager.sessions
            assert first_path not in manager.sessions
        finally:
            await manager.close_all()

    try:
        run_bounded(scenario, 25.0)
    finally:
        port.stop()
    check_against_truth(delivered, [device])
    assert [e.seq for e in delivered] == list(range(10))
