"""ALGE Timy: the line parser with bytes alone, the timeline, the counter check, the pty sim."""

from __future__ import annotations

import time

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.adapters.timy import (
    DAY_TICKS,
    MAX_LINE_CHARS,
    CounterVerdict,
    ImpulseCounterCheck,
    TimyImpulse,
    TimyParser,
    TimyTimeline,
    checksum_chars,
    parse_time_of_day,
)
from hardware.sim.timy import SimTimy, impulse_line


def tod(h: int, m: int, s: int, frac4: int) -> int:
    return ((h * 60 + m) * 60 + s) * 10_000 + frac4


def one(data: bytes, received_mono_us: int = 7) -> TimyImpulse:
    parser = TimyParser()
    out = parser.feed(data, received_mono_us)
    assert len(out) == 1, parser.stats
    return out[0]


# --- lines as the manuals print them (reference section 3) ----------------------------------


def test_timy3_manual_sample_with_comma() -> None:
    imp = one(b"0002 c0 15:43:50,1647 00\r", 123)
    assert (imp.number, imp.channel, imp.manual) == (2, 0, False)
    assert imp.time_of_day_ticks == tod(15, 43, 50, 1647)
    assert imp.resolution_ticks == 1
    assert imp.group == 0
    assert imp.info_flag is None
    assert imp.received_mono_us == 123


def test_tracktimer_sample_with_dot_and_capital_c() -> None:
    imp = one(b"0002 C0 10:27:28.4172 00\r")
    assert (imp.number, imp.channel) == (2, 0)
    assert imp.time_of_day_ticks == tod(10, 27, 28, 4172)


def test_timy2_colon_before_fraction() -> None:
    imp = one(b"  0003 C1  10:27:31:2345\r")
    assert (imp.number, imp.channel) == (3, 1)
    assert imp.time_of_day_ticks == tod(10, 27, 31, 2345)
    assert imp.group is None


@pytest.mark.parametrize("sep", [".", ":", ","])
def test_every_separator_gives_the_same_time(sep: str) -> None:
    assert parse_time_of_day(f"23:59:59{sep}9999") == (DAY_TICKS - 1, 1)


def test_short_fraction_is_coarser_not_smaller() -> None:
    # A 1/100 s keypad time, 07.56 s, is 75,600 ticks with a resolution of 100 ticks.
    imp = one(b"0001 c5 00:01:07.56 00\r")
    assert imp.time_of_day_ticks == tod(0, 1, 7, 5600)
    assert imp.resolution_ticks == 100


@pytest.mark.parametrize("channel", range(9))
def test_channels_0_to_8(channel: int) -> None:
    imp = one(f" 0010 c{channel}  09:00:00.0001 00\r".encode())
    assert imp.channel == channel
    assert not imp.manual


@pytest.mark.parametrize("channel", [0, 1])
def test_keypad_impulse_is_manual(channel: int) -> None:
    imp = one(f" 0011 c{channel}M 09:00:01.5000 00\r".encode())
    assert imp.channel == channel
    assert imp.manual


def test_number_field_info_flag_and_no_leading_zeros() -> None:
    assert one(b"?  12 c1  08:00:00.0000 00\r").number == 12
    flagged = one(b"d9999 c1  08:00:00.0000 00\r")
    assert (flagged.info_flag, flagged.number) == ("d", 9999)
    # `c` is both the "cleared" flag and the channel letter: the channel still comes out right.
    cleared = one(b"c0001 c3  08:00:00.0000 00\r")
    assert (cleared.info_flag, cleared.number, cleared.channel) == ("c", 1, 3)
    assert one(b"c4 08:00:00.0000\r").number is None


def test_checksum_verified_when_present() -> None:
    body = " 0002 c0  15:43:50.1647 00"
    assert len(body) == 26
    good = (body + checksum_chars(body)).encode()
    assert one(good + b"\r").checksum == checksum_chars(body)
    bad = body + ("00" if checksum_chars(body) != "00" else "11")
    parser = TimyParser()
    assert parser.feed(bad.encode() + b"\r", 0) == []
    assert parser.stats.bad_checksum == 1
    assert parser.stats.impulses == 0


