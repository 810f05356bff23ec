"""Chronopic serial stream (9600 8N1) to typed records, and its intervals to a tick timeline.

Pure: no port, no thread, no clock read. The caller passes each chunk's host receipt time
(`received_mono_us`), so the idle rule and the coarse re-anchoring are tested with numbers.
Facts from reference/timing-and-devices.md sections 2.1 and 2.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

BAUDRATE: Final = 9600

# Commands the host sends. 'J' probes the port, 'E' asks the input state, 'a' reads the
# debounce and 'b' + one byte sets it. The debounce counts 10 ms units (firmware default 5 =
# 50 ms); 'b' takes the count as a raw byte and 'a' answers it as one byte offset by ASCII '0'
# (5 -> '5'), per the multitest firmware's source (Chronojump's chronopic-firmware-c).
PROBE_COMMAND: Final = b"J"
STATE_QUERY_COMMAND: Final = b"E"
DEBOUNCE_GET_COMMAND: Final = b"a"
DEBOUNCE_SET_COMMAND: Final = b"b"
DEBOUNCE_UNIT_MS: Final = 10
DEFAULT_DEBOUNCE_MS: Final = 50
DEBOUNCE_ANSWER_OFFSET: Final = 0x30  # ASCII '0'
# The longest debounce this program sets: a photocell's break by a torso lasts 50-150 ms at a
# sprint, and a debounce longer than the break hides it altogether.
MAX_DEBOUNCE_MS: Final = 250

EVENT_START: Final = 0x58  # 'X'
STATE_ANSWER_START: Final = 0x45  # 'E'
PROBE_ANSWER: Final = 0x4A  # 'J'
EVENT_LEN: Final = 5  # 'X', state, 24-bit big-endian interval
STATE_ANSWER_LEN: Final = 2  # 'E', state

TICK_US: Final = 8  # Timer1 at Fosc/4 (1 MHz at 4 MHz) behind a 1:8 prescaler
# Once the top interval byte reads 0xFF it sticks there while the low 16 bits keep wrapping,
# so the interval is only known to be at least this long (about 134 s).
SATURATED_MIN_TICKS: Final = 0xFF << 16

# A 5-byte frame takes 5.2 ms on the wire at 9600 8N1 and the firmware sends it in one go;
# a USB-serial bridge may hold part of it for its latency timer (16 ms on FTDI by default)
# and the host may be scheduled late. 50 ms of silence inside a frame is beyond all of
# those, yet shorter than the 100 ms the Chronojump host waits for an answer, so a stale
# fragment is gone before it can glue onto the next frame's bytes.
IDLE_DROP_US: Final = 50_000

# The state byte as the firmware sends it (raw 0/1) and as ASCII digits, which some
# firmware builds and hand tests use. 1 = input on (a beam broken: photocells close it).
_STATE_BYTES: Final = {0: 0, 1: 1, 0x30: 0, 0x31: 1}


def debounce_set_command(debounce_ms: int) -> bytes:
    """'b' + the debounce in 10 ms units as a raw byte (the firmware's DEBOUNCE_TIME)."""
    units, rest = divmod(debounce_ms, DEBOUNCE_UNIT_MS)
    if rest or not 1 <= units <= MAX_DEBOUNCE_MS // DEBOUNCE_UNIT_MS:
        raise ValueError(
            f"debounce {debounce_ms} ms: a multiple of 10 ms from 10 to {MAX_DEBOUNCE_MS} ms"
        )
    return DEBOUNCE_SET_COMMAND + bytes([units])


@dataclass(frozen=True)
class ChronopicEdge:
    """An accepted input change: state 1 = input on (beam broken), 0 = off."""

    state: int
    interval_ticks: int  # 8 us ticks since the previous accepted edge, as the device counted
    received_mono_us: int

    @property
    def saturated(self) -> bool:
        """True when the interval only says "long" (top byte stuck at 0xFF)."""
        return self.interval_ticks >= SATURATED_MIN_TICKS


@dataclass(frozen=True)
class ChronopicProbeAnswer:
    """The 'J' answer to a port probe: a Chronopic is on this port."""

    received_mono_us: int


@dataclass(frozen=True)
class ChronopicStateAnswer:
    """The 'E' answer: the input state now."""

    state: int
    received_mono_us: int


@dataclass(frozen=True)
class ChronopicDebounceAnswer:
    """The 'a' answer: the debounce the device applies now."""

    debounce_ms: int
    received_mono_us: int


ChronopicRecord = (
    ChronopicEdge | ChronopicProbeAnswer | ChronopicStateAnswer | ChronopicDebounceAnswer
)


@dataclass
class ChronopicDecoderStats:
    """Counters a link reports so that a noisy cable is visible, not silent."""

    edges: int = 0
    probe_answers: int = 0
    state_answers: int = 0
    debounce_answers: int = 0
    bad_state: int = 0  # an 'X' or 'E' whose state byte was not 0/1
    skipped_bytes: int = 0
    idle_drops: int = 0  # frame starts dropped because the line went quiet inside them


@dataclass
class ChronopicDecoder:
    """Incremental decoder: any bytes in, records out, never raises.

    Without receipt gaps (or with gaps below IDLE_DROP_US) a frame split over any number of
    feeds is still found whole.
    """

    stats: ChronopicDecoderStats = field(default_factory=ChronopicDecoderStats)
    _buf: bytearray = field(default_factory=bytearray)
    _last_byte_mono_us: int | None = None
    _expect_debounce: bool = False

    def expect_debounce_answer(self) -> None:
        """An 'a' is about to be sent: the next byte that starts no event frame is its answer.

        The firmware answers a command between frames, never inside one, and its answer byte
        ('0' + units) can look like anything, so it is only read as one when asked for.
        """
        self._expect_debounce = True

    @property
    def pending_bytes(self) -> int:
        """Bytes held for a frame not yet whole."""
        return len(self._buf)

    def idle_due_mono_us(self) -> int | None:
        """When the bytes held become a stale fragment to drop; None when nothing is held."""
        if not self._buf or self._last_byte_mono_us is None:
            return None
        return self._last_byte_mono_us + IDLE_DROP_US

    def feed(self, data: bytes, received_mono_us: int) -> list[ChronopicRecord]:
        """Records completed by `data`, received at `received_mono_us`. Empty `data` only
        applies the idle rule (a reader's timeout with nothing read)."""
        records: list[ChronopicRecord] = []
        due = self.idle_due_mono_us()
        if due is not None and received_mono_us >= due:
            records += self._drop_idle()
        if data:
            self._last_byte_mono_us = received_mono_us
            self._buf += data
            records += self._scan(received_mono_us)
        return records

    def _drop_idle(self) -> list[ChronopicRecord]:
        """Drop the stale frame start and look again at what followed it: a whole answer
        in there (a 'J') is still good; the next start is as stale as the first."""
        records: list[ChronopicRecord] = []
        held_mono_us = self._last_byte_mono_us or 0
        while self._buf:
            self.stats.idle_drops += 1
            self.stats.skipped_bytes += 1
            del self._buf[:1]
            records += self._scan(held_mono_us)
        return records

    def _scan(self, received_mono_us: int) -> list[ChronopicRecord]:
        records: list[ChronopicRecord] = []
        buf = self._buf
        while buf:
            lead = buf[0]
            if self._expect_debounce and lead != EVENT_START:
                del buf[:1]
                self._expect_debounce = False
                units = lead - DEBOUNCE_ANSWER_OFFSET
                if units <= 0:
                    self.stats.skipped_bytes += 1
                    continue
                self.stats.debounce_answers += 1
                records.append(ChronopicDebounceAnswer(units * DEBOUNCE_UNIT_MS, received_mono_us))
                continue
            if lead == PROBE_ANSWER:
                del buf[:1]
                self.stats.probe_answers += 1
                records.append(ChronopicProbeAnswer(received_mono_us))
                continue
            if lead not in (EVENT_START, STATE_ANSWER_START):
                # Skip the whole run of bytes that cannot start a record at once, so a
                # 10,000-byte junk line costs one pass, not one loop turn per byte.
                end = _next_start(buf)
                self.stats.skipped_bytes += end
                del buf[:end]
                continue
            if len(buf) < 2:
                break
            state = _STATE_BYTES.get(buf[1])
            if state is None:
                # Not a frame after all: drop only its lead, the real start may follow.
                self.stats.bad_state += 1
                self.stats.skipped_bytes += 1
                del buf[:1]
                continue
            if lead == STATE_ANSWER_START:
                del buf[:STATE_ANSWER_LEN]
                self.stats.state_answers += 1
                records.append(ChronopicStateAnswer(state, received_mono_us))
                continue
            if len(buf) < EVENT_LEN:
                break
            interval_ticks = int.from_bytes(buf[2:EVENT_LEN], "big")
            del buf[:EVENT_LEN]
            self.stats.edges += 1
            records.append(ChronopicEdge(state, interval_ticks, received_mono_us))
        return records


def _next_start(buf: bytearray) -> int:
    """Index of the first byte that could start a record (len(buf) when none)."""
    found = [i for i in (buf.find(b) for b in (b"X", b"E", b"J")) if i >= 0]
    return min(found, default=len(buf))


@dataclass(frozen=True)
class TimedEdge:
    """An edge on the Chronopic's own timeline: 8 us ticks since the first edge seen after a
    reset. `coarse` marks an edge placed by host receipt time after a saturated interval,
    so a split to it is only as good as the receipt jitter, not 8 us."""

    ticks: int
    coarse: bool
    state: int
    received_mono_us: int


@dataclass
class ChronopicTimeline:
    """Sums intervals into absolute ticks, so splits between edges keep 8 us resolution.

    After a saturated interval the device's count says only "long", so the edge is placed by
    the host receipt times: previous edge's ticks + (receipt gap in 8 us ticks), never less
    than the saturation floor. The anchor is the previous edge (its ticks and receipt), which
    keeps the device-versus-host drift over one gap only, not since the session began.
    """

    _last: TimedEdge | None = None
    restarts: int = 0  # edges that read 0 mid-session: the device had been reset

    def reset(self) -> None:
        """The device restarted (reopened port, power cycle): the next edge is tick 0."""
        self._last = None

    def push(self, edge: ChronopicEdge) -> TimedEdge:
        last = self._last
        if last is None:
            # The first edge after a reset reads 0; one seen mid-session counts from an
            # edge we never saw, so it starts the timeline either way.
            timed = TimedEdge(0, False, edge.state, edge.received_mono_us)
        elif edge.saturated or edge.interval_ticks == 0:
            # Saturated: the count says only "long". Zero after the first edge: the device
            # was reset (power cycle) and this is its "first" edge again; no two accepted
            # edges can be 8 us apart through a debounce of 10 ms or more. Either way the
            # receipt times are all that place it.
            gap_ticks = (edge.received_mono_us - last.received_mono_us) // TICK_US
            floor = SATURATED_MIN_TICKS if edge.saturated else 1
            ticks = last.ticks + max(gap_ticks, floor)
            self.restarts += not edge.saturated
            timed = TimedEdge(ticks, True, edge.state, edge.received_mono_us)
        else:
            ticks = last.ticks + edge.interval_ticks
            timed = TimedEdge(ticks, False, edge.state, edge.received_mono_us)
        self._last = timed
        return timed
