"""PortSession's clock sync: start-up PING schedule, PONG window, event time mapping."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import cast

import pytest

from hardware.clock import MIN_SAMPLES_READY, ClockModel, uart_time_us
from hardware.device import DeviceEvent, PortSession
from hardware.device_state import DeviceState
from hardware.link import BAUDRATE, SerialLink
from hardware.messages import (
    Caps,
    DeviceKind,
    EventKind,
    Pong,
)
from hardware.pings import (
    PING_FRAME_BYTES,
    PING_INTERVAL_US,
    PONG_FRAME_BYTES,
    STARTUP_PING_GAP_US,
    STARTUP_PINGS,
    STARTUP_PINGS_MAX,
    PingPlan,
    startup_ping_offsets_us,
)
from hardware.records import DeviceInfo
from hardware.timebase import mono_us
from tests.hardware.host_fake import DEVICE_ID, FakeDevice, run, with_session
from tests.support import wait_until_async


def test_events_before_the_clock_is_ready_are_delivered_unmapped() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.answer_pings = False
        device.hello()
        device.event(0)
        await wait_until_async("the event", lambda: len(events) == 1, 2.0)
        assert events[0].mono_us is None and events[0].sync_error_us is None
        assert session.devices[0].state == "connecting"

    run(lambda: with_session(body))


def test_events_carry_mapped_time_and_error_bound_once_synced() -> None:
    async def body(device: FakeDevice, session: PortSession, events: list[DeviceEvent]) -> None:
        device.hello()
        await session.wait_ready(timeout_s=3.0)
        # The fake's counter is host microseconds plus its offset, so this tick was read at
        # `stamped_us`: the truth the mapped time is checked against, however late it arrives.
        stamped_us = mono_us()
        tick = (stamped_us + device.tick_offset) & 0xFFFFFFFF
        device.event(0, channel=1, kind=EventKind.POD_TOUCHED, tick=tick, ref=0)
        await wait_until_async("the event", lambda: len(events) == 1, 2.0)
        (ev,) = events
        assert ev.mono_us is not None and ev.sync_error_us is not None
        assert ev.ticks & 0xFFFFFFFF == tick  # the device's own counter, extended
        # Within the session's own error bound, plus the UART line time the model allows
        # for each exchange and a pty does not take (the fake may read its counter that far
        # outside the window the model keeps).
        line_us = uart_time_us(PING_FRAME_BYTES + PONG_FRAME_BYTES, BAUDRATE)
        assert abs(ev.mono_us - stamped_us) <= ev.sync_error_us + line_us + 1
        assert ev.clock_id == f"gate-{DEVICE_ID:08X}:7"

    run(lambda: with_session(body))


def test_pong_window_leaves_out_the_line_time_of_ping_and_pong() -> None:
    # PROTOCOL.md 4.3: the counter was read after the PING's 12 bytes crossed the UART and
    # before the PONG's 16 did (1042 and 1389 us at 115200).
    session = PortSession("/dev/null", on_event=lambda _: None)
    session._link = cast(SerialLink, SimpleNamespace(baudrate=115_200))
    info = DeviceInfo("/dev/null", 0, DeviceKind.GATE, 1, 1, (1, 0, 0), 1_000_000, 2, 1,
                      Caps.BEAM)  # fmt: skip
    clock = ClockModel(1_000_000)
    state = DeviceState(info=info, clock=clock)
    session._pings.start(0, hello_mono_us=0)
    session._pings.sent(0, nonce=9, sent_us=1_000_000, now_us=1_000_000, ready=False)
    session._handle_pong(0, state, Pong(9, 5_000), received_mono_us=1_010_000)
    assert (PING_FRAME_BYTES, PONG_FRAME_BYTES) == (12, 16)
    assert clock.min_rtt_us == 10_000 - 1042 - 1389
    assert state.rto.srtt_us == 10_000  # the RTO wants the whole round trip


def test_startup_pings_make_every_address_ready_well_within_a_second() -> None:
    # PROTOCOL.md section 7: HELLO to `ready` within 1 s. The schedule's part is when the
    # MIN_SAMPLES_READY-th PING leaves; its PONG then takes one round trip (USB: up to
    # about 20 ms each way, more in a spike), and a few may be lost. Half a second to spare.
    for addr in range(32):
        offsets = startup_ping_offsets_us(addr)
        assert len(offsets) == MIN_SAMPLES_READY
        assert offsets == sorted(offsets)
        assert offsets[-1] <= 500_000, (addr, offsets)
    # Behind a hub the devices still start apart, so their PONGs do not queue together.
    starts = [startup_ping_offsets_us(addr)[0] for addr in range(32)]
    assert len(set(starts)) == 32


@pytest.mark.parametrize("ready_after", [1, STARTUP_PINGS, 12, None])
def test_the_startup_burst_goes_on_while_the_clock_is_not_ready(ready_after: int | None) -> None:
    # Slow round trips (a hub's 32 devices saying HELLO at once) can leave a clock unready
    # after the first 8 pings: the quick pings go on until it is, up to STARTUP_PINGS_MAX,
    # rather than leaving it a whole period for the next one.
    plan = PingPlan.at_hello(0, addr=3)
    times: list[int] = []
    for n in range(1, 30):
        times.append(plan.due_us)
        plan.sent(plan.due_us, ready=ready_after is not None and n >= ready_after)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    quick = sum(1 for g in gaps if g == STARTUP_PING_GAP_US) + 1
    expected = max(STARTUP_PINGS, min(ready_after or STARTUP_PINGS_MAX, STARTUP_PINGS_MAX))
    assert quick == expected
    assert all(g == STARTUP_PING_GAP_US for g in gaps[: quick - 1])
    assert all(g == PING_INTERVAL_US for g in gaps[quick:])  # then once a period