def test_simulator_line_parses_back() -> None:
    for sep in ".:,":
        line = impulse_line(42, 7, tod(1, 2, 3, 4567), manual=True, separator=sep, checksum=True)
        imp = one(line.encode() + b"\r")
        assert (imp.number, imp.channel, imp.manual) == (42, 7, True)
        assert imp.time_of_day_ticks == tod(1, 2, 3, 4567)
        assert imp.checksum is not None


# --- what is skipped is counted --------------------------------------------------------------


def test_running_times_blank_and_junk_are_counted_and_skipped() -> None:
    parser = TimyParser()
    stream = (
        b"0003 RT  00:00:12.3456 00\r"
        b" 0004 TT 00:01:02.0000 00\r"
        b"10:27:31.2\r"  # Timy2 running time every 0.1 s
        b"\r   \r"
        b"hello timer\r"
        b"0005 c9  10:00:00.0000 00\r"  # no channel 9
        b"0006 c1  25:00:00.0000 00\r"  # no hour 25
        b"0007 c1 \xff10:00:00.0000 00\r"  # line noise inside a line
        b"0008 c1  10:00:00.0000 00\r"
    )
    out = parser.feed(stream, 1)
    assert [imp.number for imp in out] == [8]
    s = parser.stats
    assert (s.running_time_lines, s.blank_lines, s.unknown_lines, s.non_ascii_bytes) == (3, 2, 4, 1)
    assert (s.lines, s.impulses) == (10, 1)


def test_ten_thousand_character_line_is_dropped_with_bounded_memory() -> None:
    parser = TimyParser()
    for _ in range(100):
        parser.feed(b"7" * 100, 0)
        assert parser.pending_bytes <= MAX_LINE_CHARS
    out = parser.feed(b"\r0001 c0  10:00:00.0000 00\r", 5)
    assert [imp.number for imp in out] == [1]
    assert parser.stats.too_long_lines == 1
    # A line of exactly the limit is still read (and is junk here), not dropped as too long.
    parser.feed(b"x" * MAX_LINE_CHARS + b"\r", 6)
    assert parser.stats.too_long_lines == 1


def test_line_split_across_feeds_takes_the_receipt_time_of_its_cr() -> None:
    parser = TimyParser()
    data = b"0002 c0 15:43:50,1647 00\r0003 c1 15:43:55,0001 00\r"
    got: list[TimyImpulse] = []
    for i, byte in enumerate(data):
        got += parser.feed(bytes([byte]), 1000 + i)
    assert [(g.number, g.received_mono_us) for g in got] == [(2, 1024), (3, 1049)]
    assert parser.stats.lines == 2


def test_crlf_counts_as_one_line_ending() -> None:
    parser = TimyParser()
    out = parser.feed(b"0001 c0  10:00:00.0000 00\r\n0002 c1  10:00:01.0000 00\r\n", 0)
    assert len(out) == 2
    assert parser.stats.blank_lines == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=600), max_size=8))
def test_any_bytes_never_raise_and_memory_stays_bounded(chunks: list[bytes]) -> None:
    parser = TimyParser()
    for i, chunk in enumerate(chunks):
        for imp in parser.feed(chunk, i):
            assert 0 <= imp.channel <= 8
            assert 0 <= imp.time_of_day_ticks < DAY_TICKS
        assert parser.pending_bytes <= MAX_LINE_CHARS
    assert parser.stats.impulses <= parser.stats.lines


# --- timeline and counter ----------------------------------------------------------------------


def test_timeline_wraps_at_midnight() -> None:
    line = TimyTimeline()
    before = line.to_timeline_ticks(tod(23, 59, 59, 9000))
    after = line.to_timeline_ticks(tod(0, 0, 0, 500))
    assert after - before == 1500  # 0.15 s across midnight
    assert line.day == 1
    # A step back of less than 12 h is not a new day; it is passed through and counted.
    back = line.to_timeline_ticks(tod(0, 0, 0, 100))
    assert back - after == -400
    assert (line.day, line.backward_steps) == (1, 1)


