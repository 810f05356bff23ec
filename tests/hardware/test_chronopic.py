"""hardware/adapters/chronopic.py with bytes alone, and against hardware/sim/chronopic.py on a
pty read by pyserial (reference/timing-and-devices.md sections 2.1 and 2.5)."""

from __future__ import annotations

import time

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.adapters.chronopic import (
    IDLE_DROP_US,
    PROBE_COMMAND,
    SATURATED_MIN_TICKS,
    STATE_QUERY_COMMAND,
    TICK_US,
    ChronopicDecoder,
    ChronopicEdge,
    ChronopicProbeAnswer,
    ChronopicRecord,
    ChronopicStateAnswer,
    ChronopicTimeline,
    debounce_set_command,
)
from hardware.sim.chronopic import SimChronopic, encode_interval


def x_frame(state: int, interval_ticks: int) -> bytes:
    return b"X" + bytes([state]) + interval_ticks.to_bytes(3, "big")


def edges(records: list[ChronopicRecord]) -> list[ChronopicEdge]:
    return [r for r in records if isinstance(r, ChronopicEdge)]


# --- decoder -----------------------------------------------------------------------------


def test_raw_and_ascii_state_bytes_decode_to_the_same_edges() -> None:
    dec = ChronopicDecoder()
    data = x_frame(1, 0) + x_frame(0, 0x012345) + b"X1\x00\x00\x10" + b"X0\xab\xcd\xef"
    got = dec.feed(data, 1000)
    assert got == [
        ChronopicEdge(1, 0, 1000),
        ChronopicEdge(0, 0x012345, 1000),
        ChronopicEdge(1, 0x10, 1000),
        ChronopicEdge(0, 0xABCDEF, 1000),
    ]
    assert dec.stats.edges == 4
    assert dec.stats.skipped_bytes == 0


def test_answers_to_probe_and_state_query() -> None:
    dec = ChronopicDecoder()
    got = dec.feed(b"J" + b"E\x01" + b"E0", 5)
    assert got == [
        ChronopicProbeAnswer(5),
        ChronopicStateAnswer(1, 5),
        ChronopicStateAnswer(0, 5),
    ]
    assert (dec.stats.probe_answers, dec.stats.state_answers) == (1, 2)


def test_frame_split_across_feeds_is_found_with_the_last_chunks_time() -> None:
    dec = ChronopicDecoder()
    frame = x_frame(1, 0x00FF01)
    out: list[ChronopicRecord] = []
    for i, byte in enumerate(frame):
        out += dec.feed(bytes([byte]), 100 + i * 1000)  # 1 ms a byte, as at 9600 baud
    assert out == [ChronopicEdge(1, 0x00FF01, 4100)]
    assert dec.pending_bytes == 0


def test_garbage_and_a_long_junk_line_are_skipped_and_counted() -> None:
    dec = ChronopicDecoder()
    junk = bytes(b % 256 for b in range(10_000)).translate(None, b"XEJ")
    junk = (junk * 2)[:10_000]
    got = dec.feed(b"\x00\xff" + x_frame(1, 7) + junk + x_frame(0, 9), 0)
    assert edges(got) == [ChronopicEdge(1, 7, 0), ChronopicEdge(0, 9, 0)]
    assert dec.stats.skipped_bytes == 2 + 10_000
    assert dec.pending_bytes == 0


def test_frame_start_with_a_bad_state_byte_resyncs_on_the_next_byte() -> None:
    dec = ChronopicDecoder()
    # 'X' then 'X': the first cannot be a frame (state 'X'), the second is one.
    got = dec.feed(b"XX\x01\x00\x00\x05" + b"E\x07", 0)
    assert got == [ChronopicEdge(1, 5, 0)]
    assert dec.stats.bad_state == 2
    assert dec.stats.skipped_bytes == 3  # the two leads and the stray 0x07


