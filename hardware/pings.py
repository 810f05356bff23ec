"""When the host pings each device: a quick burst after HELLO, then about once a second.

The pings feed the clock fit (hardware.clock); the schedule alone decides how soon a device
can be `ready`, so it lives apart from the session that sends them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hardware.clock import MIN_SAMPLES_READY, ClockSample
from hardware.wire import FRAME_OVERHEAD

# Klipper's trick: an odd period so clock queries do not beat against other periodic work.
PING_INTERVAL_US = 983_900
# A quick burst at HELLO makes a device `ready` (MIN_SAMPLES_READY exchanges whose windows
# agree within READY_ERROR_US) well within the 1 s PROTOCOL.md section 7 promises from HELLO,
# even at address 31 behind a hub. While the clock is not ready the burst goes on, up to
# STARTUP_PINGS_MAX: round trips are slow while a hub's 32 devices all say HELLO at once, and
# waiting a whole period for the next ping cost such a device 1-4 s.
STARTUP_PINGS = 8
STARTUP_PINGS_MAX = 16
STARTUP_PING_GAP_US = 50_000
STARTUP_STAGGER_US = 10_000
# Later pings to the devices behind one hub are spread over the period (29 ms x 32 addresses).
PING_STAGGER_US = 29_000
# Frame sizes on the line, for the clock windows (PING: nonce; PONG: nonce and tick).
PING_FRAME_BYTES = FRAME_OVERHEAD + 4
PONG_FRAME_BYTES = FRAME_OVERHEAD + 8
# A PING unanswered this long is forgotten, so the table cannot grow without bound.
PING_FORGET_US = 5_000_000


@dataclass
class PingPlan:
    due_us: int
    steady_due_us: int  # the first ping after the burst
    quick_sent: int = 0

    @classmethod
    def at_hello(cls, hello_mono_us: int, addr: int) -> PingPlan:
        """Staggered by address: devices behind one hub share the uplink, and a PONG queued
        behind its neighbour's would make every round trip of that device look slow. The
        burst is staggered tighter than the steady pings so the last address is ready soon."""
        return cls(
            due_us=hello_mono_us + addr * STARTUP_STAGGER_US,
            steady_due_us=hello_mono_us + addr * PING_STAGGER_US + PING_INTERVAL_US,
        )

    def sent(self, now_us: int, ready: bool) -> None:
        """A PING just left; `ready`: whether the device's clock is synchronised yet."""
        if self.quick_sent < STARTUP_PINGS_MAX:
            self.quick_sent += 1
            more = self.quick_sent < STARTUP_PINGS or not ready
            if more and self.quick_sent < STARTUP_PINGS_MAX:
                self.due_us = now_us + STARTUP_PING_GAP_US
                return
            self.quick_sent = STARTUP_PINGS_MAX
        self.due_us = max(self.steady_due_us, now_us + STARTUP_PING_GAP_US)
        self.steady_due_us = self.due_us + PING_INTERVAL_US


def startup_ping_offsets_us(addr: int) -> list[int]:
    """When (after its HELLO) the device at `addr` is pinged, for the first
    MIN_SAMPLES_READY pings, had the host no other work: the schedule's share of `ready`."""
    plan = PingPlan.at_hello(0, addr)
    offsets: list[int] = []
    while len(offsets) < MIN_SAMPLES_READY:
        offsets.append(plan.due_us)
        plan.sent(plan.due_us, ready=False)
    return offsets


def exchange_sample(
    sent_mono_us: int, received_mono_us: int, ticks: int, baudrate: int
) -> ClockSample:
    """The clock sample of one PING/PONG exchange, with both frames' time on the line."""
    return ClockSample.from_exchange(
        sent_mono_us, received_mono_us, ticks, ping_bytes=PING_FRAME_BYTES,
        pong_bytes=PONG_FRAME_BYTES, baudrate=baudrate,
    )  # fmt: skip


class Pings:
    """One port's pings: each device's schedule, and the PINGs still awaiting their PONG."""

    def __init__(self) -> None:
        self._nonces = itertools.count(1)
        self._unanswered: dict[int, tuple[int, int]] = {}  # nonce -> (addr, sent_mono_us)
        self._plans: dict[int, PingPlan] = {}

    def start(self, addr: int, hello_mono_us: int) -> None:
        """The device at `addr` said HELLO: its quick burst begins."""
        self._plans[addr] = PingPlan.at_hello(hello_mono_us, addr)

    def stop(self, addr: int) -> None:
        self._plans.pop(addr, None)

    def due(self, addr: int, now_us: int) -> bool:
        plan = self._plans.get(addr)
        return plan is not None and now_us >= plan.due_us

    def next_nonce(self) -> int:
        return next(self._nonces) & 0xFFFFFFFF

    def sent(self, addr: int, nonce: int, sent_us: int, now_us: int, ready: bool) -> None:
        """A PING left at `sent_us`; `ready`: whether the device's clock is synchronised."""
        self._unanswered[nonce] = (addr, sent_us)
        self._plans[addr].sent(now_us, ready)

    def answered(self, addr: int, nonce: int) -> int | None:
        """When the PING this PONG answers left, or None for a PONG from nowhere."""
        entry = self._unanswered.pop(nonce, None)
        return None if entry is None or entry[0] != addr else entry[1]

    def forget_unanswered(self, now_us: int) -> None:
        old = [n for n, (_, t) in self._unanswered.items() if now_us - t > PING_FORGET_US]
        for nonce in old:
            del self._unanswered[nonce]