def test_counter_drops_repeat_and_reports_gap() -> None:
    check = ImpulseCounterCheck()
    verdicts = [check.check(n) for n in (7, 8, 8, 11, 12, None, 9999, 0)]
    assert verdicts == [
        (CounterVerdict.FIRST, 0),
        (CounterVerdict.NEXT, 0),
        (CounterVerdict.REPEAT, 0),
        (CounterVerdict.GAP, 2),
        (CounterVerdict.NEXT, 0),
        (CounterVerdict.NO_NUMBER, 0),
        (CounterVerdict.RESYNC, 0),  # 12 -> 9999: a cleared or reset timer, not 9,986 lost
        (CounterVerdict.NEXT, 0),  # the 4-digit counter wraps
    ]
    assert (check.repeats, check.lost, check.resyncs) == (1, 2, 1)


# --- the simulator on a pty, read with plain pyserial ---------------------------------------


def test_sim_timy_on_pty_matches_truth_within_0_2_ms() -> None:
    sim = SimTimy(seed=3, drift_ppm=40.0, separator=",", running_times=True)
    port = sim.start()
    try:
        with serial.Serial(port, 9600, timeout=0.05) as ser:
            assert ser.read(64) == b""  # a Timy sends nothing before its first impulse
            t0 = time.monotonic_ns() + 30_000_000
            offsets_ms = [0.0, 123.4567, 250.0, 251.3, 400.05]
            channels = [0, 2, 3, 4, 1]
            for off, ch in zip(offsets_ms, channels, strict=True):
                sim.impulse_at(t0 + int(off * 1e6), ch, manual=(ch == 4))
            sim.impulse_at(t0 + 450_000_000, 1)
            sim.long_line_at(t0 + 460_000_000, 600)  # 0.6 s at 9600 baud; the parser tests do 10k
            sim.garbage_at(t0 + 470_000_000, 50)
            sim.send_raw_at(t0 + 470_000_000, b"\r")  # so the next impulse starts a fresh line
            sim.impulse_at(t0 + 480_000_000, 8)
            parser = TimyParser()
            got: list[TimyImpulse] = []
            deadline = time.monotonic() + 5.0
            while len(got) < 7 and time.monotonic() < deadline:
                got += parser.feed(ser.read(256), time.monotonic_ns() // 1000)
    finally:
        sim.stop()
    assert sim.errors == []
    truth = [t for t in sim.truth if t.sent]
    assert [g.number for g in got] == [t.number for t in truth] == [1, 2, 3, 4, 5, 6, 7]
    assert [g.channel for g in got] == [0, 2, 3, 4, 1, 1, 8]
    assert [g.manual for g in got] == [False, False, False, True, False, False, False]
    assert parser.stats.running_time_lines == 2  # one RT per finish after a start
    assert parser.stats.too_long_lines == 1
    for g, t in zip(got[1:], truth[1:], strict=True):
        device_us = (g.time_of_day_ticks - got[0].time_of_day_ticks) * 100
        true_us = (t.true_mono_ns - truth[0].true_mono_ns) / 1000
        assert abs(device_us - true_us) <= 200


def test_sim_timy_unplugged_keeps_counting_so_the_gap_shows() -> None:
    sim = SimTimy(seed=1)
    sim.start()
    try:
        now = time.monotonic_ns()
        sim.impulse_at(now, 0)
        deadline = time.monotonic() + 2.0
        while not sim.truth and time.monotonic() < deadline:
            time.sleep(0.005)
        sim.unplug()
        sim.impulse_at(now, 1)
        deadline = time.monotonic() + 2.0
        while len(sim.truth) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        sim.stop()
    assert [(t.number, t.sent) for t in sim.truth] == [(1, True), (2, False)]
    assert sim.port == ""


def test_noise_before_an_impulse_on_its_line_costs_the_noise_not_the_impulse() -> None:
    parser = TimyParser()
    line = b" 0042 c1  12:34:56.7890 00\r"
    got = parser.feed(b"\x93\xff7q" + line, 5)
    assert [(i.number, i.channel, i.time_of_day_ticks) for i in got] == [
        (42, 1, ((12 * 60 + 34) * 60 + 56) * 10_000 + 7890)
    ]
    assert parser.stats.recovered_lines == 1 and parser.stats.non_ascii_bytes == 2
    # Noise after the impulse, before its CR: the line cannot be trusted at all.
    assert parser.feed(line[:-1] + b"\xfe\r", 6) == []
    assert parser.stats.unknown_lines == 1
