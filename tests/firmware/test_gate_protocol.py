"""The gate firmware in simavr against a bare host: HELLO, edges, acknowledgements, noise.

Each test starts the real gate image under the harness with a preloaded EEPROM, so the device
id and boot number are known, and injects beam edges at cycles the harness reports: those
cycles are the truth the stamped ticks are checked against.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
from hardware.sim.avr import AvrDevice
from hardware.sim.avr_image import F_CPU, firmware_elf, read_eeprom_header, write_eeprom
from hardware.wire import SYNC, crc16_ccitt
from tests.firmware.rawhost import RawHost

DEVICE_ID = 0x00AB12CD
BOOTS_BEFORE = 41
CYCLES_PER_TICK = 8  # Timer1 prescaler
# How far ahead edges are scheduled: a harness command is a round trip, and 140 of them on a
# busy machine took longer than the 5 ms this once was.
SCHEDULE_AHEAD_CYCLES = F_CPU


@pytest.fixture
def eeprom(tmp_path: Path) -> Path:
    return write_eeprom(tmp_path / "gate.eeprom", DEVICE_ID, BOOTS_BEFORE)


@pytest.fixture
def gate(firmware_built: Path, eeprom: Path) -> Iterator[AvrDevice]:
    with AvrDevice(firmware_elf("gate"), eeprom=eeprom) as avr:
        yield avr


@pytest.fixture
def host(gate: AvrDevice) -> Iterator[RawHost]:
    with RawHost(gate.port) as h:
        h.send(Identify(1, 1))
        h.wait_for(Hello)
        yield h


def hello(host: RawHost) -> Hello:
    return host.got(Hello)[-1]


def test_hello_says_what_the_gate_is_and_counts_the_boot(
    gate: AvrDevice, host: RawHost, eeprom: Path
) -> None:
    h = hello(host)
    assert h.proto == 1 and h.kind is DeviceKind.GATE
    assert h.device_id == DEVICE_ID and h.boot_id == BOOTS_BEFORE + 1
    assert h.firmware == (1, 0, 0) and h.nominal_tick_hz == 2_000_000
    assert h.channels == 2 and h.caps == Caps.BEAM
    status = host.wait_for(Status)[-1]
    assert status.beams == (100, 100) and status.dropped == 0
    host.close()
    gate.stop()
    assert read_eeprom_header(eeprom) == (DEVICE_ID, BOOTS_BEFORE + 1)


def test_a_blank_eeprom_gets_an_id_that_is_kept(firmware_built: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.eeprom"
    blank.write_bytes(b"\xff" * 1024)
    ids = []
    for boot in (1, 2):
        with AvrDevice(firmware_elf("gate"), eeprom=blank) as avr, RawHost(avr.port) as h:
            h.send(Identify(1, 1))
            got = h.wait_for(Hello, timeout_s=5.0)[-1]
            ids.append(got.device_id)
            assert got.boot_id == boot
    assert ids[0] == ids[1] and ids[0] not in (0, 0xFFFFFFFF)


def beam_cycles(gate: AvrDevice, plan: list[tuple[str, int]], start_cycle: int) -> list[int]:
    """Schedules edges (pin, level) 2-7 ms apart from start_cycle; returns the applied cycles."""
    rng = random.Random(5)
    at = start_cycle
    wanted = []
    for pin, level in plan:
        at += rng.randrange(32_000, 112_000)
        gate.set_pin_at(pin, level, at)
        wanted.append((pin, level, at))
    return [gate.applied_cycle(pin, level, c) for pin, level, c in wanted]


def test_edges_are_stamped_with_the_tick_of_the_injected_cycle(
    gate: AvrDevice, host: RawHost
) -> None:
    plan = [("D8", 0), ("D8", 1), ("D2", 0), ("D2", 1)] * 5
    applied = beam_cycles(gate, plan, gate.cycle() + SCHEDULE_AHEAD_CYCLES)
    events = host.wait_for(Event, count=len(plan))
    assert [e.evseq for e in events] == list(range(len(plan)))
    for e, (pin, level) in zip(events, plan, strict=True):
        assert e.channel == (0 if pin == "D8" else 1)
        assert e.kind == (EventKind.BEAM_BROKEN if level == 0 else EventKind.BEAM_RESTORED)
    # Ticks against cycles, relative to the first edge: input capture (D8) latches in hardware,
    # so it is exact to a tick plus the noise canceller; INT0 (D2) is read in its interrupt.
    first = events[0].tick32 * CYCLES_PER_TICK - applied[0]
    for e, cycle, (pin, _) in zip(events, applied, plan, strict=True):
        late_cycles = e.tick32 * CYCLES_PER_TICK - cycle - first
        bound = 16 if pin == "D8" else 80  # 1 us and 5 us
        assert -CYCLES_PER_TICK <= late_cycles <= bound, (pin, late_cycles)


def test_the_led_shows_a_broken_beam(gate: AvrDevice, host: RawHost) -> None:
    gate.wait_output("D13", 0)  # the 200 ms flash at power-up is over
    broke = gate.set_pin("D2", 0)
    on = gate.wait_output("D13", 1, after_cycle=broke)
    restored = gate.set_pin("D2", 1)
    off = gate.wait_output("D13", 0, after_cycle=restored)
    assert on.cycle - broke < 16_000 and off.cycle - restored < 16_000  # within 1 ms


def test_events_stay_until_acknowledged_and_are_resent_with_their_ticks(
    gate: AvrDevice, host: RawHost
) -> None:
    gate.set_pin("D8", 0)
    gate.set_pin("D8", 1)
    first = host.wait_for(Event, count=2)
    # No ACK: the oldest is sent again after the RTO (100 ms before any round-trip sample).
    again = host.wait_for(Event, lambda e: e.evseq == 0, count=3, timeout_s=3.0)
    assert all(e.tick32 == first[0].tick32 for e in again)
    host.send(EventAck(1))
    mark = host.mark()
    gate.set_pin("D2", 0)
    third = host.wait_for(Event, since=mark)
    assert third[0].evseq == 2
    host.send(EventAck(2))
    settled = host.mark()
    host.wait_for(Status, since=settled, timeout_s=6.0)  # a quiet 5 s: a status, no repeats
    assert host.got(Event, since=settled) == []


def in_a_row(wanted: list[int], seqs: list[int]) -> bool:
    """Whether `wanted` appears in `seqs` as consecutive items."""
    return any(seqs[i : i + len(wanted)] == wanted for i in range(len(seqs)))


def test_a_nak_resends_from_the_asked_number(gate: AvrDevice, host: RawHost) -> None:
    for level in (0, 1, 0, 1):
        gate.set_pin("D8", level)
    # Every event's first sending is in (a timer's resend may have come among them).
    host.wait_for(Event, lambda e: e.evseq == 3)
    host.send(EventAck(0))
    mark = host.mark()
    host.send(EventNak(2))
    host.wait_for(Event, lambda e: e.evseq == 3, since=mark)
    # The timer may resend the oldest unacknowledged event (0, if the ACK is still on its way,
    # or 1) around the NAK's answer; that answer is 2 and 3 in a row, which no timer sends.
    assert in_a_row([2, 3], [e.evseq for e in host.got(Event, since=mark)])


def test_after_hello_every_unacknowledged_event_comes_again(gate: AvrDevice, host: RawHost) -> None:
    for level in (0, 1, 0):
        gate.set_pin("D8", level)
    host.wait_for(Event, lambda e: e.evseq == 2)
    host.send(EventAck(0))
    mark = host.mark()
    host.send(Identify(1, 1))  # a host that starts afresh asks who is there
    host.wait_for(Hello, since=mark)
    host.wait_for(Event, lambda e: e.evseq == 2, since=mark)
    # As above, a timer's resend of the oldest may come first; the HELLO's are 1 and 2 in a row.
    assert in_a_row([1, 2], [e.evseq for e in host.got(Event, since=mark)])


def _nonce_is(nonce: int) -> Callable[[Pong], bool]:
    return lambda pong: pong.nonce == nonce


def test_every_ping_is_answered_in_order_with_a_rising_tick(gate: AvrDevice, host: RawHost) -> None:
    for nonce in range(5):
        mark = host.mark()
        host.send(Ping(nonce))
        pong = host.wait_for(Pong, _nonce_is(nonce), since=mark)[0]
        assert pong.tick32 > 0
    pongs = host.got(Pong)
    assert [p.nonce for p in pongs] == list(range(5))
    assert all(b.tick32 > a.tick32 for a, b in itertools.pairwise(pongs))


def frame(length: int, body: bytes) -> bytes:
    head = bytes([length]) + body
    return bytes([SYNC]) + head + crc16_ccitt(head).to_bytes(2, "big")


def line_idle(gate: AvrDevice, ms: int) -> None:
    """Waits until the simulated UART has taken every byte written and then `ms` more of
    simulated time: bytes written at once reach the device at the baud rate, not at once."""
    stats = gate.stats()
    while True:
        time.sleep(ms / 1000)
        now = gate.stats()
        if now["rx_bytes"] == stats["rx_bytes"] and now["cycle"] - stats["cycle"] >= ms * 16_000:
            return
        stats = now


def test_noise_and_broken_frames_from_the_host_neither_hang_nor_reset_it(
    gate: AvrDevice, host: RawHost
) -> None:
    rng = random.Random(12)
    boot = hello(host).boot_id
    good_ping = frame(4, bytes([0, 0, 9, 0x20]) + (77).to_bytes(4, "big"))
    for _ in range(40):
        host.write(rng.randbytes(rng.randrange(1, 60)))
        corrupt = bytearray(good_ping)
        corrupt[rng.randrange(2, len(corrupt))] ^= 1 << rng.randrange(8)
        host.write(bytes(corrupt))
        host.write(bytes([SYNC, 200]) + rng.randbytes(5))  # a long frame that never ends
    host.write(bytes([SYNC]) * 50 + b"\x00" * 40)
    # A frame start in the noise may announce up to 200 bytes: a real host's pause between
    # messages lets the device drop it as idle.
    line_idle(gate, 30)
    mark = host.mark()
    for nonce in range(1000, 1010):
        host.send(Ping(nonce))
    pongs = host.wait_for(Pong, since=mark, count=5, timeout_s=5.0)
    assert {p.nonce for p in pongs} <= set(range(1000, 1010))
    host.send(Identify(1, 1))
    again = host.wait_for(Hello, since=mark)[-1]
    assert again.boot_id == boot, "the firmware restarted"
    status = host.wait_for(Status, since=mark)[-1]
    assert status.rx_errors > 0
    assert gate.resets() == [] and gate.crashed() is None


def test_a_partial_frame_is_dropped_after_an_idle_gap(gate: AvrDevice, host: RawHost) -> None:
    # LEN 200 makes the device wait for 208 bytes; the PING after a 30 ms pause would be eaten
    # by that frame if the device did not drop it for idleness.
    host.write(bytes([SYNC, 200, 0, 0, 1, 0x30]))
    line_idle(gate, 30)
    mark = host.mark()
    host.send(Ping(4242))
    host.wait_for(Pong, lambda p: p.nonce == 4242, since=mark, timeout_s=2.0)


def test_a_full_buffer_drops_new_edges_counts_them_and_recovers(
    gate: AvrDevice, host: RawHost
) -> None:
    edges = 140  # the buffer keeps 128
    start = gate.cycle() + SCHEDULE_AHEAD_CYCLES
    for i in range(edges):
        gate.set_pin_at("D8", i % 2, start + i * 4_000)  # broken, restored, ...
    gate.applied_cycle("D8", (edges - 1) % 2, start + (edges - 1) * 4_000)
    # The first lost edge sends a STATUS at once (behind the events already queued).
    status = host.wait_for(Status, lambda s: s.dropped is not None and s.dropped > 0)[0]
    assert status.link_quality == 0
    status = host.wait_for(Status, lambda s: s.dropped == edges - 128, timeout_s=7.0)[-1]
    assert status.link_quality == 0
    host.wait_for(Event, lambda e: e.evseq == 127, timeout_s=5.0)
    assert max(e.evseq for e in host.got(Event)) == 127  # the 12 edges after it were dropped
    host.send(EventAck(127))
    line_idle(gate, 5)  # the ACK has reached the device: there is room again
    mark = host.mark()
    gate.set_pin("D8", 0)
    nxt = host.wait_for(Event, lambda e: e.evseq == 128, since=mark)
    assert nxt[0].kind == EventKind.BEAM_BROKEN
    status = host.wait_for(Status, since=mark, timeout_s=7.0)[-1]
    assert status.link_quality == 255 and status.dropped == edges - 128
