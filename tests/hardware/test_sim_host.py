"""A minimal host for the simulator tests, speaking bytes on the pty, and the sim's pure units.

The real host (hardware/device.py) is being rewritten, so the simulator is checked here at the
byte level: frames encoded and decoded with hardware.messages, nothing else in between.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from hardware.messages import (
    Event,
    EventAck,
    EventKind,
    Message,
    decode_message,
    encode_message,
)
from hardware.sim.models import SimClock
from hardware.sim.outputs import nearest_ticks
from hardware.sim.retransmit import RTO_INITIAL_NS, EventBuffer, RtoEstimator
from hardware.wire import FrameDecoder

MS = 1_000_000
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Received:
    mono_ns: int
    addr: int
    seq: int
    msg: Message


class RawHost:
    """The host end of a virtual port: writes frames, reads and decodes everything it gets."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.decoder = FrameDecoder()
        self.log: list[Received] = []
        self.cursor = 0
        self.seq = 0
        self.closed_by_device = False
        self.auto_ack = False
        self.expected: dict[int, int] = {}  # per address: the next evseq, for auto_ack

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def send(self, addr: int, msg: Message) -> int:
        """Send a frame; returns the host time just before the write."""
        sent_ns = time.monotonic_ns()
        os.write(self.fd, encode_message(addr, self.seq, msg))
        self.seq = (self.seq + 1) & 0xFFFF
        return sent_ns

    def send_raw(self, data: bytes) -> None:
        os.write(self.fd, data)

    def pump(self, timeout_s: float) -> None:
        """Read whatever arrives within `timeout_s` (returns at the first read with data)."""
        readable, _, _ = select.select([self.fd], [], [], max(0.0, timeout_s))
        if not readable:
            return
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            self.closed_by_device = True
            raise
        if not data:  # readable yet empty: hung up (pyserial raises SerialException here)
            self.closed_by_device = True
            raise OSError("device disconnected")
        now = time.monotonic_ns()
        for frame in self.decoder.feed(data):
            msg = decode_message(frame)
            if self.auto_ack and isinstance(msg, Event):
                # A host as section 5 has it, minus the holding of out-of-order events: a
                # repeat is dropped (and acknowledged again), a new one logged.
                expected = self.expected.get(frame.addr, 0)
                if msg.evseq != expected:
                    if msg.evseq < expected:
                        self.send(frame.addr, EventAck(expected - 1))
                    continue
                self.expected[frame.addr] = expected + 1
                self.send(frame.addr, EventAck(msg.evseq))
            self.log.append(Received(now, frame.addr, frame.seq, msg))

    def expect(
        self, match: Callable[[Received], bool], timeout_s: float = 2.0, what: str = "a frame"
    ) -> Received:
        """The next frame (after the cursor) that matches; frames skipped stay in the log."""
        deadline = time.monotonic() + timeout_s
        while True:
            for i in range(self.cursor, len(self.log)):
                if match(self.log[i]):
                    self.cursor = i + 1
                    return self.log[i]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
            self.pump(min(left, 0.05))

    def next(self, kind: type[M], addr: int | None = None, timeout_s: float = 2.0) -> M:
        """The next message of a type (from an address), typed for the caller."""
        msg = self.expect(is_msg(kind, addr), timeout_s, kind.__name__).msg
        assert isinstance(msg, kind)
        return msg

    def collect(self, duration_s: float) -> list[Received]:
        """Everything that arrives within `duration_s`, from the cursor on; moves the cursor."""
        deadline = time.monotonic() + duration_s
        while (left := deadline - time.monotonic()) > 0:
            self.pump(min(left, 0.05))
        got = self.log[self.cursor :]
        self.cursor = len(self.log)
        return got


def is_msg(kind: type[object], addr: int | None = None) -> Callable[[Received], bool]:
    return lambda r: isinstance(r.msg, kind) and (addr is None or r.addr == addr)


# --- pure units ----------------------------------------------------------------------------------


def test_clock_inverse_is_exact_to_the_tick() -> None:
    rng = random.Random(5)
    for _ in range(200):
        clock = SimClock.random(rng, origin_ns=rng.getrandbits(40))
        assert -200 <= clock.drift_ppm <= 200
        target = clock.offset_ticks + rng.randrange(-(10**9), 10**10)
        at_ns = clock.mono_at(target)
        assert clock.ticks_at(at_ns) == target
        assert clock.ticks_at(at_ns - 1) == target - 1


def test_rto_estimator_follows_section_5() -> None:
    rto = RtoEstimator()
    assert rto.rto_ns == RTO_INITIAL_NS
    rto.sample(40 * MS)  # srtt 40, rttvar 20: 40 + 80
    assert (rto.srtt_ns, rto.rttvar_ns, rto.rto_ns) == (40 * MS, 20 * MS, 120 * MS)
    rto.sample(80 * MS)  # rttvar = 3/4 20 + 1/4 40 = 25; srtt = 7/8 40 + 1/8 80 = 45
    assert (rto.srtt_ns, rto.rttvar_ns, rto.rto_ns) == (45 * MS, 25 * MS, 145 * MS)
    rto.back_off()
    assert rto.rto_ns == 290 * MS
    for _ in range(5):
        rto.back_off()
    assert rto.rto_ns == 1000 * MS  # clamped
    fast = RtoEstimator()
    for _ in range(20):
        fast.sample(MS // 2)
    assert fast.rto_ns == 25 * MS  # clamped below


def test_event_buffer_acks_cumulatively_across_the_16_bit_wrap() -> None:
    buf = EventBuffer(capacity=256)
    buf.next_evseq = 65_530
    for i in range(12):
        entry = buf.add(0, EventKind.BEAM_BROKEN, i, 0)
        entry.sends, entry.last_sent_ns = 1, 0
    assert buf.pending[-1].event.evseq == (65_541 & 0xFFFF)
    assert buf.ack(65_535, now_ns=30 * MS) == 6
    assert buf.rto.srtt_ns == 30 * MS
    assert [p.evseq for p in buf.from_evseq(2)] == [65_538, 65_539, 65_540, 65_541]
    assert buf.ack(3, now_ns=40 * MS) == 4
    assert [p.evseq for p in buf.pending] == [65_540, 65_541]
    with pytest.raises(ValueError):
        EventBuffer(capacity=31)
    assert EventBuffer(capacity=32).capacity == 32  # the spec's minimum (section 5)


def test_nearest_ticks_reads_at_as_the_closest_64_bit_value() -> None:
    now = 5 * 2**32 + 100
    assert nearest_ticks(now, 2_000) == 5 * 2**32 + 2_000
    assert nearest_ticks(now, 2**32 - 50) == 5 * 2**32 - 50  # just behind: late, not 71 min on
    assert nearest_ticks(2**32 - 10, 20) == 2**32 + 20  # just ahead, across the wrap
