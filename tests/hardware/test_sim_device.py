"""One virtual device on a virtual port, checked against PROTOCOL.md sections 4 to 7 by bytes."""

from __future__ import annotations

import time

import pytest

from hardware.messages import (
    Caps,
    DeviceKind,
    Event,
    EventAck,
    EventKind,
    EventNak,
    Hello,
    Identify,
    Ping,
    Pong,
    Status,
)
from hardware.sim.port import VirtualPort
from hardware.sim.retransmit import RTO_INITIAL_NS, RTO_MAX_NS
from tests.hardware.sim_rig import FAST_USB, events, gate, rig
from tests.hardware.test_sim_host import MS, RawHost, is_msg
from tests.support import wait_until


def test_hello_then_status_at_power_up() -> None:
    dev = gate(boot_id=7, battery_pct=87, beam_alignment=(96, 41), firmware=(1, 2, 3))
    with rig(dev) as host:
        hello = host.next(Hello)
        assert hello == Hello(1, DeviceKind.GATE, 0x00AB12CD, 7, (1, 2, 3), 1_000_000, 2,
                              Caps.BEAM)  # fmt: skip
        status = host.next(Status)
        assert status == Status(87, 255, 0, (96, 41), dropped=0)  # it counts: 0 so far


@pytest.mark.parametrize(
    ("versions", "identify", "proto"),
    [
        ((1,), Identify(1, 1), 1),
        ((1, 2), Identify(1, 1), 1),
        ((1, 2), Identify(1, 3), 2),
        ((1, 2), Identify(0, 0), 2),  # empty payload: "any"
        ((2,), Identify(1, 1), 2),  # no common version: its own highest
        ((0,), Identify(1, 1), 0),
    ],
)
def test_identify_negotiates_the_version(
    versions: tuple[int, ...], identify: Identify, proto: int
) -> None:
    with rig(gate(versions=versions)) as host:
        host.expect(is_msg(Status))
        host.send(0, identify)
        assert host.next(Hello).proto == proto
        host.expect(is_msg(Status), what="STATUS after HELLO")


def test_pong_carries_the_tick_at_the_pings_last_byte_as_a_uart_delivers_it() -> None:
    # PROTOCOL.md 4.3: the tick is read as the PING's last byte arrives, which on a 115200
    # UART is no sooner than its 12 bytes' line time after the write; the PONG's 16 bytes
    # then need theirs before the host can have them.
    ping_ns, pong_ns = 12 * 10 * 10**9 // 115_200, 16 * 10 * 10**9 // 115_200
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        for nonce in range(5):
            sent = host.send(0, Ping(nonce))
            got = host.expect(is_msg(Pong), what="PONG")
            assert isinstance(got.msg, Pong) and got.msg.nonce == nonce
            lo = dev.clock.ticks_at(sent + ping_ns) & 0xFFFFFFFF
            hi = dev.clock.ticks_at(got.mono_ns - pong_ns) & 0xFFFFFFFF
            assert (got.msg.tick32 - lo) % 2**32 <= (hi - lo) % 2**32


def test_events_are_resent_until_acked_and_not_after() -> None:
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        dev.schedule_edge(1, EventKind.BEAM_BROKEN, time.monotonic_ns())
        first = host.next(Event)
        again = host.next(Event, timeout_s=0.5)
        assert first == again  # same evseq, tick and ref
        truth = dev.truth_since(0)
        assert isinstance(first, Event) and first.evseq == truth[0].seq == 0
        assert first.tick32 == truth[0].ticks & 0xFFFFFFFF
        host.send(0, EventAck(0))
        wait_until("the ACK to reach the device", lambda: dev.unacked == 0)
        host.collect(0.02)  # a re-send already on its way when the ACK landed
        assert events(host.collect(0.5)) == []  # and none after it


def test_rto_doubles_while_nothing_is_acked(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        # The device's own RTO as each timeout leaves it, not gaps on this host's clock.
        rtos_ns: list[int] = []
        rto = dev.buffer.rto
        real_back_off = rto.back_off

        def back_off() -> None:
            real_back_off()
            rtos_ns.append(rto.rto_ns)

        monkeypatch.setattr(rto, "back_off", back_off)
        assert rto.rto_ns == RTO_INITIAL_NS
        dev.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns())
        sent = [host.next(Event, timeout_s=2.0) for _ in range(5)]
        assert sent == [sent[0]] * 5  # only the oldest event, once per timeout
        wait_until("the fourth timeout", lambda: len(rtos_ns) >= 4)
        assert rtos_ns[:4] == [200 * MS, 400 * MS, 800 * MS, RTO_MAX_NS]  # doubled, then capped


def test_rto_adapts_to_fast_acks() -> None:
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        for i in range(12):
            dev.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns())
            ev = host.next(Event)
            assert isinstance(ev, Event) and ev.evseq == i
            host.send(0, EventAck(ev.evseq))
        wait_until("the last ACK to reach the device", lambda: dev.unacked == 0)
        assert dev.rto_ns == 25 * MS  # sub-millisecond round trips: clamped at the floor
        assert dev.buffer.rto.srtt_ns is not None and dev.buffer.rto.srtt_ns < 5 * MS


def test_event_nak_resends_from_n_at_once() -> None:
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        now = time.monotonic_ns()
        for i in range(5):
            dev.schedule_edge(i % 2, EventKind.BEAM_BROKEN, now + i * MS)
        for _ in range(5):
            host.expect(is_msg(Event))
        host.send(0, EventAck(1))
        host.send(0, EventNak(2))
        got = [host.next(Event, timeout_s=0.5) for _ in range(3)]
        # A timeout re-sends only the oldest event: 3 and 4 right after 2 are the NAK's answer.
        assert [ev.evseq for ev in got] == [2, 3, 4]


