"""Fault injection on real ptys: a session through garbage, devices of unknown versions."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

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
from hardware.sim.port import VirtualPort
from hardware.wire import SYNC
from server.devices.service import DeviceService
from tests.hardware.fault_rig import (
    MS,
    QUICK_USB,
    TICK_WRAP,
    check_against_truth,
    gate,
    key_of,
    run_bounded,
)
from tests.hardware.host_fake import FakeDevice
from tests.support import wait_until_async

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
            await wait_until_async(
                "every valid event", lambda: len(delivered) >= GARBAGE_EVENTS, 5.0
            )
            await wait_until_async(
                "the final cumulative ACK",
                lambda: [a.evseq for a in device.got(EventAck)][-1:] == [GARBAGE_EVENTS - 1], 2.0,
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
            await wait_until_async("all four HELLOs", lambda: len(session.devices) == 4, 2.0)
            start = time.monotonic_ns() + 50 * MS
            for i, device in enumerate((hub, v2, v0, good)):
                for k in range(per_device):
                    kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
                    device.schedule_edge(0, kind, start + i * MS + k * 5 * MS)
            await wait_until_async(
                "the good devices' events", lambda: len(delivered) >= 2 * per_device, 5.0
            )
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
