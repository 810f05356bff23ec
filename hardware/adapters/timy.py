"""ALGE Timy RS232 output as typed impulses: a pure, incremental line parser (bytes in, records).

No port, no thread, no clock read: the caller passes the host receipt time of each chunk, so
every rule here is tested with bytes alone (STYLE.md item 1). The format is the one in
reference section 3: ASCII lines ending in CR, `yNNNNxCCCxHH:MM:SS.zhtqxGG` (26 characters),
optionally followed by two checksum characters when the timer is set to CHK1.

Times stay in the device's own unit, 1/10,000 s (`_ticks` here, 100 µs each), counted from the
device's midnight; only the clock module may map them to host time later (STYLE.md item 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

TICK_US = 100
TICKS_PER_S = 1_000_000 // TICK_US
DAY_TICKS = 24 * 3600 * TICKS_PER_S
HALF_DAY_TICKS = DAY_TICKS // 2

# A Timy line is 26 (28 with checksum) characters; 256 leaves room for any variant we have not
# seen while bounding what a babbling or mis-clocked port can make us hold.
MAX_LINE_CHARS = 256
# Width of the impulse part that the CHK1 checksum covers (reference section 3).
CHECKED_CHARS = 26
NUMBER_MODULO = 10_000  # the number field has at most 4 digits
# A forward jump of the impulse counter larger than this is a reset or a mode change, not loss:
# the timer clears its memory after a few thousand impulses, so losing 1,000 lines is not real.
MAX_GAP = 1_000

_CR = 0x0D
_LF = 0x0A

# Info flags the manuals list; a blank flag is "none".
INFO_FLAGS = frozenset("?mcdin")

# Parsed from whitespace-separated fields rather than fixed columns because the manuals' own
# samples drop the leading flag column and print the number with or without leading zeros.
_IMPULSE_RE = re.compile(
    r"""^\s*
    (?:(?P<flag>[?mcdin])\s*)??
    (?P<number>\d{1,4})?\s*
    [cC](?P<channel>[0-8])(?P<manual>M)?\s+
    (?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})[.:,](?P<frac>\d{1,4})
    (?:\s+(?P<group>\d{1,2}))?
    (?:\s+(?P<rank>\d{1,4}))?
    \s*$""",
    re.VERBOSE,
)
# Running times: an `RT`/`TT` channel, or (Timy2 PC-Timer) a bare `HH:MM:SS.z` every 0.1 s.
_RUNNING_RE = re.compile(
    r"""^\s*(?:[?mcdin]\s*)?(?:\d{1,4}\s*)?(?:RT|TT)\b.*$
    |^\s*\d{1,2}:\d{2}:\d{2}[.:,]\d{1,4}\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class TimyImpulse:
    """One stamped impulse, in the device's time of day (100 µs ticks since its midnight)."""

    channel: int  # 0 start, 1 finish, 2..8 intermediate; the device's channel number as is
    manual: bool  # keypad impulse (`M`): a hand time, to be marked so in reports
    time_of_day_ticks: int
    resolution_ticks: int  # 1 for a 4-digit fraction, 100 for 1/100 s keypad times, ...
    received_mono_us: int  # host receipt of the chunk that completed the line
    number: int | None = None  # impulse counter or start number, per the timer's mode
    info_flag: str | None = None  # one of INFO_FLAGS; None for blank
    group: int | None = None
    rank: int | None = None
    checksum: str | None = None  # the two CHK1 characters, already verified when present


@dataclass
class TimyParserStats:
    """What the parser read and what it skipped, so a noisy port is visible, not silent."""

    lines: int = 0
    impulses: int = 0
    running_time_lines: int = 0
    blank_lines: int = 0
    unknown_lines: int = 0  # neither an impulse nor a running time, including malformed ones
    bad_checksum: int = 0
    too_long_lines: int = 0
    non_ascii_bytes: int = 0
    # Lines read from their last 26 (28) characters because noise came before them on the
    # same line: the noise is lost, the impulse is not.
    recovered_lines: int = 0


def checksum_chars(line: str) -> str:
    """CHK1 checksum of an impulse line: the sum of its characters & 0xFF, each nibble + 0x30.
    The reference gives the sum and the offset but not the nibble order; high first is assumed."""
    total = sum(ord(ch) for ch in line) & 0xFF
    return chr(0x30 + (total >> 4)) + chr(0x30 + (total & 0x0F))


