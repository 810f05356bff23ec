"""SerialLink and PortSession over real pseudo-terminals: a simulated hub, and raw bytes by hand.

Every scenario runs inside asyncio.run with an overall timeout, and every wait inside it is
bounded, so a broken driver fails a test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import time
import tty
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from hardware.device import DeviceEvent, PortSession
from hardware.errors import LinkError
from hardware.sim.hub import SimClock, VirtualHub
from hardware.wire import (
    SYNC,
    DeviceKind,
    Event,
    EventKind,
    Frame,
    FrameDecoder,
    Hello,
    MsgType,
    encode_frame,
    encode_message,
)

T = TypeVar("T")
SCENARIO_TIMEOUT_S = 12.0
DEVICE_ID = 0x0042BEEF


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), SCENARIO_TIMEOUT_S)

    return asyncio.run(bounded())


async def until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


class RawDevice:
    """The device end of a raw pty pair, driven byte by byte by the test."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.port = os.ttyname(self.slave)
        self._decoder = FrameDecoder()
        self.from_host: list[Frame] = []

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def send(self, addr: int, seq: int, msg: Hello | Event) -> bytes:
        data = encode_message(addr, seq, msg)
        self.write(data)
        return data

    def poll(self) -> list[Frame]:
        while True:
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                break
            if not data:
                break
            self.from_host += self._decoder.feed(data)
        return self.from_host

    async def expect(self, mtype: int, addr: int, timeout_s: float = 2.0) -> Frame:
        def seen() -> bool:
            return any(f.type == mtype and f.addr == addr for f in self.poll())

        await until(seen, timeout_s, f"host frame type 0x{mtype:02X} to address {addr}")
        return next(f for f in self.from_host if f.type == mtype and f.addr == addr)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def hello(boot_id: int = 1, kind: DeviceKind = DeviceKind.GATE) -> Hello:
    return Hello(0, kind, DEVICE_ID, boot_id, (1, 0, 0), 1_000_000, 2)


async def with_raw_device(
    body: Callable[[RawDevice, PortSession, list[DeviceEvent]], Awaitable[None]],
) -> None:
    device = RawDevice()
    events: list[DeviceEvent] = []
    session = PortSession(device.port, on_event=events.append)
    try:
        await session.start()
        # The port is open (pyserial flushed its input) once the start-up IDENTIFY arrives.
        await device.expect(MsgType.IDENTIFY, 0)
        await body(device, session, events)
    finally:
        await session.stop()
        device.close()


# --- (a) a simulated hub: device ticks are the truth, splits within 1 ms --------------------------


async def hub_events(hub: VirtualHub, plan: Callable[[VirtualHub], int]) -> list[DeviceEvent]:
    """Start `hub`, run a session on it, let `plan` schedule edges; return their events."""
    events: list[DeviceEvent] = []
    hub.start()
    session = PortSession(hub.port, on_event=events.append)
    try:
        await session.start()
        await session.wait_ready(timeout_s=3.0)
        count = plan(hub)
        await until(lambda: len(events) >= count, 5.0, f"{count} events")
        await asyncio.sleep(0.05)  # anything extra (a duplicate) would arrive now
        assert session.devices[0].duplicates == 0
        return events
    finally:
        await session.stop()
        hub.stop()


def check_against_truth(hub: VirtualHub, events: list[DeviceEvent]) -> None:
    truth = hub.truth_since(0)
    assert len(events) == len(truth)
    for ev, tr in zip(events, truth, strict=True):
        assert (ev.seq, ev.channel, ev.kind) == (tr.seq, tr.channel, tr.kind)
        assert ev.ticks == tr.ticks
        assert ev.device == f"hub-{hub.device_id:08X}" and ev.boot_id == hub.boot_id
    for (e1, t1), (e2, t2) in itertools.pairwise(zip(events, truth, strict=True)):
        split_us = (e2.ticks - e1.ticks) / e2.tick_hz_est * 1e6
        true_us = (t2.mono_ns - t1.mono_ns) / 1e3
        assert abs(split_us - true_us) <= 1_000, (split_us, true_us)


def test_hub_events_carry_true_ticks() -> None:
    hub = VirtualHub(seed=11)
    assert hub.clock.offset_ticks < 2**32 - 60_000_000, "pick a seed whose clock does not wrap"

    def plan(hub: VirtualHub) -> int:
        rng = random.Random(3)
        at = time.monotonic_ns() + 50_000_000
        for i in range(10):
            at += rng.randint(40, 200) * 1_000_000
            hub.schedule_edge(i % 2, EventKind.BEAM_BROKEN, at)
        return 10

    events = run(lambda: hub_events(hub, plan))
    check_against_truth(hub, events)
    assert [e.channel for e in events] == [0, 1] * 5


