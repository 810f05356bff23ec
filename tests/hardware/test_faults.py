"""Fault injection through the real driver on real ptys: noise, loss, bad versions, hot-plug.

Every scenario drives hardware.device.PortSession (through DeviceService where the server
would) against the simulator or the scripted fake device, and compares what the host
delivered with the truth the devices recorded: exactly once, in order, field by field.
The frame decoder's own fuzzing (random bytes never raise, resync on the next good frame) is
tests/hardware/test_wire.py; here the same noise goes through a whole session instead.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

import pytest

from hardware.device import DeviceEvent, PortSession
from hardware.messages import (
    DeviceKind,
    Event,
    EventAck,
    EventKind,
    Identify,
    Ping,
    encode_message,
)
from hardware.records import device_key
from hardware.sim.device import VirtualDevice
from hardware.sim.lister import SimPortLister
from hardware.sim.models import LatencyModel, SimClock, TruthEvent
from hardware.sim.port import VirtualPort
from hardware.sim.retransmit import Pending
from hardware.wire import SYNC
from server.devices.service import DeviceService
from tests.hardware.host_fake import FakeDevice, until

T = TypeVar("T")
MS = 1_000_000
TICK_WRAP = 1 << 32
# Quicker than an FTDI bridge, so 10,000 events fit in a few seconds; still a real USB spread.
QUICK_USB = LatencyModel(0.3, 3.0)


def run_bounded(scenario: Callable[[], Coroutine[Any, Any, T]], timeout_s: float) -> T:
    """Run a scenario under one overall bound, so a broken driver fails instead of hanging."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout_s)

    return asyncio.run(bounded())


class CountingDevice(VirtualDevice):
    """A VirtualDevice that counts its retransmissions (an EVENT sent again), for reports."""

    resent = 0

    def _transmit_event(self, entry: Pending, now_ns: int) -> None:
        if entry.sends > 0:
            self.resent += 1
        super()._transmit_event(entry, now_ns)


def gate(device_id: int, seed: int, kind: DeviceKind = DeviceKind.GATE, **kw: Any) -> Any:
    """A device with its own clock (any 32-bit start, its own drift) and no STATUS chatter."""
    rng = random.Random(seed)
    clock = SimClock.random(rng, time.monotonic_ns())
    return CountingDevice(kind, device_id, clock=clock, status_period_s=60.0, seed=seed, **kw)


def key_of(device: VirtualDevice) -> str:
    return device_key(device.kind, device.device_id)


def check_against_truth(
    delivered: list[DeviceEvent], devices: list[VirtualDevice]
) -> dict[str, list[DeviceEvent]]:
    """Every truth event delivered exactly once, in order, each equal to its truth field by
    field; returns the delivered events per device key."""
    by_key: dict[str, list[DeviceEvent]] = defaultdict(list)
    for ev in delivered:
        by_key[ev.device].append(ev)
    for device in devices:
        key = key_of(device)
        truth = device.truth_since(0)
        got = by_key.get(key, [])
        ids = Counter((e.device, e.boot_id, e.seq) for e in got)
        doubled = sorted(k for k, n in ids.items() if n > 1)
        assert not doubled, f"{key}: delivered twice: {doubled[:10]}"
        want = {(key, device.boot_id, t.seq) for t in truth}
        missing = sorted(want - ids.keys())
        extra = sorted(ids.keys() - want)
        assert not missing, f"{key}: {len(missing)} event(s) missing, first {missing[:10]}"
        assert not extra, f"{key}: {len(extra)} event(s) that never happened: {extra[:10]}"
        assert [e.seq for e in got] == [t.seq for t in truth], f"{key}: not in evseq order"
        # Ticks are extended from 32 bits by the host and exactly by the simulator: they agree
        # modulo 2^32, and by one constant (the wraps before the host first heard the device).
        shift = got[0].ticks - truth[0].ticks if got else 0
        for ev, t in zip(got, truth, strict=True):
            assert_same_event(ev, t, device, shift)
    return by_key