def test_idle_partial_frame_is_dropped_and_does_not_glue_to_the_next() -> None:
    dec = ChronopicDecoder()
    assert dec.feed(b"X\x01\x00", 0) == []
    assert dec.idle_due_mono_us() == IDLE_DROP_US
    # Just before the idle limit the fragment is still held: a late USB packet completes it.
    later = ChronopicDecoder()
    later.feed(b"X\x01\x00", 0)
    assert later.feed(b"\x00\x02", IDLE_DROP_US - 1) == [ChronopicEdge(1, 2, IDLE_DROP_US - 1)]
    # After it, the fragment is dropped and the next whole frame decodes by itself.
    got = dec.feed(x_frame(0, 3), IDLE_DROP_US)
    assert got == [ChronopicEdge(0, 3, IDLE_DROP_US)]
    assert dec.stats.idle_drops == 1
    assert dec.stats.skipped_bytes == 3


def test_idle_rule_applies_on_an_empty_feed() -> None:
    dec = ChronopicDecoder()
    dec.feed(b"E", 10)
    assert dec.feed(b"", 10 + IDLE_DROP_US) == []
    assert dec.pending_bytes == 0
    assert dec.stats.idle_drops == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(1, 50), max_size=8))
def test_any_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    dec = ChronopicDecoder()
    t = 0
    pos = 0
    for cut in [*cuts, len(data)]:
        dec.feed(data[pos : pos + cut], t)
        pos += cut
        t += 20_000 * (cut % 4)  # some gaps pass the idle limit
    dec.feed(data[pos:], t)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(max_size=20).map(lambda b: b.translate(None, b"XEJ")),
            st.integers(0, 1),
            st.integers(0, 0xFFFFFF),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_valid_frames_in_noise_without_frame_starts_are_all_found(
    parts: list[tuple[bytes, int, int]],
) -> None:
    data = b"".join(noise + x_frame(state, ticks) for noise, state, ticks in parts)
    got = ChronopicDecoder().feed(data, 0)
    assert [(e.state, e.interval_ticks) for e in edges(got)] == [(s, t) for _, s, t in parts]


def test_debounce_set_command_is_b_and_tens_of_ms() -> None:
    assert debounce_set_command(50) == b"b\x05"
    assert debounce_set_command(250) == b"b\x19"
    for bad in (0, 55, 260):
        with pytest.raises(ValueError):
            debounce_set_command(bad)


# --- timeline ----------------------------------------------------------------------------


def test_timeline_sums_intervals_exactly_and_first_edge_reads_zero() -> None:
    tl = ChronopicTimeline()
    intervals = [123_456, 1, 0xFEFFFF, 8]
    timed = [tl.push(ChronopicEdge(1, 999, 0))]  # whatever it carries, the first is tick 0
    for i, ticks in enumerate(intervals):
        timed.append(tl.push(ChronopicEdge(i % 2, ticks, 0)))
    assert [t.ticks for t in timed] == [0, 123_456, 123_457, 123_457 + 0xFEFFFF, 0xFF0000 + 123_464]
    assert not any(t.coarse for t in timed)
    tl.reset()
    assert tl.push(ChronopicEdge(0, 42, 0)).ticks == 0


def test_saturated_interval_marks_coarse_and_reanchors_on_receipt_time() -> None:
    tl = ChronopicTimeline()
    tl.push(ChronopicEdge(1, 0, 1_000_000))
    tl.push(ChronopicEdge(0, 12_500, 1_100_000))  # 100 ms, fine
    gap_us = 200_000_000  # 200 s of host time between receipts
    sat = ChronopicEdge(1, 0xFF_1234, 1_100_000 + gap_us)
    assert sat.saturated
    coarse = tl.push(sat)
    assert coarse.coarse
    assert coarse.ticks == 12_500 + gap_us // TICK_US
    after = tl.push(ChronopicEdge(0, 250, 0))
    assert not after.coarse
    assert after.ticks == coarse.ticks + 250  # 8 us resolution again from the new anchor


def test_saturated_interval_never_places_the_edge_below_the_saturation_floor() -> None:
    tl = ChronopicTimeline()
    tl.push(ChronopicEdge(1, 0, 0))
    coarse = tl.push(ChronopicEdge(0, 0xFFFFFF, 1_000))  # receipt gap makes no sense: 1 ms
    assert coarse.coarse and coarse.ticks == SATURATED_MIN_TICKS