def test_hub_ticks_extend_across_32_bit_wrap() -> None:
    # The device counter wraps about 1.5 s after power-up; edges straddle the wrap.
    clock = SimClock(origin_ns=time.monotonic_ns(), offset_ticks=2**32 - 1_500_000, drift_ppm=-120)
    hub = VirtualHub(seed=12, clock=clock)

    def plan(hub: VirtualHub) -> int:
        wrap_ns = clock.origin_ns + round(1_500_000 * 1e3 / (1 - 120e-6))
        assert wrap_ns - time.monotonic_ns() > 500_000_000, "hub was slow to become ready"
        offsets_ms = (-400, -150, -1, 1, 150, 400)
        for i, off in enumerate(offsets_ms):
            hub.schedule_edge(i % 2, EventKind.BEAM_RESTORED, wrap_ns + off * 1_000_000)
        return len(offsets_ms)

    events = run(lambda: hub_events(hub, plan))
    check_against_truth(hub, events)
    assert events[2].ticks < 2**32 <= events[3].ticks


# --- (b) noise on the line ---------------------------------------------------------------------


def clean_garbage(rng: random.Random, size: int) -> bytes:
    return bytes(rng.choice([b for b in range(256) if b != SYNC]) for _ in range(size))


def test_garbage_between_frames_is_counted_and_skipped() -> None:
    rng = random.Random(21)
    sent = [Event(i % 2, EventKind.BEAM_BROKEN, 1_000_000 + 37_000 * i) for i in range(12)]

    async def body(device: RawDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.send(0, 0, hello())
        stream = b""
        junk = 0
        for i, ev in enumerate(sent, start=1):
            garbage = clean_garbage(rng, rng.randint(0, 30))
            junk += len(garbage)
            stream += garbage + encode_message(0, i, ev)
        # Noise that ate the tail of a frame: a SYNC, a LEN and part of a header.
        cut = encode_frame(Frame(0, 99, MsgType.EVENT, bytes(6)))[:7]
        tail = encode_message(0, len(sent) + 1, Event(1, EventKind.BEAM_RESTORED, 5))
        stream += cut + tail + bytes([SYNC, 0xFF])  # and a SYNC with LEN > 200
        junk += len(cut) + 2
        pos = 0
        while pos < len(stream):  # dribbled in, the way a USB bridge hands over packets
            step = rng.randint(1, 40)
            device.write(stream[pos : pos + step])
            pos += step
            await asyncio.sleep(0.001)
        await until(lambda: len(events) >= len(sent) + 1, 3.0, "every EVENT")
        await until(lambda: session.link_stats["skipped_bytes"] >= junk, 1.0, "the last junk")
        assert [(e.channel, e.kind, e.ticks) for e in events[:-1]] == [
            (ev.channel, ev.kind, ev.tick32) for ev in sent
        ]
        assert events[-1].ticks == 5
        stats = session.link_stats
        assert stats["skipped_bytes"] == junk
        assert stats["bad_crc"] == 1
        assert stats["frames"] == len(sent) + 2  # HELLO and the frame after the cut one
        assert session.devices[0].lost_frames == 0

    run(lambda: with_raw_device(body))


def test_unknown_type_is_counted_and_link_goes_on() -> None:
    async def body(device: RawDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.send(0, 0, hello())
        device.send(0, 1, Event(0, EventKind.BEAM_BROKEN, 100))
        device.write(encode_frame(Frame(0, 2, 0x55, b"v1 status")))
        device.write(encode_frame(Frame(0, 3, 0x40, b"")))  # STATUS, reserved for v1
        device.send(0, 4, Event(1, EventKind.BEAM_BROKEN, 200))
        await until(lambda: len(events) >= 2, 2.0, "both EVENTs")
        assert [e.ticks for e in events] == [100, 200]
        assert session.unknown_types == 2
        assert session.link_stats["unknown_types"] == 2
        assert not session.lost

    run(lambda: with_raw_device(body))


def test_unknown_type_is_not_counted_as_lost() -> None:
    async def body(device: RawDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.send(0, 0, hello())
        device.write(encode_frame(Frame(0, 1, 0x55, b"")))
        device.send(0, 2, Event(0, EventKind.BEAM_BROKEN, 100))
        await until(lambda: len(events) >= 1, 2.0, "the EVENT")
        assert session.devices[0].lost_frames == 0

    run(lambda: with_raw_device(body))


# --- (c) unplug ----------------------------------------------------------------------------------


def test_unplug_fires_on_lost() -> None:
    async def scenario() -> None:
        hub = VirtualHub(seed=31)
        hub.start()
        lost = asyncio.Event()
        reasons: list[tuple[str, BaseException | None]] = []

        def on_lost(url: str, error: BaseException | None) -> None:
            reasons.append((url, error))
            lost.set()

        session = PortSession(hub.port, on_event=lambda _: None, on_lost=on_lost)
        unplugged = False
        try:
            await session.start()
            await session.wait_ready(timeout_s=3.0)
            assert not session.lost
            hub.stop()
            unplugged = True
            await asyncio.wait_for(lost.wait(), 2.0)
            assert session.lost
            assert reasons[0][0] == hub.port
            await asyncio.sleep(0.2)
            assert len(reasons) == 1  # told once
        finally:
            await session.stop()
            if not unplugged:
                hub.stop()

    run(scenario)


def test_hub_stop_twice_is_harmless() -> None:
    hub = VirtualHub(seed=32)
    hub.start()
    hub.stop()
    hub.stop()


def test_missing_port_raises_link_error() -> None:
    async def scenario() -> None:
        session = PortSession("/dev/nonexistent-agility-port", on_event=lambda _: None)
        with pytest.raises(LinkError):
            await session.start()

    run(scenario)


# --- (d) EVENT before HELLO; (e) duplicates -------------------------------------------------------


def test_event_before_hello_is_held_until_identified() -> None:
    async def body(device: RawDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.send(3, 4, Event(1, EventKind.POD_TOUCHED, 777_000))
        await device.expect(MsgType.IDENTIFY, 3)
        assert events == [] and 3 not in session.devices
        device.send(3, 5, hello(boot_id=9, kind=DeviceKind.POD))
        await until(lambda: len(events) >= 1, 2.0, "the held EVENT")
        (ev,) = events
        assert (ev.device, ev.boot_id, ev.seq) == (f"pod-{DEVICE_ID:08X}", 9, 4)
        assert (ev.channel, ev.kind, ev.ticks) == (1, EventKind.POD_TOUCHED, 777_000)
        device.send(3, 6, Event(0, EventKind.POD_TOUCHED, 900_000))
        await until(lambda: len(events) >= 2, 2.0, "the next EVENT")
        assert events[1].ticks == 900_000
        assert session.devices[3].lost_frames == 0
        assert session.devices[3].duplicates == 0

    run(lambda: with_raw_device(body))


def test_duplicate_frame_is_delivered_once() -> None:
    async def body(device: RawDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.send(0, 0, hello())
        first = device.send(0, 1, Event(0, EventKind.BEAM_BROKEN, 1_000))
        device.write(first)  # the same SEQ again, byte for byte
        device.send(0, 2, Event(1, EventKind.BEAM_BROKEN, 2_000))
        device.write(first)  # and once more, late
        # Frames are counted on the reader thread and handled later on the loop: wait for both.
        await until(lambda: session.link_stats["frames"] >= 5, 2.0, "all five frames")
        await until(
            lambda: 0 in session.devices and session.devices[0].duplicates >= 2,
            1.0,
            "two duplicates",
        )
        assert [(e.seq, e.ticks) for e in events] == [(1, 1_000), (2, 2_000)]
        assert session.devices[0].duplicates == 2
        assert session.devices[0].lost_frames == 0

    run(lambda: with_raw_device(body))


def test_reboot_starts_a_new_sequence() -> None:
    async def body(device: RawDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.send(0, 0, hello(boot_id=1))
        device.send(0, 1, Event(0, EventKind.BEAM_BROKEN, 1_000))
        device.send(0, 0, hello(boot_id=2))  # power cycle: SEQ starts again at 0
        device.send(0, 1, Event(0, EventKind.BEAM_BROKEN, 50))
        await until(lambda: len(events) >= 2, 2.0, "both EVENTs")
        assert [(e.boot_id, e.seq, e.ticks) for e in events] == [(1, 1, 1_000), (2, 1, 50)]
        assert session.devices[0].duplicates == 0

    run(lambda: with_raw_device(body))
