"""PortSession v1 against a scripted device on a pty: negotiation, order, ACK/NAK, counters."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from hardware.device import DeviceEvent, PortSession
from hardware.device_state import DeviceState
from hardware.errors import LinkError
from hardware.messages import (
    Action,
    DeviceKind,
    Event,
    EventAck,
    EventKind,
    EventNak,
    Identify,
    Ping,
    Status,
)
from hardware.wire import Frame, encode_frame
from tests.hardware.host_fake import DEVICE_ID, FakeDevice, run, with_session
from tests.support import wait_until_async


def acks(device: FakeDevice, addr: int = 0) -> list[int]:
    return [m.evseq for m in device.got(EventAck, addr)]


def naks(device: FakeDevice, addr: int = 0) -> list[int]:
    return [m.evseq for m in device.got(EventNak, addr)]


def test_identify_offers_our_version_range_and_hello_is_accepted() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        assert device.got(Identify)[0] == Identify(1, 1)
        device.hello()
        await wait_until_async("the device", lambda: 0 in session.devices, 2.0)
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
        await wait_until_async("both", lambda: 0 in session.devices and 1 in session.devices, 2.0)
        device.event(0, addr=0)
        device.event(0, addr=1)
        await wait_until_async(
            "the supported device's ACK", lambda: bool(events and acks(device, 1)), 2.0
        )
        await asyncio.sleep(0.1)  # the other one's event would be delivered or acked by now
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
        await wait_until_async(
            "ACK of 2", lambda: acks(device)[-1:] == [2] and len(events) == 3, 2.0
        )
        await asyncio.sleep(0.1)  # a repeat sent late would be delivered by now
        assert [(e.seq, e.ticks) for e in events] == [(0, 1000), (1, 1001), (2, 1002)]
        # Cumulative, one per batch of frames that arrived together: never backwards.
        assert acks(device) == sorted(acks(device)) and set(acks(device)) <= {0, 1, 2}
        state = session.devices[0]
        assert (state.events, state.duplicates, state.lost_frames) == (3, 2, 0)
        assert naks(device) == []

    run(lambda: with_session(body))


def test_gap_is_held_nakked_and_delivered_in_order_when_filled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        # Each NAK with the session's own time and RTO when it went out: "at most once per
        # RTO" is then checked on the session's inputs, not on how fast this host runs.
        sent: list[tuple[int, int]] = []
        real_nak = session._nak

        def nak(addr: int, state: DeviceState, now_us: int) -> None:
            sent.append((now_us, state.rto.us))
            real_nak(addr, state, now_us)

        monkeypatch.setattr(session, "_nak", nak)
        device.hello()
        device.event(0, tick=10)
        device.event(2, tick=30)
        device.event(3, tick=40)
        await wait_until_async(
            "ACK and NAK", lambda: acks(device)[-1:] == [0] and bool(naks(device)), 2.0
        )
        assert [e.seq for e in events] == [0]
        assert set(acks(device)) == {0}
        assert naks(device)[0] == 1  # at once
        # Repeated while the gap lasts, but at most once per RTO.
        await wait_until_async("two repeated NAKs", lambda: len(naks(device)) >= 3, 2.0)
        assert set(naks(device)) == {1}
        assert [e.seq for e in events] == [0]  # still held
        assert all(t1 - t0 >= rto for (t0, _), (t1, rto) in itertools.pairwise(sent)), sent
        device.event(1, tick=20)
        await wait_until_async("the held events", lambda: len(events) >= 4, 2.0)
        assert [(e.seq, e.ticks) for e in events] == [(0, 10), (1, 20), (2, 30), (3, 40)]
        assert acks(device)[-1] == 3
        settled = len(naks(device))
        await asyncio.sleep(0.15)  # several RTOs in which no NAK may follow
        assert len(naks(device)) == settled  # gap closed: no more NAKs
        assert session.devices[0].naks_sent == settled == len(sent)

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
        await wait_until_async(
            "the STATUS",
            lambda: 0 in session.devices and session.devices[0].status is not None,
            2.0,
        )
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
        await wait_until_async("both events", lambda: len(events) == 2, 2.0)
        assert session.devices[0].lost_frames == 3

    run(lambda: with_session(body))


def test_event_before_hello_is_held_until_identified() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.event(0, addr=3, tick=777_000, kind=EventKind.POD_TOUCHED)
        await device.expect(Identify, addr=3)
        assert events == [] and 3 not in session.devices
        device.kind = DeviceKind.POD
        device.hello(addr=3)
        await wait_until_async("the held event", lambda: len(events) >= 1, 2.0)
        (ev,) = events
        assert (ev.device, ev.boot_id, ev.seq, ev.ticks) == (f"pod-{DEVICE_ID:08X}", 7, 0, 777_000)
        assert acks(device, 3) == [0]

    run(lambda: with_session(body))


def test_host_restart_meets_events_already_acknowledged_elsewhere() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.event(40)  # the device's oldest unacknowledged event; 0..39 were acked before
        await wait_until_async("the event after giving up on 0..39", lambda: len(events) == 1, 3.0)
        assert events[0].seq == 40
        assert len(naks(device)) == 3 and set(naks(device)) == {0}
        await wait_until_async("ACK(40)", lambda: acks(device)[-1:] == [40], 2.0)

    run(lambda: with_session(body))


def test_missing_port_raises_link_error() -> None:
    async def scenario() -> None:
        session = PortSession("/dev/nonexistent-agility-port", on_event=lambda _: None)
        with pytest.raises(LinkError):
            await session.start()

    run(scenario)


def test_first_contact_with_a_device_past_32767_is_served_not_ignored() -> None:
    # A host anchored at event 0 took 40000 (nearest to 0: -25536) for an old repeat and
    # answered nothing at all, so the device re-sent it for ever.
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.event(40_000, tick=4_000)
        device.event(40_001, tick=4_001)
        await wait_until_async("the events after three NAKs of 0", lambda: len(events) == 2, 3.0)
        assert [(e.seq, e.ticks) for e in events] == [(40_000, 4_000), (40_001, 4_001)]
        assert naks(device) == [0, 0, 0]
        await wait_until_async("ACK(40001)", lambda: acks(device)[-1:] == [40_001], 2.0)
        device.event(40_002)
        await wait_until_async("the next event, at once", lambda: len(events) == 3, 2.0)
        assert events[2].seq == 40_002 and naks(device) == [0, 0, 0]

    run(lambda: with_session(body))


def test_host_frames_share_one_seq_per_port_across_addresses() -> None:
    # PROTOCOL.md section 2: one counter per port, so a device sees numbers skipped.
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello(addr=0)
        device.hello(addr=5, device_id=0x55)
        await wait_until_async(
            "pings to both",
            lambda: len(device.got(Ping, 0)) >= 3 and len(device.got(Ping, 5)) >= 3,
            2.0,
        )
        seqs = [f.seq for f, _ in device.from_host]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # one count, no repeats
        to_5 = [f.seq for f, _ in device.from_host if f.addr == 5]
        assert any(b - a > 1 for a, b in itertools.pairwise(to_5))

    run(lambda: with_session(body))


def test_a_frame_whose_len_was_hit_does_not_hold_back_the_next_event() -> None:
    # LEN raised to 200 by noise: the host would wait for 208 bytes that a quiet device
    # (no PONGs here) never sends, and the event behind it would never come out.
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.answer_pings = False
        device.hello()
        await wait_until_async("the device", lambda: 0 in session.devices, 2.0)
        event = Event(0, 0, EventKind.BEAM_BROKEN, 5)
        hit = bytearray(encode_frame(Frame(0, 1, event.TYPE, event.pack())))
        hit[1] = 200
        device.write(bytes(hit))
        device._seq[0] = 2
        await asyncio.sleep(0.05)  # the line goes quiet past 20 ms
        device.event(1, tick=6)
        device.event(0, tick=5)  # re-sent after the host's NAK, as a device does
        await wait_until_async("both events", lambda: len(events) == 2, 2.0)
        assert [(e.seq, e.ticks) for e in events] == [(0, 5), (1, 6)]
        assert session.link_stats["idle_drops"] == 1

    run(lambda: with_session(body))


def test_status_dropped_count_is_on_the_device_state() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        device.send(Status(87, 255, 0, (96, 41)))
        await wait_until_async(
            "the old STATUS",
            lambda: 0 in session.devices and session.devices[0].status is not None,
            2.0,
        )
        state = session.devices[0]
        assert state.dropped is None
        device.send(Status(87, 255, 0, (96, 41), dropped=5))
        await wait_until_async("the new STATUS", lambda: state.dropped == 5, 2.0)

    run(lambda: with_session(body))
