"""PortSession v1 against a scripted device on a pty: negotiation, order, ACK/NAK, counters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from hardware.device import DeviceEvent, PortSession
from hardware.errors import LinkError
from hardware.messages import (
    Action,
    DeviceKind,
    EventAck,
    EventKind,
    EventNak,
    Identify,
    Status,
)
from hardware.wire import Frame, encode_frame
from tests.hardware.host_fake import DEVICE_ID, FakeDevice, run, until

Body = Callable[[FakeDevice, PortSession, list[DeviceEvent]], Awaitable[None]]


async def with_session(body: Body, device: FakeDevice | None = None) -> None:
    device = device or FakeDevice()
    events: list[DeviceEvent] = []
    session = PortSession(device.port, on_event=events.append)
    try:
        await session.start()
        device.start_reading()
        # The port is open (pyserial flushed its input) once the start-up IDENTIFY arrives.
        await device.expect(Identify)
        await body(device, session, events)
    finally:
        await session.stop()
        device.unplug()


def acks(device: FakeDevice, addr: int = 0) -> list[int]:
    return [m.evseq for m in device.got(EventAck, addr)]


def naks(device: FakeDevice, addr: int = 0) -> list[int]:
    return [m.evseq for m in device.got(EventNak, addr)]


def test_identify_offers_our_version_range_and_hello_is_accepted() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        assert device.got(Identify)[0] == Identify(1, 1)
        device.hello()
        await until(lambda: 0 in session.devices, 2.0, "the device")
        state = session.devices[0]
        assert state.info.proto == 1 and state.info.key == f"gate-{DEVICE_ID:08X}"
        await session.wait_ready(timeout_s=3.0)
        assert state.state == "ready" and state.ready

    run(lambda: with_session(body))


def test_unsupported_version_is_named_and_ignored_others_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hardware.device")

    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello(addr=0, proto=2)
        device.hello(addr=1, device_id=0x11)
        await until(lambda: 0 in session.devices and 1 in session.devices, 2.0, "both")
        device.event(0, addr=0)
        device.event(0, addr=1)
        await until(lambda: len(events) >= 1, 2.0, "the supported device's event")
        await asyncio.sleep(0.1)
        bad = session.devices[0]
        assert bad.state == "unsupported" and not bad.ready
        assert bad.info.proto == 2
        assert bad.unsupported is not None
        assert "version 2" in bad.unsupported and "versions 1 to 1" in bad.unsupported
        assert f"gate-{DEVICE_ID:08X}" in bad.unsupported
        assert [e.device for e in events] == ["gate-00000011"]
        assert acks(device, 0) == [] and acks(device, 1) == [0]
        warnings = [r for r in caplog.records if "speaks protocol version 2" in r.getMessage()]
        assert len(warnings) == 1
        with pytest.raises(Exception, match="version 2"):
            await session.send_command(f"gate-{DEVICE_ID:08X}", Action.LIGHT, 0)

    run(lambda: with_session(body))


def test_in_order_delivery_repeats_dropped_and_acked_again() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        for n in (0, 1, 1, 2, 0):
            device.event(n, tick=1000 + n)
        await until(lambda: acks(device)[-1:] == [2] and len(events) == 3, 2.0, "ACK of 2")
        await asyncio.sleep(0.1)  # a repeat sent late would be delivered by now
        assert [(e.seq, e.ticks) for e in events] == [(0, 1000), (1, 1001), (2, 1002)]
        # Cumulative, one per batch of frames that arrived together: never backwards.
        assert acks(device) == sorted(acks(device)) and set(acks(device)) <= {0, 1, 2}
        state = session.devices[0]
        assert (state.events, state.duplicates, state.lost_frames) == (3, 2, 0)
        assert naks(device) == []

    run(lambda: with_session(body))


def test_gap_is_held_nakked_and_delivered_in_order_when_filled() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.event(0, tick=10)
        device.event(2, tick=30)
        device.event(3, tick=40)
        await until(lambda: acks(device)[-1:] == [0] and bool(naks(device)), 2.0, "ACK and NAK")
        assert [e.seq for e in events] == [0]
        assert set(acks(device)) == {0}
        assert naks(device)[0] == 1  # at once
        await asyncio.sleep(0.3)
        # Repeated while the gap lasts, but at most once per RTO (100 ms before any sample;
        # the PING round trips on a pty bring it down to its 25 ms floor).
        assert 2 <= len(naks(device)) <= 0.3 / 0.025 + 1
        assert set(naks(device)) == {1}
        device.event(1, tick=20)
        await until(lambda: len(events) >= 4, 2.0, "the held events")
        assert [(e.seq, e.ticks) for e in events] == [(0, 10), (1, 20), (2, 30), (3, 40)]
        assert acks(device)[-1] == 3
        settled = len(naks(device))
        await asyncio.sleep(0.15)
        assert len(naks(device)) == settled  # gap closed: no more NAKs
        assert session.devices[0].naks_sent == settled

    run(lambda: with_session(body))


def test_events_before_the_clock_is_ready_are_delivered_unmapped() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.answer_pings = False
        device.hello()
        device.event(0)
        await until(lambda: len(events) == 1, 2.0, "the event")
        assert events[0].mono_us is None and events[0].sync_error_us is None
        assert session.devices[0].state == "connecting"

    run(lambda: with_session(body))


def test_events_carry_mapped_time_and_error_bound_once_synced() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        await session.wait_ready(timeout_s=3.0)
        device.event(0, channel=1, kind=EventKind.POD_TOUCHED, ref=0)
        await until(lambda: len(events) == 1, 2.0, "the event")
        (ev,) = events
        assert ev.mono_us is not None and ev.sync_error_us is not None
        assert abs(ev.mono_us - ev.received_mono_us) < 20_000
        # The device's own counter (32 bits on the wire, so compared modulo a wrap): the
        # event was stamped within the last two seconds of it.
        assert (device.ticks() - ev.ticks) % (1 << 32) < 2_000_000
        assert ev.clock_id == f"gate-{DEVICE_ID:08X}:7"

    run(lambda: with_session(body))


def test_unknown_type_and_bad_payload_are_counted_and_skipped_without_false_loss() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()  # SEQ 0
        device.event(0)  # SEQ 1
        device.write(encode_frame(Frame(0, 2, 0x55, b"from v2")))
        device.write(encode_frame(Frame(0, 3, 0x10, b"\x00")))  # an EVENT far too short
        device._seq[0] = 4
        device.event(1)
        device.send(Status(87, 255, 0, (96, 41)))
        await until(lambda: 0 in session.devices and session.devices[0].status is not None, 2.0,
                    "the STATUS")  # fmt: skip
        assert [e.seq for e in events] == [0, 1]
        state = session.devices[0]
        assert (state.unknown_types, state.bad_payloads, state.lost_frames) == (1, 1, 0)
        assert session.link_stats["unknown_types"] == session.link_stats["bad_payloads"] == 1
        assert state.status == Status(87, 255, 0, (96, 41))
        assert not session.lost

    run(lambda: with_session(body))


def test_frame_seq_gap_counts_lost_frames() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.event(0)
        device._seq[0] += 3  # three frames the host never saw
        device.event(1)
        await until(lambda: len(events) == 2, 2.0, "both events")
        assert session.devices[0].lost_frames == 3

    run(lambda: with_session(body))


def test_event_before_hello_is_held_until_identified() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.event(0, addr=3, tick=777_000, kind=EventKind.POD_TOUCHED)
        await device.expect(Identify, addr=3)
        assert events == [] and 3 not in session.devices
        device.kind = DeviceKind.POD
        device.hello(addr=3)
        await until(lambda: len(events) >= 1, 2.0, "the held event")
        (ev,) = events
        assert (ev.device, ev.boot_id, ev.seq, ev.ticks) == (f"pod-{DEVICE_ID:08X}", 7, 0, 777_000)
        assert acks(device, 3) == [0]

    run(lambda: with_session(body))


def test_host_restart_meets_events_already_acknowledged_elsewhere() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.event(40)  # the device's oldest unacknowledged event; 0..39 were acked before
        await until(lambda: len(events) == 1, 3.0, "the event after giving up on 0..39")
        assert events[0].seq == 40
        assert len(naks(device)) == 3 and set(naks(device)) == {0}
        await until(lambda: acks(device)[-1:] == [40], 2.0, "ACK(40)")

    run(lambda: with_session(body))


def test_missing_port_raises_link_error() -> None:
    async def scenario() -> None:
        session = PortSession("/dev/nonexistent-agility-port", on_event=lambda _: None)
        with pytest.raises(LinkError):
            await session.start()

    run(scenario)
