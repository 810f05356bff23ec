"""Framing of the device protocol (hardware/PROTOCOL.md section 2): sync byte, CRC, resync.

Pure bytes in, frames out: no ports, threads or clocks here, so every rule of the spec can be
tested with byte strings alone. What a frame's payload means is hardware/messages.py.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field

SYNC = 0x7E
MAX_PAYLOAD = 200
HEADER_LEN = 6  # SYNC, LEN, ADDR, SEQ(2), TYPE
FRAME_OVERHEAD = HEADER_LEN + 2  # + CRC
# A frame's bytes follow each other on the line; after this long without a byte, the frame
# being received never will be whole (its LEN was hit by noise, or the sender reset), and
# waiting for more would absorb the next frames until 208 bytes had come (section 2).
IDLE_DROP_US = 20_000


def crc16_ccitt(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE. binascii's crc_hqx is this very CRC (polynomial 0x1021, no
    reflection, no final XOR) given 0xFFFF as the start value, and runs in C: a Python loop
    over bits cost tens of microseconds per frame, the largest share of a frame's handling."""
    return binascii.crc_hqx(data, crc)


@dataclass(frozen=True)
class Frame:
    addr: int
    seq: int
    type: int
    payload: bytes


def encode_frame(frame: Frame) -> bytes:
    if not 0 <= frame.addr <= 0xFF:
        raise ValueError(f"address {frame.addr} out of range 0..255")
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    body = (
        struct.pack(">BBHB", len(frame.payload), frame.addr, frame.seq & 0xFFFF, frame.type)
        + frame.payload
    )
    return bytes([SYNC]) + body + struct.pack(">H", crc16_ccitt(body))


@dataclass
class DecoderStats:
    """Counters a link reports so that a noisy cable is visible, not silent."""

    frames: int = 0
    bad_crc: int = 0
    bad_length: int = 0
    skipped_bytes: int = 0
    idle_drops: int = 0


@dataclass
class FrameDecoder:
    """Incremental frame finder that survives noise, as section 2 of the spec prescribes.

    The receive time of each chunk is the caller's to give (`now_us`, on any monotonic
    microsecond clock): the decoder reads no clock, so the idle rule is tested with numbers.
    Without times it never drops a frame for idleness.
    """

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buf: bytearray = field(default_factory=bytearray)
    _last_byte_us: int | None = None

    @property
    def pending_bytes(self) -> int:
        """Bytes held for a frame not yet whole."""
        return len(self._buf)

    def idle_due_us(self) -> int | None:
        """When the bytes held become an idle frame to drop; None when nothing is held."""
        if not self._buf or self._last_byte_us is None:
            return None
        return self._last_byte_us + IDLE_DROP_US

    def feed(self, data: bytes, now_us: int | None = None) -> list[Frame]:
        """Frames completed by `data`, received at `now_us`. An empty `data` with a time
        only applies the idle rule (a reader's timeout with nothing read)."""
        frames: list[Frame] = []
        if now_us is not None:
            due = self.idle_due_us()
            if due is not None and now_us >= due:
                frames += self._drop_idle()
            if data:
                self._last_byte_us = now_us
        if data:
            self._buf += data
            frames += self._scan()
        return frames

    def _drop_idle(self) -> list[Frame]:
        """The line went quiet inside a frame: drop its SYNC and look again at the bytes
        after it, as for a CRC failure, until what is held has been searched to the end. A
        frame found whole in there is still good; any other start is as stale as the first."""
        frames: list[Frame] = []
        while self._buf:
            self.stats.idle_drops += 1
            self.stats.skipped_bytes += 1
            del self._buf[:1]
            frames += self._scan()
        return frames

    def _scan(self) -> list[Frame]:
        frames: list[Frame] = []
        buf = self._buf
        while True:
            start = buf.find(SYNC)
            if start < 0:
                self.stats.skipped_bytes += len(buf)
                buf.clear()
                break
            if start:
                self.stats.skipped_bytes += start
                del buf[:start]
            if len(buf) < 2:
                break
            length = buf[1]
            if length > MAX_PAYLOAD:
                self.stats.bad_length += 1
                self.stats.skipped_bytes += 1
                del buf[:1]
                continue
            total = FRAME_OVERHEAD + length
            if len(buf) < total:
                break
            body = bytes(buf[1 : HEADER_LEN + length])
            (crc,) = struct.unpack_from(">H", buf, HEADER_LEN + length)
            if crc != crc16_ccitt(body):
                # Drop only the SYNC: the true frame start may be inside what we just read.
                self.stats.bad_crc += 1
                self.stats.skipped_bytes += 1
                del buf[:1]
                continue
            _, addr, seq, mtype = struct.unpack_from(">BBHB", body)
            frames.append(Frame(addr=addr, seq=seq, type=mtype, payload=body[5:]))
            self.stats.frames += 1
            del buf[:total]
        return frames
