"""An ALGE Timy on a port: its printed impulses as beam breaks on channels 0-8, keypad impulses
as hand times, its impulse counter checked for repeats and losses.

A Timy answers nothing and sends nothing before its first impulse, so there is nothing to
probe: the port is ready when it opens, and a Timy at another baud rate shows up as unreadable
lines, which the devices page reports in words.
"""

from __future__ import annotations

from typing import Any, Final

from hardware.adapters.session import AdapterSession
from hardware.adapters.timy import (
    CHECKED_CHARS,
    TICK_US,
    CounterVerdict,
    ImpulseCounterCheck,
    TimyImpulse,
    TimyParser,
    TimyParserStats,
    TimyTimeline,
)
from hardware.clock import uart_time_us
from hardware.messages import EventKind

CHANNELS: Final = 9  # c0 start, c1 finish, c2..c8 intermediates


class TimySession(AdapterSession):
    adapter = "timy"
    tick_us = TICK_US
    channels = CHANNELS

    def _make_decoder(self) -> TimyParser:
        self._parser = TimyParser()
        self._timeline = TimyTimeline()
        self._counter = ImpulseCounterCheck()
        self.repeats = 0
        self.lost_impulses = 0
        return self._parser

    def _decoder_stats(self) -> TimyParserStats:
        return self._parser.stats

    def _handle_record(self, record: Any) -> None:
        if not isinstance(record, TimyImpulse) or self.state is None:
            return
        if self.spec.bibs:
            # Start numbers repeat (an athlete's start and finish carry the same one): they
            # are no sequence to check, and each names the athlete it was given to.
            self._deliver(record, bib=record.number)
            return
        verdict, lost = self._counter.check(record.number)
        if verdict is CounterVerdict.REPEAT:
            # The same line again (a re-print from memory): it was counted the first time.
            self.repeats += 1
            self.state.duplicates += 1
            return
        if lost:
            self.lost_impulses += lost
            self.state.lost_frames += lost
        self._deliver(record, bib=None)

    def _deliver(self, record: TimyImpulse, bib: int | None) -> None:
        ticks = self._timeline.to_timeline_ticks(record.time_of_day_ticks)
        chars = CHECKED_CHARS + (0 if record.checksum is None else 2) + 1  # with its CR
        self.deliver(
            record.channel, EventKind.BEAM_BROKEN, ticks, record.received_mono_us,
            line_us=uart_time_us(chars, self.spec.baudrate), manual=record.manual, bib=bib,
        )  # fmt: skip

    @property
    def warning(self) -> str | None:
        stats = self._parser.stats
        unreadable = stats.unknown_lines + stats.too_long_lines + stats.bad_checksum
        if stats.impulses == 0 and (unreadable or stats.non_ascii_bytes):
            return (
                f"no impulse read yet, {unreadable} unreadable line(s) and "
                f"{stats.non_ascii_bytes} stray byte(s): check that the Timy prints impulses "
                f"on RS232 at {self.spec.baudrate} baud"
            )
        return None

    @property
    def details(self) -> dict[str, Any]:
        return {
            "baudrate": self.spec.baudrate,
            "numbers": "start numbers (bibs)" if self.spec.bibs else "impulse counter",
            "impulses": self._parser.stats.impulses,
            "repeats": self.repeats,
            "lost_impulses": self.lost_impulses,
            "day_rollovers": self._timeline.day,
        }
