"""SerialLink and PortSession over real pseudo-terminals: noise, unknown types, unplug, replays.

Every scenario runs inside asyncio.run with an overall timeout, and every wait inside it is
bounded, so a broken driver fails a test instead of hanging the suite. The device end is the
scripted fake of tests/hardware/host_fake.py, or the simulated hub of hardware/sim.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable

import pytest

from hardware.device import DeviceEvent, PortSession
from hardware.errors import LinkError
from hardware.messages import DeviceKind, Event, EventKind, Identify, encode_message
from hardware.sim.models import SimClock
from hardware.sim.plugged import PluggedDevice
from hardware.wire import SYNC, Frame, encode_frame
from tests.hardware.host_fake import DEVICE_ID, FakeDevice, run, with_session
from tests.support import wait_until_async

# --- (a) a simulated hub: device ticks are the truth, splits within 1 ms --------------------------


async def hub_events(hub: PluggedDevice, plan: Callable[[PluggedDevice], int]) -> list[DeviceEvent]:
    """Start `hub`, run a session on it, let `plan` schedule edges; return their events."""
    events: list[DeviceEvent] = []
    hub.start()
    session = PortSession(hub.port, on_event=events.append)
    try:
        await session.start()
        await session.wait_ready(timeout_s=3.0)
        count = plan(hub)
        await wait_until_async(f"{count} events", lambda: len(events) >= count, 5.0)
        await asyncio.sleep(0.05)  # anything extra (a repeat) would arrive now
        assert len(events) == count
        return events
    finally:
        await session.stop()
        hub.stop()


def check_against_truth(hub: PluggedDevice, events: list[DeviceEvent]) -> None:
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
    hub = PluggedDevice(seed=11)
    assert hub.clock.offset_ticks < 2**32 - 60_000_000, "pick a seed whose clock does not wrap"

    def plan(hub: PluggedDevice) -> int:
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
    hub = PluggedDevice(seed=12, clock=clock)

    def plan(hub: PluggedDevice) -> int:
        # No bound on how long the hub took to become ready: an edge whose time has passed
        # is stamped with the tick of that time all the same (the counter is a function of
        # true time), so a slow start changes when the events arrive, not their ticks.
        wrap_ns = clock.origin_ns + round(1_500_000 * 1e3 / (1 - 120e-6))
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
    sent = [Event(i, i % 2, EventKind.BEAM_BROKEN, 1_000_000 + 37_000 * i) for i in range(12)]

    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()  # SEQ 0
        stream = b""
        junk = 0
        for i, ev in enumerate(sent, start=1):
            garbage = clean_garbage(rng, rng.randint(0, 30))
            junk += len(garbage)
            stream += garbage + encode_message(0, i, ev)
        # Noise that ate the tail of a frame: a SYNC, a LEN and part of a header.
        cut = encode_frame(Frame(0, 99, 0x10, bytes(10)))[:7]
        tail = encode_message(0, len(sent) + 1, Event(len(sent), 1, EventKind.BEAM_RESTORED, 5))
        stream += cut + tail + bytes([SYNC, 0xFF])  # and a SYNC with LEN > 200
        junk += len(cut) + 2
        pos = 0
        while pos < len(stream):  # dribbled in, the way a USB bridge hands over packets
            step = rng.randint(1, 40)
            device.write(stream[pos : pos + step])
            pos += step
            await asyncio.sleep(0.001)
        await wait_until_async("every EVENT", lambda: len(events) >= len(sent) + 1, 3.0)
        await wait_until_async(
            "the last junk", lambda: session.link_stats["skipped_bytes"] >= junk, 1.0
        )
        assert [(e.seq, e.channel, e.kind, e.ticks) for e in events[:-1]] == [
            (ev.evseq, ev.channel, ev.kind, ev.tick32) for ev in sent
        ]
        assert events[-1].ticks == 5
        stats = session.link_stats
        assert stats["skipped_bytes"] == junk
        assert stats["bad_crc"] == 1
        assert stats["frames"] == len(sent) + 2  # HELLO and the frame after the cut one
        assert session.devices[0].lost_frames == 0

    run(lambda: with_session(body, FakeDevice(answer_pings=False)))


def test_unknown_type_is_counted_and_link_goes_on() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.event(0, tick=100)
        device.write(encode_frame(Frame(0, 2, 0x55, b"v2 news")))
        device.write(encode_frame(Frame(0, 3, 0x41, b"")))
        device._seq[0] = 4
        device.event(1, channel=1, tick=200)
        await wait_until_async("both EVENTs", lambda: len(events) >= 2, 2.0)
        assert [e.ticks for e in events] == [100, 200]
        assert session.unknown_types == 2
        assert session.link_stats["unknown_types"] == 2
        assert session.devices[0].lost_frames == 0
        assert not session.lost

    run(lambda: with_session(body, FakeDevice(answer_pings=False)))


# --- (c) unplug ----------------------------------------------------------------------------------


def test_unplug_fires_on_lost_once_and_marks_devices_lost() -> None:
    async def scenario() -> None:
        device = FakeDevice()
        lost = asyncio.Event()
        reasons: list[tuple[str, BaseException | None]] = []

        def on_lost(url: str, error: BaseException | None) -> None:
            reasons.append((url, error))
            lost.set()

        session = PortSession(device.port, on_event=lambda _: None, on_lost=on_lost)
        try:
            await session.start()
            device.start_reading()
            await device.expect(Identify)
            device.hello()
            await session.wait_ready(timeout_s=3.0)
            assert not session.lost
            device.unplug()
            await asyncio.wait_for(lost.wait(), 2.0)
            assert session.lost and reasons[0][0] == device.port
            assert session.devices[0].state == "lost" and not session.devices[0].ready
            await asyncio.sleep(0.2)  # time for a second report, which must not come
            assert len(reasons) == 1  # told once
        finally:
            await session.stop()
            device.unplug()

    run(scenario)


def test_missing_port_raises_link_error() -> None:
    async def scenario() -> None:
        session = PortSession("/dev/nonexistent-agility-port", on_event=lambda _: None)
        with pytest.raises(LinkError):
            await session.start()

    run(scenario)


# --- (d) EVENT before HELLO; (e) duplicates -------------------------------------------------------


def test_event_before_hello_is_held_until_identified() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.event(0, channel=1, kind=EventKind.POD_TOUCHED, tick=777_000, addr=3)
        await device.expect(Identify, addr=3)
        assert events == [] and 3 not in session.devices
        device.kind = DeviceKind.POD
        device.boot_id = 9
        device.hello(addr=3)
        await wait_until_async("the held EVENT", lambda: len(events) >= 1, 2.0)
        (ev,) = events
        assert (ev.device, ev.boot_id, ev.seq) == (f"pod-{DEVICE_ID:08X}", 9, 0)
        assert (ev.channel, ev.kind, ev.ticks) == (1, EventKind.POD_TOUCHED, 777_000)
        device.event(1, tick=900_000, kind=EventKind.POD_TOUCHED, addr=3)
        await wait_until_async("the next EVENT", lambda: len(events) >= 2, 2.0)
        assert events[1].ticks == 900_000
        assert session.devices[3].lost_frames == 0
        assert session.devices[3].duplicates == 0

    run(lambda: with_session(body, FakeDevice(answer_pings=False)))


def test_duplicate_frame_is_delivered_once() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        first = device.send(Event(0, 0, EventKind.BEAM_BROKEN, 1_000))
        device.write(first)  # the same SEQ again, byte for byte
        device.send(Event(1, 1, EventKind.BEAM_BROKEN, 2_000))
        device.write(first)  # and once more, late
        # Frames are counted on the reader thread and handled later on the loop: wait for both.
        await wait_until_async("all five frames", lambda: session.link_stats["frames"] >= 5, 2.0)
        await wait_until_async(
            "two duplicates",
            lambda: 0 in session.devices and session.devices[0].duplicates >= 2,
            1.0,
        )
        assert [(e.seq, e.ticks) for e in events] == [(0, 1_000), (1, 2_000)]
        assert session.devices[0].duplicates == 2
        assert session.devices[0].lost_frames == 0

    run(lambda: with_session(body, FakeDevice(answer_pings=False)))


def test_reboot_starts_a_new_sequence() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.boot_id = 1
        device.hello()
        device.event(0, tick=1_000)
        device.boot_id = 2
        device._seq[0] = 0  # power cycle: SEQ and event numbers start again at 0
        device.hello()
        device.event(0, tick=50)
        await wait_until_async("both EVENTs", lambda: len(events) >= 2, 2.0)
        assert [(e.boot_id, e.seq, e.ticks) for e in events] == [(1, 0, 1_000), (2, 0, 50)]
        assert session.devices[0].duplicates == 0

    run(lambda: with_session(body, FakeDevice(answer_pings=False)))
