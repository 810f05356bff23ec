"""hardware/wire.py against PROTOCOL.md section 2: CRC, framing, resync, the idle rule.

Payload layouts are test_messages.py; the worked examples are test_protocol_examples.py.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hardware.messages import (
    Event,
    EventKind,
    MsgType,
    Ping,
)
from hardware.wire import (
    IDLE_DROP_US,
    MAX_PAYLOAD,
    SYNC,
    Frame,
    FrameDecoder,
    crc16_ccitt,
    encode_frame,
)
from tests.hardware.wire_support import h

# The decoder fuzz test runs 10,000 examples in CI (CI=true) and a quick few hundred locally.
settings.register_profile(
    "fuzz-ci", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz-local", max_examples=300, deadline=None)
FUZZ = settings.get_profile("fuzz-ci" if os.environ.get("CI") == "true" else "fuzz-local")

# --- strategies and helpers ------------------------------------------------------------------

frames = st.builds(
    Frame,
    addr=st.integers(0, 255),
    seq=st.integers(0, 0xFFFF),
    type=st.integers(0, 255),
    payload=st.binary(max_size=MAX_PAYLOAD),
)
chunk_sizes = st.lists(st.integers(1, 64), min_size=1, max_size=20)
# Garbage that can never look like a frame start, so what the decoder must do is exact.
clean_garbage = st.binary(max_size=40).map(lambda b: b.replace(bytes([SYNC]), b"\x00"))


def feed_in_chunks(decoder: FrameDecoder, data: bytes, sizes: Sequence[int]) -> list[Frame]:
    """Feed `data` in pieces whose sizes cycle through `sizes`; return every frame found."""
    out: list[Frame] = []
    pos = 0
    i = 0
    while pos < len(data):
        step = sizes[i % len(sizes)]
        out += decoder.feed(data[pos : pos + step])
        pos += step
        i += 1
    return out


# --- CRC ---------------------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert crc16_ccitt(b"123456789") == 0x29B1


@given(st.binary(max_size=300))
def test_crc_matches_stdlib_crc_hqx(data: bytes) -> None:
    # binascii.crc_hqx is the same polynomial, unreflected, no final XOR; 0xFFFF start.
    assert crc16_ccitt(data) == binascii.crc_hqx(data, 0xFFFF)


# --- framing -------------------------------------------------------------------------------------


def test_frame_layout() -> None:
    data = encode_frame(Frame(addr=0x1F, seq=0x1234, type=0x10, payload=b"\x01\x02"))
    assert data[:6] == h("7E 02 1F 1234 10")
    assert data[6:8] == b"\x01\x02"
    assert len(data) == 8 + 2


def test_encode_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        encode_frame(Frame(addr=256, seq=0, type=1, payload=b""))
    with pytest.raises(ValueError):
        encode_frame(Frame(addr=0, seq=0, type=1, payload=bytes(MAX_PAYLOAD + 1)))
    assert len(encode_frame(Frame(addr=0, seq=0, type=1, payload=bytes(MAX_PAYLOAD)))) == 208


def test_seq_wraps_to_16_bits() -> None:
    (frame,) = FrameDecoder().feed(encode_frame(Frame(addr=0, seq=0x1_0003, type=1, payload=b"")))
    assert frame.seq == 3


@given(st.lists(frames, max_size=8), chunk_sizes)
def test_round_trip_in_random_chunks(sent: list[Frame], sizes: list[int]) -> None:
    decoder = FrameDecoder()
    got = feed_in_chunks(decoder, b"".join(encode_frame(f) for f in sent), sizes)
    assert got == sent
    assert decoder.stats.frames == len(sent)
    assert decoder.stats.bad_crc == decoder.stats.bad_length == decoder.stats.skipped_bytes == 0


@given(st.lists(st.tuples(clean_garbage, frames), max_size=8), clean_garbage, chunk_sizes)
def test_clean_garbage_between_frames_is_skipped_exactly(
    pairs: list[tuple[bytes, Frame]], tail: bytes, sizes: list[int]
) -> None:
    stream = b"".join(g + encode_frame(f) for g, f in pairs) + tail
    decoder = FrameDecoder()
    got = feed_in_chunks(decoder, stream, sizes)
    assert got == [f for _, f in pairs]  # nothing lost, nothing invented
    assert decoder.stats.skipped_bytes == sum(len(g) for g, _ in pairs) + len(tail)
    assert decoder.stats.bad_crc == 0


@settings(max_examples=200)
@given(st.lists(st.tuples(st.binary(max_size=40), frames), max_size=8), chunk_sizes)
def test_arbitrary_garbage_never_loses_a_frame(
    pairs: list[tuple[bytes, Frame]], sizes: list[int]
) -> None:
    sent = [f for _, f in pairs]
    stream = b"".join(g + encode_frame(f) for g, f in pairs)
    # Padding without SYNC settles any false start the garbage left waiting for bytes.
    stream += bytes(MAX_PAYLOAD + 8)
    got = feed_in_chunks(FrameDecoder(), stream, sizes)
    # Garbage can forge a good CRC (about 1 in 65,536 false starts): not what this tests.
    assume(all(f in sent for f in got))
    assert got == sent


@given(st.lists(frames, min_size=1, max_size=6), st.data())
def test_corrupted_byte_loses_only_that_frame(sent: list[Frame], data: st.DataObject) -> None:
    encoded = [bytearray(encode_frame(f)) for f in sent]
    victim = data.draw(st.integers(0, len(sent) - 1), label="victim")
    # Any byte after SYNC and LEN: a changed LEN would be bad_length, a changed SYNC no frame.
    pos = data.draw(st.integers(2, len(encoded[victim]) - 1), label="pos")
    encoded[victim][pos] ^= data.draw(st.integers(1, 255), label="xor")
    stream = b"".join(encoded) + bytes(MAX_PAYLOAD + 8)
    decoder = FrameDecoder()
    got = decoder.feed(stream)
    expected = sent[:victim] + sent[victim + 1 :]
    assume(all(f in expected for f in got))  # a forged good CRC inside the victim: see above
    assert got == expected
    assert decoder.stats.bad_crc >= 1


def test_truncated_frame_then_good_frame_resyncs() -> None:
    good = encode_frame(
        Frame(
            addr=0, seq=9, type=MsgType.EVENT, payload=Event(0, 0, EventKind.BEAM_BROKEN, 5).pack()
        )
    )
    cut = encode_frame(Frame(addr=0, seq=8, type=MsgType.EVENT, payload=b"\x00" * 10))[:7]
    decoder = FrameDecoder()
    assert decoder.feed(cut + good) == [
        Frame(0, 9, MsgType.EVENT, Event(0, 0, EventKind.BEAM_BROKEN, 5).pack())
    ]
    assert decoder.stats.bad_crc == 1


@pytest.mark.parametrize("bad_len", [201, 0x7F + 0x80, 255])
def test_len_over_200_is_skipped_and_counted(bad_len: int) -> None:
    good = Frame(addr=2, seq=1, type=MsgType.PING, payload=Ping(7).pack())
    decoder = FrameDecoder()
    got = decoder.feed(bytes([SYNC, bad_len]) + encode_frame(good))
    assert got == [good]
    assert decoder.stats.bad_length == 1
    assert decoder.stats.skipped_bytes == 2  # the false SYNC and the LEN byte after it


# --- the idle rule (section 2, step 3) --------------------------------------------------------

MS_US = 1000


def event_frame(seq: int, evseq: int) -> bytes:
    ev = Event(evseq, 0, EventKind.BEAM_BROKEN, 1000 + evseq)
    return encode_frame(Frame(0, seq, MsgType.EVENT, ev.pack()))


def test_corrupted_len_does_not_hold_back_the_frames_after_it() -> None:
    # LEN hit by noise (10 -> 200): without the idle rule the decoder would wait for 208
    # bytes, swallowing the next events for as long as a quiet line takes to send them.
    hit = bytearray(event_frame(1, 0))
    hit[1] = 200
    decoder = FrameDecoder()
    assert decoder.feed(bytes(hit), now_us=0) == []
    late = decoder.feed(event_frame(2, 1), now_us=IDLE_DROP_US + 5 * MS_US)
    assert [f.seq for f in late] == [2]
    assert decoder.stats.idle_drops == 1 and decoder.pending_bytes == 0


def test_frames_swallowed_before_the_line_went_quiet_come_out_when_it_does() -> None:
    hit = bytearray(event_frame(1, 0))
    hit[1] = 200
    decoder = FrameDecoder()
    assert decoder.feed(bytes(hit), now_us=0) == []
    assert decoder.feed(event_frame(2, 1) + event_frame(3, 2), now_us=2 * MS_US) == []
    assert decoder.feed(b"", now_us=2 * MS_US + IDLE_DROP_US - 1) == []  # not yet
    assert decoder.idle_due_us() == 2 * MS_US + IDLE_DROP_US
    out = decoder.feed(b"", now_us=2 * MS_US + IDLE_DROP_US)  # a read that timed out
    assert [f.seq for f in out] == [2, 3]
    assert decoder.stats.idle_drops == 1  # only the broken frame's SYNC
    assert decoder.idle_due_us() is None


def test_a_frame_paused_under_20_ms_is_kept_and_without_times_nothing_is_dropped() -> None:
    data = event_frame(4, 3)
    decoder = FrameDecoder()
    assert decoder.feed(data[:7], now_us=0) == []
    assert decoder.feed(data[7:], now_us=IDLE_DROP_US - 1) != []  # an FTDI's 16 ms: kept
    untimed = FrameDecoder()
    assert untimed.feed(data[:7]) == [] and untimed.idle_due_us() is None
    assert untimed.feed(data[7:]) != []


def test_idle_drop_goes_through_every_stale_start() -> None:
    # A frame whose LEN was hit, then one cut short: once the line is quiet, each start is
    # as stale as the first.
    hit = bytearray(event_frame(1, 0))
    hit[1] = 200
    stale = bytes(hit) + event_frame(2, 1)[:9]
    decoder = FrameDecoder()
    assert decoder.feed(stale, now_us=0) == []
    got = decoder.feed(event_frame(3, 2), now_us=IDLE_DROP_US)
    assert [f.seq for f in got] == [3]
    assert decoder.stats.idle_drops == 2
    assert decoder.stats.skipped_bytes == len(stale)


def test_partial_frame_waits_for_rest() -> None:
    data = encode_frame(Frame(addr=0, seq=1, type=MsgType.PING, payload=Ping(1).pack()))
    decoder = FrameDecoder()
    assert decoder.feed(data[:1]) == []
    assert decoder.feed(data[1:-1]) == []
    assert len(decoder.feed(data[-1:])) == 1


@FUZZ
@given(st.binary(max_size=400), frames, chunk_sizes)
def test_decoder_fuzz_random_bytes_never_raise_and_resync(
    noise: bytes, good: Frame, sizes: list[int]
) -> None:
    decoder = FrameDecoder()
    # Whatever the noise, feeding it never raises; the padding settles any false start.
    got = feed_in_chunks(decoder, noise + encode_frame(good) + bytes(MAX_PAYLOAD + 8), sizes)
    # Noise can forge a good CRC (about 1 in 65,536 false starts): not what this tests.
    assume(all(f == good for f in got))
    assert got == [good]