def parse_time_of_day(text: str) -> tuple[int, int] | None:
    """`HH:MM:SS?f..` with '.', ':' or ',' before 1..4 fraction digits -> (ticks, resolution)."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})[.:,](\d{1,4})", text.strip())
    if m is None:
        return None
    return _ticks(m.group(1), m.group(2), m.group(3), m.group(4))


def _ticks(h: str, m: str, s: str, frac: str) -> tuple[int, int] | None:
    hours, minutes, seconds = int(h), int(m), int(s)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    # A shorter fraction is a coarser stamp (keypad 1/100 s), not a smaller number.
    resolution = 10 ** (4 - len(frac))
    ticks = ((hours * 60 + minutes) * 60 + seconds) * TICKS_PER_S + int(frac) * resolution
    return ticks, resolution


@dataclass
class TimyParser:
    """Incremental: feed any chunking of the byte stream, get impulses as their CR arrives."""

    stats: TimyParserStats = field(default_factory=TimyParserStats)
    _buf: bytearray = field(default_factory=bytearray)
    _too_long: bool = False  # discarding the rest of a line that passed MAX_LINE_CHARS
    _tainted: bool = False  # the current line held a non-ASCII byte

    @property
    def pending_bytes(self) -> int:
        """Bytes held for a line not yet ended (never more than MAX_LINE_CHARS)."""
        return len(self._buf)

    def feed(self, data: bytes, received_mono_us: int) -> list[TimyImpulse]:
        out: list[TimyImpulse] = []
        for byte in data:
            if byte == _CR:
                impulse = self._end_line(received_mono_us)
                if impulse is not None:
                    out.append(impulse)
                continue
            if byte == _LF:
                continue  # a CR LF printer setting adds LF; it carries nothing
            if byte > 0x7F or (byte < 0x20 and byte != 0x09):
                # Line noise (or a Timy at another baud rate): what came before it on this
                # line cannot be trusted, but the line may still end in a whole impulse.
                self.stats.non_ascii_bytes += 1
                self._tainted = True
                continue
            if self._too_long:
                continue
            if len(self._buf) >= MAX_LINE_CHARS:
                # Drop as it streams: a line with no CR must not grow memory.
                self._too_long = True
                self._buf.clear()
                continue
            self._buf.append(byte)
        return out

    def _end_line(self, received_mono_us: int) -> TimyImpulse | None:
        raw = self._buf.decode("ascii")
        too_long, tainted = self._too_long, self._tainted
        self._buf.clear()
        self._too_long = self._tainted = False
        self.stats.lines += 1
        if too_long:
            self.stats.too_long_lines += 1
            return None
        if not raw.strip() and not tainted:
            self.stats.blank_lines += 1
            return None
        verdict = None if tainted else self._parse(raw, received_mono_us)
        if isinstance(verdict, TimyImpulse):
            return verdict
        if verdict == "running":
            self.stats.running_time_lines += 1
            return None
        if verdict == "checksum":
            self.stats.bad_checksum += 1
            return None
        # Noise before the impulse on the same line (or an unknown line): try its tail.
        for width in (CHECKED_CHARS + 2, CHECKED_CHARS):
            if len(raw) > width:
                tail = self._parse(raw[-width:], received_mono_us)
                if isinstance(tail, TimyImpulse):
                    self.stats.recovered_lines += 1
                    return tail
        self.stats.unknown_lines += 1
        return None

    def _parse(self, raw: str, received_mono_us: int) -> TimyImpulse | str:
        """The impulse on a line, or why not: "checksum", "running" or "unknown"."""
        line, check = raw, None
        if len(raw) == CHECKED_CHARS + 2 and _IMPULSE_RE.match(raw[:CHECKED_CHARS]):
            line, check = raw[:CHECKED_CHARS], raw[CHECKED_CHARS:]
            if checksum_chars(line) != check:
                return "checksum"
        m = _IMPULSE_RE.match(line)
        stamp = None if m is None else _ticks(m["h"], m["m"], m["s"], m["frac"])
        if m is None or stamp is None:
            return "running" if _RUNNING_RE.match(line) else "unknown"
        self.stats.impulses += 1
        return TimyImpulse(
            channel=int(m["channel"]),
            manual=m["manual"] is not None,
            time_of_day_ticks=stamp[0],
            resolution_ticks=stamp[1],
            received_mono_us=received_mono_us,
            number=None if m["number"] is None else int(m["number"]),
            info_flag=m["flag"],
            group=None if m["group"] is None else int(m["group"]),
            rank=None if m["rank"] is None else int(m["rank"]),
            checksum=check,
        )


@dataclass
class TimyTimeline:
    """Times of day -> one timeline in 100 µs ticks that keeps counting past midnight.

    Impulses arrive in measurement order (reference section 3), so a time more than 12 h before
    the previous one is the next day; a smaller step back (the clock was set, or a line from
    memory) is passed through as is and counted, not hidden.
    """

    day: int = 0
    backward_steps: int = 0
    _last_ticks: int | None = None

    def to_timeline_ticks(self, time_of_day_ticks: int) -> int:
        last = self._last_ticks
        if last is not None and time_of_day_ticks < last:
            if last - time_of_day_ticks > HALF_DAY_TICKS:
                self.day += 1
            else:
                self.backward_steps += 1
        self._last_ticks = time_of_day_ticks
        return self.day * DAY_TICKS + time_of_day_ticks


class CounterVerdict(Enum):
    FIRST = "first"
    NEXT = "next"
    REPEAT = "repeat"  # the same line again: drop it
    GAP = "gap"  # impulses numbered in between never arrived: report them lost
    RESYNC = "resync"  # counter went back or jumped far (cleared, mode changed): follow it
    NO_NUMBER = "no_number"


@dataclass
class ImpulseCounterCheck:
    """Checks the continuous impulse counter of plain impulse mode for repeats and losses.

    The number is only a sequence number here: it never names an athlete (issue 13 point 3);
    start-number mode is a setting the coach turns on elsewhere.
    """

    repeats: int = 0
    lost: int = 0
    resyncs: int = 0
    _last: int | None = None

    def check(self, number: int | None) -> tuple[CounterVerdict, int]:
        """(verdict, impulses lost before this one)."""
        if number is None:
            return CounterVerdict.NO_NUMBER, 0
        last, self._last = self._last, number
        if last is None:
            return CounterVerdict.FIRST, 0
        step = (number - last) % NUMBER_MODULO
        if step == 0:
            self.repeats += 1
            return CounterVerdict.REPEAT, 0
        if step == 1:
            return CounterVerdict.NEXT, 0
        if step <= MAX_GAP:
            self.lost += step - 1
            return CounterVerdict.GAP, step - 1
        self.resyncs += 1
        return CounterVerdict.RESYNC, 0