def test_sim_encodes_intervals_as_the_firmware_saturating_top_byte() -> None:
    assert encode_interval(0x012345) == b"\x01\x23\x45"
    # Past 0xFFFFFF the top byte sticks at 0xFF and the low 16 bits wrap.
    assert encode_interval(0x1_02_3456) == b"\xff\x34\x56"
    dec = ChronopicDecoder()
    (edge,) = dec.feed(b"X\x01" + encode_interval(0x1_02_3456), 0)
    assert isinstance(edge, ChronopicEdge) and edge.saturated


# --- simulator on a pty, read with pyserial ----------------------------------------------


def _read_until(
    port: serial.Serial, dec: ChronopicDecoder, want: int, deadline_s: float = 3.0
) -> list[ChronopicRecord]:
    out: list[ChronopicRecord] = []
    end = time.monotonic() + deadline_s
    while len(out) < want and time.monotonic() < end:
        data = port.read(64)
        out += dec.feed(data, time.monotonic_ns() // 1000)
    return out


def test_sim_on_pty_breaks_match_truth_debounce_drops_bounce_and_answers_probe() -> None:
    sim = SimChronopic(drift_ppm=30.0, offset_us=123_456, seed=7)
    path = sim.start()
    try:
        with serial.Serial(path, 9600, timeout=0.02) as port:
            dec = ChronopicDecoder()
            port.write(PROBE_COMMAND)
            t0 = sim.now_mono_us() + 50_000
            sim.schedule_input(t0, 1)  # break
            sim.schedule_input(t0 + 123_457, 0)  # beam back
            sim.schedule_input(t0 + 300_000, 1)  # a bounce shorter than the 50 ms debounce
            sim.schedule_input(t0 + 310_000, 0)
            sim.schedule_input(t0 + 400_003, 1)  # the next real break
            got = _read_until(port, dec, want=4)
            port.write(STATE_QUERY_COMMAND)
            got += _read_until(port, dec, want=1)
        assert ChronopicProbeAnswer in {type(r) for r in got}
        assert [r.state for r in got if isinstance(r, ChronopicStateAnswer)] == [1]
        decoded = edges(got)
        assert [e.state for e in decoded] == [1, 0, 1]  # the bounce was not reported
        assert len(sim.input_truth) == 5
        assert [e.interval_ticks for e in decoded] == [t.interval_ticks for t in sim.edges_truth]
        timeline = ChronopicTimeline()
        ticks = [timeline.push(e).ticks for e in decoded]
        truth_us = [t.host_mono_us for t in sim.edges_truth]
        for i in range(1, len(ticks)):
            split_err_us = (ticks[i] - ticks[0]) * TICK_US - (truth_us[i] - truth_us[0])
            assert abs(split_err_us) <= 2 * TICK_US
        assert dec.stats.skipped_bytes == 0
        assert not sim.errors
    finally:
        sim.stop()


def test_sim_garbage_is_skipped_and_unplug_fails_the_read() -> None:
    sim = SimChronopic(seed=3)
    path = sim.start()
    try:
        with serial.Serial(path, 9600, timeout=0.02) as port:
            dec = ChronopicDecoder()
            junk = sim.inject_garbage(b"\x00\x11\x22\x7f")
            sim.schedule_input(sim.now_mono_us() + 10_000, 1)
            got = _read_until(port, dec, want=1)
            assert edges(got) == [ChronopicEdge(1, 0, edges(got)[0].received_mono_us)]
            assert dec.stats.skipped_bytes == len(junk)
            sim.unplug()
            with pytest.raises(serial.SerialException):
                for _ in range(50):
                    port.read(64)
    finally:
        sim.stop()


def test_an_edge_reading_zero_mid_session_is_a_device_reset_placed_by_receipt() -> None:
    tl = ChronopicTimeline()
    first = tl.push(ChronopicEdge(1, 0, 1_000_000))
    second = tl.push(ChronopicEdge(0, 12_500, 1_150_000))  # 100 ms later, by its count
    assert (first.ticks, second.ticks, second.coarse) == (0, 12_500, False)
    # Power-cycled: its next edge reads 0 again, 3 s after the last by receipt.
    again = tl.push(ChronopicEdge(1, 0, 4_150_000))
    assert again.coarse and again.ticks == 12_500 + 3_000_000 // 8
    assert tl.restarts == 1
