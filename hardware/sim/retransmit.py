"""A device's side of PROTOCOL.md section 5: the retransmit buffer and its adaptive RTO."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hardware.messages import Event, EventKind

RTO_INITIAL_NS = 100_000_000
RTO_MIN_NS = 25_000_000
RTO_MAX_NS = 1_000_000_000
RTTVAR_FLOOR_NS = 1_000_000
# The spec asks for at least 32 and recommends 128 (what the reference firmware keeps in an
# ATmega328P's 2 KB); the simulator keeps more so that the long unplugs and event floods of
# the fault tests cost no edges unless a test asks for a small buffer.
MIN_CAPACITY = 32
DEFAULT_CAPACITY = 1024
EVSEQ_WRAP = 1 << 16


class RtoEstimator:
    """TCP's estimator (RFC 6298) with the spec's bounds; integer ns, as the MCU would keep it."""

    def __init__(self) -> None:
        self.srtt_ns: int | None = None
        self.rttvar_ns = 0
        self.rto_ns = RTO_INITIAL_NS

    def sample(self, rtt_ns: int) -> None:
        if self.srtt_ns is None:
            self.srtt_ns, self.rttvar_ns = rtt_ns, rtt_ns // 2
        else:
            # rttvar first, from the old srtt, as RFC 6298 orders it.
            self.rttvar_ns = (3 * self.rttvar_ns + abs(self.srtt_ns - rtt_ns)) // 4
            self.srtt_ns = (7 * self.srtt_ns + rtt_ns) // 8
        rto = self.srtt_ns + max(4 * self.rttvar_ns, RTTVAR_FLOOR_NS)
        self.rto_ns = min(max(rto, RTO_MIN_NS), RTO_MAX_NS)

    def back_off(self) -> None:
        self.rto_ns = min(2 * self.rto_ns, RTO_MAX_NS)


@dataclass
class Pending:
    """An event not yet acknowledged. `evseq` is unwrapped; the wire carries its low 16 bits."""

    evseq: int
    event: Event
    last_sent_ns: int | None = None
    sends: int = 0


class EventBuffer:
    """Events kept until a cumulative EVENT_ACK covers them, oldest first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < MIN_CAPACITY:
            raise ValueError(
                f"PROTOCOL.md section 5 asks for a buffer of at least {MIN_CAPACITY} events"
            )
        self.capacity = capacity
        self.next_evseq = 0
        self.pending: deque[Pending] = deque()
        self.rto = RtoEstimator()

    @property
    def full(self) -> bool:
        return len(self.pending) >= self.capacity

    def add(self, channel: int, kind: EventKind, ticks: int, ref: int) -> Pending:
        """Number a new event and keep it until acknowledged."""
        evseq = self.next_evseq
        self.next_evseq += 1
        entry = Pending(evseq, Event(evseq & 0xFFFF, channel, kind, ticks & 0xFFFFFFFF, ref))
        self.pending.append(entry)
        return entry

    def _extend(self, wire_evseq: int) -> int:
        """The unwrapped event number nearest the newest one issued (section 5: the host never
        has more than 32,768 outstanding, so nearest is right)."""
        newest = self.next_evseq - 1
        delta = (wire_evseq - newest) % EVSEQ_WRAP
        if delta >= EVSEQ_WRAP // 2:
            delta -= EVSEQ_WRAP
        return newest + delta

    def ack(self, wire_evseq: int, now_ns: int) -> int:
        """Drop every event up to `wire_evseq`; return how many. Feeds the RTO (Karn's rule:
        only from the newest covered event, and only if it was sent once)."""
        upto = self._extend(wire_evseq)
        newest_covered: Pending | None = None
        removed = 0
        while self.pending and self.pending[0].evseq <= upto:
            newest_covered = self.pending.popleft()
            removed += 1
        if (
            newest_covered is not None
            and newest_covered.sends == 1
            and newest_covered.last_sent_ns is not None
        ):
            self.rto.sample(now_ns - newest_covered.last_sent_ns)
        return removed

    def from_evseq(self, wire_evseq: int) -> list[Pending]:
        """Pending events from `wire_evseq` on (an EVENT_NAK); all of them if it is older."""
        start = self._extend(wire_evseq)
        return [p for p in self.pending if p.evseq >= start]

    def deadline_ns(self) -> int | None:
        """When the oldest sent event will have waited one RTO."""
        if not self.pending or self.pending[0].last_sent_ns is None:
            return None
        return self.pending[0].last_sent_ns + self.rto.rto_ns