def assert_same_event(ev: DeviceEvent, t: TruthEvent, device: VirtualDevice, shift: int) -> None:
    where = f"{ev.device} seq {ev.seq}"
    assert ev.boot_id == device.boot_id, where
    assert (ev.channel, ev.kind, ev.ref) == (t.channel, t.kind, t.ref), f"{where}: {ev} vs {t}"
    assert ev.ticks - t.ticks == shift and shift % TICK_WRAP == 0, f"{where}: {ev} vs {t}"


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
                await until(
                    partial(wave_done, wave_end), 20.0, f"{wave_end} events delivered and acked"
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


# --- b: a whole session through garbage -----------------------------------------------------

GARBAGE_EVENTS = 300


def garbage(rng: random.Random) -> bytes:
    """Noise of several shapes: plain bytes, false SYNCs with plausible LENs, broken frames."""
    shape = rng.randrange(5)
    if shape == 0:
        return rng.randbytes(rng.randrange(1, 40))
    if shape == 1:  # a false start claiming a frame that runs over the next good one
        return bytes([SYNC, rng.randrange(0, 201)]) + rng.randbytes(rng.randrange(0, 12))
    frame = encode_message(0, rng.randrange(65536), Ping(rng.getrandbits(32)))
    if shape == 2:  # a real frame with one bit flipped past its SYNC: its CRC fails
        flipped = bytearray(frame)
        flipped[rng.randrange(1, len(frame))] ^= 1 << rng.randrange(8)
        return bytes(flipped)
    if shape == 3:  # a truncated frame
        return frame[: rng.randrange(1, len(frame))]
    return bytes([SYNC, 0xC9 + rng.randrange(0x37)])  # LEN over 200: not a frame start


def test_session_stays_up_through_garbage_and_delivers_every_valid_event() -> None:
    rng = random.Random(2024)
    device = FakeDevice()
    delivered: list[DeviceEvent] = []

    async def scenario() -> tuple[PortSession, dict[str, int], int]:
        session = PortSession(device.port, on_event=delivered.append)
        try:
            await session.start()
            device.start_reading()
            await device.expect(Identify)
            device.hello()
            await session.wait_ready(timeout_s=3.0)
            base = device.ticks()
            # The fake's PONGs would land inside the frames cut in two below: hold them.
            device.answer_pings = False
            for n in range(GARBAGE_EVENTS):
                # Noise then a good frame, written with a cut at a random place.
                event = Event(
                    n & 0xFFFF, n % 2, EventKind.BEAM_BROKEN, (base + 997 * n) % TICK_WRAP
                )
                data = garbage(rng) + encode_message(0, device.next_seq(0), event)
                cut = rng.randrange(len(data) + 1)
                device.write(data[:cut])
                if n % 10 == 0:
                    await asyncio.sleep(0.002)  # let the reader see partial writes
                device.write(data[cut:])
            # Padding without SYNC settles any false start the last noise left waiting.
            device.write(bytes(220))
            device.answer_pings = True
            await until(lambda: len(delivered) >= GARBAGE_EVENTS, 5.0, "every valid event")
            await until(
                lambda: [a.evseq for a in device.got(EventAck)][-1:] == [GARBAGE_EVENTS - 1],
                2.0, "the final cumulative ACK",
            )  # fmt: skip
            await asyncio.sleep(0.1)  # the noise's after-effects, if any, would show by now
            assert not session.lost and session.devices[0].ready
            return session, session.link_stats, base
        finally:
            await session.stop()
            device.unplug()

    session, stats, base = run_bounded(scenario, 20.0)
    print(f"{GARBAGE_EVENTS} events through noise: link {stats}")
    assert [e.seq for e in delivered] == list(range(GARBAGE_EVENTS))
    assert delivered[0].ticks % TICK_WRAP == base % TICK_WRAP
    for n, ev in enumerate(delivered):
        assert (ev.channel, ev.kind, ev.ref) == (n % 2, EventKind.BEAM_BROKEN, 0), ev
        assert ev.ticks - delivered[0].ticks == 997 * n, ev
    assert stats["bad_crc"] > 0 and stats["skipped_bytes"] > 0 and stats["bad_length"] > 0
    assert session.unknown_types == 0 and session.bad_payloads == 0


# --- c: an unknown protocol version beside good devices -----------------------------------------


def test_unknown_version_is_named_and_its_neighbours_keep_delivering(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    hub = gate(0xC0, seed=1, kind=DeviceKind.HUB)
    v2 = gate(0xC2, seed=2, versions=(2,))
    v0 = gate(0xC3, seed=3, versions=(0,))
    good = gate(0xC4, seed=4)
    port = VirtualPort([hub, v2, v0, good], latency=QUICK_USB, seed=9, name="mixed-versions")
    delivered: list[DeviceEvent] = []
    per_device = 40

    async def scenario() -> list[dict[str, Any]]:
        manager = DeviceService(delivered.append)
        try:
            session = await manager.open(port.start())
            await session.wait_ready(timeout_s=5.0, count=2)
            await until(lambda: len(session.devices) == 4, 2.0, "all four HELLOs")
            start = time.monotonic_ns() + 50 * MS
            for i, device in enumerate((hub, v2, v0, good)):
                for k in range(per_device):
                    kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                    device.schedule_edge(0, kind, start + i * MS + k * 5 * MS)
            await until(lambda: len(delivered) >= 2 * per_device, 5.0, "the good devices' events")
            await asyncio.sleep(0.3)  # the bad ones keep re-sending theirs: none may get in
            assert not session.lost
            return manager.snapshot()
        finally:
            await manager.close_all()

    try:
        snap = run_bounded(scenario, 20.0)
    finally:
        port.stop()
    by_key = {d["key"]: d for d in snap}
    for device, version in ((v2, 2), (v0, 0)):
        entry = by_key[key_of(device)]
        message = entry["message"]
        print(f"{entry['key']}: {message}")
        assert entry["state"] == "unsupported" and not entry["ready"]
        assert entry["protocol"] == version and entry["events"] == 0
        assert message is not None and f"protocol version {version}" in message, message
        assert "versions 1 to 1" in message and key_of(device) in message, message
        warnings = [
            r for r in caplog.records
            if r.levelno == logging.WARNING and f"protocol version {version};" in r.getMessage()
            and key_of(device) in r.getMessage()
        ]  # fmt: skip
        assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
        assert "versions 1 to 1" in warnings[0].getMessage()
    for device in (hub, good):
        assert by_key[key_of(device)]["message"] is None
    check_against_truth(delivered, [hub, good])
    assert {e.device for e in delivered} == {key_of(hub), key_of(good)}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert not port.errors


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

            await until(is_ready, 5.0, "the plugged device ready")
            ready_s = time.monotonic() - plugged
            print(f"hot-plug: {key} identified and clock-synced {ready_s:.2f} s after plug-in")
            state = manager.device(key)
            assert state is not None and state.info.port == first_path

            now = time.monotonic_ns()
            for k in range(4):
                kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                device.schedule_edge(0, kind, now + 20 * MS + k * 30 * MS)
            await until(lambda: len(delivered) == 4, 2.0, "events before the unplug")
            await until(lambda: device.unacked == 0, 2.0, "every event acknowledged")
            clock, samples, boot = state.clock, state.clock.sample_count, device.boot_id

            port.unplug()
            pulled = time.monotonic()
            await until(lambda: not state.connected, 0.5, "the device marked lost")
            lost_s = time.monotonic() - pulled
            print(f"unplug: {key} marked lost {lost_s * 1000:.0f} ms after the cable was pulled")
            entry = next(d for d in manager.snapshot() if d["key"] == key)
            assert entry["state"] == "lost" and entry["connected"] is False

            # Beam edges while unplugged: stamped and kept by the device.
            now = time.monotonic_ns()
            for k in range(6):
                kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                device.schedule_edge(k % 2, kind, now + 50 * MS + k * 40 * MS)
            await until(lambda: len(device.truth_since(0)) == 10, 2.0, "edges while unplugged")
            await asyncio.sleep(0.3)  # unplugged: nothing may be delivered meanwhile
            assert len(delivered) == 4 and device.unacked == 6

            second_path = port.replug()
            replugged = time.monotonic()
            assert second_path != first_path  # re-enumerated under another name
            await until(lambda: len(delivered) >= 10, 5.0, "the buffered events after replug")
            back_s = time.monotonic() - replugged
            print(f"replug: 6 buffered events delivered {back_s:.2f} s after plug-in")
            await until(lambda: device.unacked == 0, 2.0, "the replayed events acknowledged")
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
