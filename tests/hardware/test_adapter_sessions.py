"""Chronopic and Timy ports opened through the DevicePorts, against their simulators on ptys:
they appear as devices like any other, their edges keep the device's resolution, and no byte
sequence stops them."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from itertools import pairwise

import pytest

from hardware.adapters import AdapterSession, parse_adapter_url
from hardware.adapters.chronopic_session import ChronopicSession
from hardware.adapters.session import AdapterSpec
from hardware.device_ports import DevicePorts
from hardware.errors import LinkError
from hardware.messages import EventKind
from hardware.records import DeviceEvent
from hardware.sim.chronopic import SimChronopic
from hardware.sim.timy import SimTimy
from tests.support import wait_until_async

CHRONOPIC_TICK_US = 8
TIMY_TICK_US = 100


def now_us() -> int:
    return time.monotonic_ns() // 1000


Body = Callable[[DevicePorts, list[DeviceEvent]], Awaitable[None]]


def with_devices(body: Body, timeout_s: float = 30.0) -> None:
    """Run `body` on a fresh loop with a DevicePorts that records every event, bounded in time."""

    async def main() -> None:
        events: list[DeviceEvent] = []
        h = DevicePorts(events.append)
        try:
            await asyncio.wait_for(body(h, events), timeout_s)
        finally:
            await h.close_all()

    asyncio.run(main())


def test_adapter_prefixes_parse_and_bad_ones_say_why() -> None:
    assert parse_adapter_url("/dev/ttyUSB0") is None
    assert parse_adapter_url("socket://10.0.0.2:7000") is None
    assert parse_adapter_url("chronopic:/dev/ttyUSB0") == AdapterSpec("chronopic", "/dev/ttyUSB0")
    spec = parse_adapter_url("timy:/dev/ttyUSB1@38400")
    assert spec == AdapterSpec("timy", "/dev/ttyUSB1", 38400)
    assert spec.url == "timy:/dev/ttyUSB1@38400"
    assert parse_adapter_url("TIMY:/dev/ttyUSB1@9600") == AdapterSpec("timy", "/dev/ttyUSB1")
    for bad, words in [
        ("timy:", "no port"),
        ("timy:/dev/ttyUSB1@12345", "not a Timy baud rate"),
        ("chronopic:/dev/ttyUSB0@19200", "9600 baud only"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_adapter_url(bad)


def test_chronopic_is_a_device_and_splits_keep_8_us() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimChronopic(drift_ppm=60.0, offset_us=12_345_678, seed=3)
        path = sim.start()
        try:
            session = await h.open(f"chronopic:{path}")
            assert isinstance(session, ChronopicSession)
            await wait_until_async("the debounce reading", lambda: session.debounce_ms is not None)
            assert session.debounce_ms == 50  # the device's default, read with 'a'
            state = session.state
            assert state is not None and state.ready
            assert state.key.startswith("chronopic-") and state.info.successive_breaks
            row = next(r for r in h.snapshot() if r["key"] == state.key)
            assert row["adapter"] == "chronopic" and row["state"] == "ready"
            assert row["adapter_details"]["debounce_ms"] == 50

            t0 = now_us() + 200_000
            # 24 passes 0.25-0.9 s apart: past the 16 records the receipt clock needs to
            # settle, so its stated bound is its own, not the unsettled 20 ms floor.
            rng = random.Random(5)
            gaps_us = [0] + [rng.randrange(250_000, 900_000) for _ in range(23)]
            starts = [t0 + sum(gaps_us[: i + 1]) for i in range(len(gaps_us))]
            for start in starts:
                sim.schedule_break(start, 120_000)
            await wait_until_async(
                "every start and stop", lambda: len(events) == 2 * len(starts), 30.0
            )
        finally:
            sim.stop()
        broken = [e for e in events if e.kind is EventKind.BEAM_BROKEN]
        assert [e.seq for e in events] == list(range(len(events)))
        assert all(e.by_receipt and not e.coarse and e.channel == 0 for e in events)
        for (a, b), (ta, tb) in zip(pairwise(broken), pairwise(starts), strict=True):
            split_us = (b.ticks - a.ticks) * CHRONOPIC_TICK_US
            # The device's own clock runs 60 ppm fast; it truncates each interval it counts to
            # whole 8 us ticks, and a split holds two (the beam clears, the next one breaks).
            true_device_us = (tb - ta) * (1 + 60e-6)
            assert -1 <= true_device_us - split_us <= 2 * CHRONOPIC_TICK_US + 1
        # Host mapping from receipt: within the stated bound of the true host time (plus the
        # pty's own floor of delay, which no receipt can see), once the clock has settled.
        settled = [(e, s) for e, s in zip(broken, starts, strict=True) if e.seq >= 16]
        assert len(settled) >= 12
        for event, start in settled:
            assert event.mono_us is not None and event.sync_error_us is not None
            assert event.sync_error_us < 20_000
            assert abs(event.mono_us - start) <= event.sync_error_us + 500

    with_devices(body)


def test_a_port_that_is_no_chronopic_gets_a_clear_error() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        timy = SimTimy(seed=1)  # answers nothing, as a Timy does
        path = timy.start()
        try:
            with pytest.raises(LinkError, match=r"no Chronopic answered.*timy:"):
                await h.open(f"chronopic:{path}")
            assert f"chronopic:{path}" not in h.sessions
        finally:
            timy.stop()

    with_devices(body)


def test_timy_impulses_become_edges_on_their_channels_with_hand_times_marked() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimTimy(seed=5, drift_ppm=-40.0, checksum=True)
        path = sim.start()
        try:
            session = await h.open(f"timy:{path}")
            assert isinstance(session, AdapterSession)
            state = session.state
            assert state is not None and state.ready and state.info.channels == 9
            t0 = time.monotonic_ns() + 200_000_000
            plan = [(0, 0, False), (1_523_400_000, 2, False), (3_000_050_000, 1, False),
                    (3_500_000_000, 1, True)]  # fmt: skip
            for offset_ns, channel, manual in plan:
                sim.impulse_at(t0 + offset_ns, channel, manual=manual)
            await wait_until_async("every planned event", lambda: len(events) == len(plan), 10.0)
        finally:
            sim.stop()
        assert [(e.channel, e.manual) for e in events] == [(c, m) for _, c, m in plan]
        assert all(e.kind is EventKind.BEAM_BROKEN and e.by_receipt for e in events)
        truth = sim.truth
        for a, b, ta, tb in zip(events, events[1:], truth, truth[1:], strict=False):
            # Splits are differences of Timy times: exact to its 1/10,000 s.
            assert (b.ticks - a.ticks) == tb.time_of_day_ticks - ta.time_of_day_ticks

    with_devices(body)


def test_timy_drops_repeats_and_counts_garbage_and_losses() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        # 38400 baud: the 10,000-character line takes 2.6 s on the wire, not 10.4 s.
        sim = SimTimy(seed=9, baudrate=38400)
        path = sim.start()
        try:
            session = await h.open(f"timy:{path}@38400")
            assert isinstance(session, AdapterSession)
            t0 = time.monotonic_ns() + 100_000_000
            sim.garbage_at(t0, 300)
            sim.long_line_at(t0 + 50_000_000, 10_000)
            assert session.warning is None  # nothing read yet
            await wait_until_async(
                "the session's warning", lambda: session.warning is not None, 10.0
            )
            assert session.warning is not None and "38400 baud" in session.warning
            line = b" 0007 c0  10:00:00.1234 00\r"
            sim.send_raw_at(t0 + 2_000_000_000, line + line)  # the same impulse twice
            sim.send_raw_at(t0 + 2_100_000_000, b" 0010 c1  10:00:05.0000 00\r")  # 8 and 9 lost
            await wait_until_async("two events", lambda: len(events) == 2, 15.0)
            await asyncio.sleep(0.1)  # a third event, or a late count, would be here by now
        finally:
            sim.stop()
        assert [e.channel for e in events] == [0, 1]
        assert events[1].ticks - events[0].ticks == 48_766
        assert session.details["repeats"] == 1 and session.details["lost_impulses"] == 2
        stats = session.link_stats
        assert stats["too_long_lines"] == 1 and stats["impulses"] == 3
        row = next(r for r in h.snapshot() if r["adapter"] == "timy")
        assert row["duplicates"] == 1 and row["lost_frames"] == 2
        assert row["port_stats"]["too_long_lines"] == 1

    with_devices(body)


def test_unplugged_adapter_port_is_lost_not_fatal() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimTimy(seed=2)
        path = sim.start()
        try:
            session = await h.open(f"timy:{path}")
            assert isinstance(session, AdapterSession)
            state = session.state
            assert state is not None
            sim.unplug()
            await wait_until_async("the session to notice the loss", lambda: session.lost, 5.0)
            assert not state.connected and state.state == "lost"
        finally:
            sim.stop()

    with_devices(body)


def test_chronopic_debounce_is_set_and_read_back() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimChronopic(seed=4)
        path = sim.start()
        try:
            session = await h.open(f"chronopic:{path}")
            assert isinstance(session, ChronopicSession)
            assert await session.set_debounce_ms(30) == 30
            assert sim.debounce_us == 30_000
            with pytest.raises(ValueError, match="multiple of 10 ms"):
                await session.set_debounce_ms(35)
        finally:
            sim.stop()

    with_devices(body)


def test_chronopic_keeps_timing_through_random_bytes() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimChronopic(seed=11)
        path = sim.start()
        try:
            session = await h.open(f"chronopic:{path}")
            assert isinstance(session, ChronopicSession)
            for _ in range(5):
                sim.inject_garbage(400)  # seeded random bytes, 'X' and 'E' among them
                await asyncio.sleep(0.1)  # 400 bytes take 0.42 s at 9600 baud
            await wait_until_async(
                "the noise to be skipped", lambda: session.link_stats["skipped_bytes"] > 1_000, 10.0
            )
            await asyncio.sleep(0.2)  # a half frame left by the noise goes stale (50 ms)
            phantom = len(events)  # noise can spell a whole 'X' frame: counted as an edge
            t0 = now_us() + 100_000
            sim.schedule_break(t0, 100_000)
            sim.schedule_break(t0 + 1_000_000, 100_000)
            await wait_until_async(
                "four events past the noise", lambda: len(events) >= phantom + 4, 10.0
            )
        finally:
            sim.stop()
        real = events[phantom:]
        broken = [e for e in real if e.kind is EventKind.BEAM_BROKEN]
        assert len(broken) == 2 and not session.lost
        # A phantom edge from the noise can only sit before them; between them the count holds.
        assert (
            abs((broken[1].ticks - broken[0].ticks) * CHRONOPIC_TICK_US - 1_000_000)
            <= 2 * CHRONOPIC_TICK_US + 1
        )

    with_devices(body)


def test_a_timy_in_start_number_mode_carries_bibs_and_checks_no_counter() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimTimy(seed=12, baudrate=38400)
        path = sim.start()
        try:
            session = await h.open(f"timy:{path}@38400,bibs")
            assert isinstance(session, AdapterSession)
            t0 = time.monotonic_ns() + 100_000_000
            # Bib 7 starts and finishes: the same number twice is no repeat here.
            sim.send_raw_at(t0, b" 0007 c0  10:00:00.0000 00\r")
            sim.send_raw_at(t0 + 50_000_000, b" 0007 c1  10:00:02.5000 00\r")
            await wait_until_async("two events", lambda: len(events) == 2, 10.0)
        finally:
            sim.stop()
        assert [(e.channel, e.bib) for e in events] == [(0, 7), (1, 7)]
        assert session.details["numbers"] == "start numbers (bibs)"

    with_devices(body)


def test_a_timy_in_impulse_mode_names_nobody() -> None:
    async def body(h: DevicePorts, events: list[DeviceEvent]) -> None:
        sim = SimTimy(seed=13, baudrate=38400)
        path = sim.start()
        try:
            await h.open(f"timy:{path}@38400")
            sim.impulse_at(time.monotonic_ns() + 50_000_000, 0)
            await wait_until_async("one event", lambda: len(events) == 1, 10.0)
        finally:
            sim.stop()
        assert events[0].bib is None

    with_devices(body)
