"""A Chronopic on a port: probed with 'J', its edges on one 8 µs timeline, its debounce shown
and set. Its one input carries every photocell wired to it in parallel (Chronojump's own
practice), so the device says `successive_breaks` and a drill's gates bind to its breaks in
running order (server/runs/coordinator.py)."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from hardware.adapters.chronopic import (
    BAUDRATE,
    DEBOUNCE_GET_COMMAND,
    DEFAULT_DEBOUNCE_MS,
    EVENT_LEN,
    PROBE_COMMAND,
    STATE_QUERY_COMMAND,
    TICK_US,
    ChronopicDebounceAnswer,
    ChronopicDecoder,
    ChronopicDecoderStats,
    ChronopicEdge,
    ChronopicProbeAnswer,
    ChronopicStateAnswer,
    ChronopicTimeline,
    debounce_set_command,
)
from hardware.adapters.session import AdapterSession, wait_for
from hardware.clock import uart_time_us
from hardware.errors import LinkError
from hardware.messages import EventKind

# The probe: 'J' a few times, as a Chronopic just plugged in may miss the first while its
# FTDI settles. Chronojump's own scan waits 100 ms per try; this is more patient.
PROBE_TRIES: Final = 4
PROBE_WAIT_S: Final = 0.25
ANSWER_WAIT_S: Final = 0.5


class ChronopicSession(AdapterSession):
    adapter = "chronopic"
    tick_us = TICK_US
    channels = 1
    successive_breaks = True

    def _make_decoder(self) -> ChronopicDecoder:
        self._decoder = ChronopicDecoder()
        self._timeline = ChronopicTimeline()
        self._probe_answered = asyncio.Event()
        self._debounce_answered = asyncio.Event()
        self._state_answered = asyncio.Event()
        self.input_state: int | None = None
        self.debounce_ms: int | None = None
        self.edges_before_probe = 0
        return self._decoder

    def _decoder_stats(self) -> ChronopicDecoderStats:
        return self._decoder.stats

    async def _identify(self) -> None:
        for _ in range(PROBE_TRIES):
            self.write(PROBE_COMMAND)
            if await wait_for(self._probe_answered, PROBE_WAIT_S):
                return
        stats = self._decoder.stats
        heard = stats.skipped_bytes + stats.edges + stats.state_answers
        raise LinkError(
            f"{self.spec.path}: no Chronopic answered (a Chronopic answers 'J' to 'J' at 9600 "
            f"baud; {heard} other byte(s) came back in "
            f"{PROBE_TRIES * PROBE_WAIT_S:g} s). Check the port with `agility devices`; a Timy "
            f"is given as timy:{self.spec.path}"
        )

    async def _after_attach(self) -> None:
        # One question at a time: the debounce answer is a bare byte that could pass for the
        # start of another answer (reading it is armed only while nothing else is asked).
        self.write(STATE_QUERY_COMMAND)
        await wait_for(self._state_answered, ANSWER_WAIT_S)
        await self.read_debounce_ms()

    async def read_debounce_ms(self) -> int | None:
        """The debounce the device applies, or None if it does not say (older firmware)."""
        self._debounce_answered.clear()
        self._decoder.expect_debounce_answer()
        self.write(DEBOUNCE_GET_COMMAND)
        await wait_for(self._debounce_answered, ANSWER_WAIT_S)
        return self.debounce_ms

    async def set_debounce_ms(self, debounce_ms: int) -> int | None:
        """Set the device's debounce (kept until it is powered off) and read it back."""
        command = debounce_set_command(debounce_ms)  # ValueError names the allowed range
        self.write(command)
        return await self.read_debounce_ms()

    def _handle_record(self, record: Any) -> None:
        if isinstance(record, ChronopicProbeAnswer):
            self._probe_answered.set()
        elif isinstance(record, ChronopicStateAnswer):
            self.input_state = record.state
            self._state_answered.set()
        elif isinstance(record, ChronopicDebounceAnswer):
            self.debounce_ms = record.debounce_ms
            self._debounce_answered.set()
        elif isinstance(record, ChronopicEdge):
            self._edge(record)

    def _edge(self, edge: ChronopicEdge) -> None:
        if self.state is None:
            # Before the probe answered, the port is not known to be a Chronopic at all.
            self.edges_before_probe += 1
            return
        timed = self._timeline.push(edge)
        self.input_state = edge.state
        kind = EventKind.BEAM_BROKEN if edge.state == 1 else EventKind.BEAM_RESTORED
        # The device reports an edge only once the input has held for the debounce time, so
        # no frame can arrive sooner than that plus its own bytes' line time after the edge.
        debounce_us = 1000 * (self.debounce_ms or DEFAULT_DEBOUNCE_MS)
        self.deliver(
            0, kind, timed.ticks, edge.received_mono_us,
            line_us=debounce_us + uart_time_us(EVENT_LEN, BAUDRATE), coarse=timed.coarse,
        )  # fmt: skip

    @property
    def details(self) -> dict[str, Any]:
        return {
            "debounce_ms": self.debounce_ms,
            "input": None if self.input_state is None
            else ("on (beam broken)" if self.input_state else "off"),
            "resets_seen": self._timeline.restarts,
        }  # fmt: skip