def test_unplug_keeps_events_and_replug_resends_them_after_hello() -> None:
    dev = gate(boot_id=99)
    port = VirtualPort([dev], latency=FAST_USB, seed=3)
    first_path = port.start()
    host = RawHost(first_path)
    try:
        host.expect(is_msg(Status))
        dev.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns())
        dev.schedule_edge(0, EventKind.BEAM_RESTORED, time.monotonic_ns() + MS)
        host.expect(is_msg(Event))
        host.expect(is_msg(Event))
        host.send(0, EventAck(0))
        wait_until("the ACK to reach the device", lambda: dev.unacked == 1)
        port.unplug()
        assert port.port == ""
        with pytest.raises(OSError):  # the host's reads fail at once, as when a cable is pulled
            for _ in range(10):
                host.pump(0.05)  # bytes already in the tty are still read first
        host.close()
        dev.schedule_edge(1, EventKind.BEAM_BROKEN, time.monotonic_ns())  # while unplugged
        time.sleep(0.3)  # several RTOs: nothing must be lost or doubled meanwhile
        new_path = port.replug()
        assert new_path != first_path and port.port == new_path
        host = RawHost(new_path)
        hello = host.expect(is_msg(Hello), what="HELLO after replug")
        assert isinstance(hello.msg, Hello) and hello.msg.boot_id == 99
        after = host.collect(0.05)
        resent = events(after)
        assert [e.evseq for e in resent[:2]] == [1, 2]
        assert isinstance(after[0].msg, Event), "unacked events follow HELLO at once"
        truth = dev.truth_since(0)
        assert [(t.seq, t.channel, t.kind) for t in truth] == [
            (0, 0, EventKind.BEAM_BROKEN),
            (1, 0, EventKind.BEAM_RESTORED),
            (2, 1, EventKind.BEAM_BROKEN),
        ]
        assert resent[1].tick32 == truth[2].ticks & 0xFFFFFFFF
    finally:
        host.close()
        port.stop()
        port.stop()  # idempotent


def test_status_is_periodic_and_counts_bad_frames() -> None:
    dev = gate(status_period_s=0.2, battery_pct=55)
    with rig(dev) as host:
        first = host.expect(is_msg(Status))
        bad = bytearray(host_frame := _ping_bytes())
        bad[-1] ^= 0x01  # a bad CRC
        host.send_raw(bytes(bad))
        host.send_raw(host_frame)  # the next frame still gets through
        host.expect(is_msg(Pong))
        later = host.expect(is_msg(Status), timeout_s=1.0)
        assert 150 * MS <= later.mono_ns - first.mono_ns <= 300 * MS
        assert later.msg == Status(55, 255, 1, (95, 95), dropped=0)


def _ping_bytes() -> bytes:
    from hardware.messages import encode_message

    return encode_message(0, 40, Ping(1234))


def test_power_cycle_starts_a_new_boot() -> None:
    dev = gate(boot_id=1)
    with rig(dev) as host:
        host.next(Status)
        dev.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns())
        assert host.next(Event).evseq == 0
        dev.power_cycle()
        hello = host.next(Hello)
        assert hello.boot_id != 1 and hello.boot_id == dev.boot_id
        host.next(Status)
        dev.schedule_edge(0, EventKind.BEAM_RESTORED, time.monotonic_ns())
        ev = host.next(Event)
        assert (ev.evseq, ev.kind) == (0, EventKind.BEAM_RESTORED)  # numbered from 0 again


def test_full_buffer_drops_new_events_and_counts_them_in_status() -> None:
    dev = gate(buffer_capacity=32, status_period_s=0.2)
    with rig(dev) as host:  # a host that acknowledges nothing
        host.expect(is_msg(Status))
        start = time.monotonic_ns()
        for k in range(40):
            kind = EventKind.BEAM_BROKEN if k % 2 == 0 else EventKind.BEAM_RESTORED
            dev.schedule_edge(0, kind, start + k * MS)
        status = host.expect(lambda r: isinstance(r.msg, Status) and r.msg.dropped == 8,
                             timeout_s=2.0, what="STATUS counting 8 dropped").msg  # fmt: skip
        assert isinstance(status, Status) and status.link_quality == 0  # full: link 0
        assert dev.unacked == 32
        assert [t.seq for t in dev.truth_since(0)] == list(range(32))  # the oldest are kept
        assert [s.reason for s in dev.suppressed_since(0)] == ["buffer_full"] * 8


def test_unacknowledged_events_follow_every_hello_even_one_answering_identify() -> None:
    # A host that has just started sends IDENTIFY: it must get what nobody acknowledged.
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        dev.schedule_edge(0, EventKind.BEAM_BROKEN, time.monotonic_ns())
        assert host.next(Event).evseq == 0
        host.collect(0.05)
        host.send(0, Identify(1, 1))
        host.next(Hello)
        # Right behind the HELLO (before its STATUS), not whenever the RTO would have fired.
        after = host.expect(lambda r: True, what="the frame after HELLO").msg
        assert isinstance(after, Event) and after.evseq == 0


def test_device_drops_a_host_frame_whose_len_was_hit_after_20_ms_of_quiet() -> None:
    dev = gate()
    with rig(dev) as host:
        host.expect(is_msg(Status))
        hit = bytearray(_ping_bytes())
        hit[1] = 200  # the device would wait for 208 bytes
        host.send_raw(bytes(hit))
        time.sleep(0.03)  # the quiet itself: past 20 ms the device gives up on the frame
        host.send(0, Ping(77))
        pong = host.next(Pong, timeout_s=0.5)
        assert pong.nonce == 77
