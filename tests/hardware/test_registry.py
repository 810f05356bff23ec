"""DeviceState's event order (PROTOCOL.md section 5) with numbers alone: first contact, wraps."""

from __future__ import annotations

import pytest

from hardware.clock import ClockModel
from hardware.device_state import DeviceState
from hardware.messages import Caps, DeviceKind, EventKind, Status
from hardware.records import DeviceInfo

TICK_HZ = 1_000_000


def fresh() -> DeviceState:
    info = DeviceInfo(
        port="/dev/null", addr=0, kind=DeviceKind.GATE, device_id=0xAB, boot_id=7,
        firmware=(1, 0, 0), nominal_tick_hz=TICK_HZ, channels=2, proto=1, caps=Caps.BEAM,
    )  # fmt: skip
    return DeviceState(info=info, clock=ClockModel(TICK_HZ))


def feed(state: DeviceState, *evseqs: int) -> list[int]:
    """Accept events by their wire numbers (tick = 1000 + wire number); the numbers delivered."""
    out: list[int] = []
    for n in evseqs:
        got = state.accept(n, 0, EventKind.BEAM_BROKEN, 1000 + n, 0, 0)
        out += [a.evseq for a in got.delivered]
    return out


def test_fresh_boot_delivers_from_0_at_once() -> None:
    state = fresh()
    assert feed(state, 0, 1, 2) == [0, 1, 2]
    assert feed(state, 1) == [] and state.duplicates == 1  # delivered: now a repeat


@pytest.mark.parametrize("first", [32_768, 40_000, 65_535])
def test_first_contact_past_32767_is_held_not_taken_for_a_repeat(first: int) -> None:
    # Nearest to 0 these numbers are negative: a host anchored at 0 called them old repeats
    # and answered nothing, so the device re-sent them for ever.
    state = fresh()
    assert feed(state, first, (first + 1) & 0xFFFF) == []
    assert state.duplicates == 0 and len(state.held) == 2
    assert state.expected == 0  # the host NAKs 0, as for any new conversation
    started = state.skip_to_held()  # what 3 unanswered NAKs lead to
    assert [a.evseq for a in started] == [first, first + 1]
    assert [a.ticks for a in started] == [1000 + first, 1000 + ((first + 1) & 0xFFFF)]
    assert feed(state, (first + 2) & 0xFFFF) == [first + 2]


def test_first_contact_keeps_order_across_the_wrap_when_the_first_is_after_it() -> None:
    # The device still holds 65534, 65535, 0, 1; the host hears 1 first, then the device's
    # replay from its oldest. Anchored at 0, 65534 and 65535 were repeats and 0 was delivered
    # at once: two events lost and the order wrong.
    state = fresh()
    assert feed(state, 1, 65_534, 65_535, 0, 1) == []
    assert state.duplicates == 1  # the second copy of 1
    started = state.skip_to_held()
    # Raised by a wrap so that no number is negative; order and ticks as the device had them.
    assert [a.evseq for a in started] == [65_534, 65_535, 65_536, 65_537]
    assert [a.ticks % 1000 for a in started] == [(1000 + n) % 1000 for n in (65_534, 65_535, 0, 1)]
    assert feed(state, 2) == [65_538]
    assert feed(state, 65_535) == [] and state.duplicates == 2


def test_first_contact_waits_when_0_is_not_the_lowest_held() -> None:
    state = fresh()
    assert feed(state, 65_535) == []
    assert feed(state, 0) == []  # held: 65535 came before it on the device
    assert [a.evseq for a in state.skip_to_held()] == [65_535, 65_536]


def test_first_contact_on_a_fresh_boot_fills_the_gap_at_0() -> None:
    state = fresh()
    assert feed(state, 1, 2) == []  # 0 was lost on the way: NAK(0)
    assert feed(state, 0) == [0, 1, 2]
    assert not state.held and state.gap_naks == 0


def test_dropped_count_comes_from_the_last_status() -> None:
    state = fresh()
    assert state.dropped is None
    state.status = Status(90, 255, 0, (95, 95))  # an older device: no count
    assert state.dropped is None
    state.status = Status(90, 255, 0, (95, 95), dropped=12)
    assert state.dropped == 12
