"""Wire format of the device protocol (hardware/PROTOCOL.md): framing, CRC, message types.

Pure bytes in, messages out: no ports, threads or clocks here, so every rule of the spec can be
tested with byte strings alone.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field

SYNC = 0x7E
MAX_PAYLOAD = 200
HEADER_LEN = 6  # SYNC, LEN, ADDR, SEQ(2), TYPE
FRAME_OVERHEAD = HEADER_LEN + 2  # + CRC
PROTOCOL_VERSION = 0


class MsgType(enum.IntEnum):
    HELLO = 0x01
    IDENTIFY = 0x02
    EVENT = 0x10
    PING = 0x20
    PONG = 0x21


class DeviceKind(enum.IntEnum):
    GATE = 1
    POD = 2
    HUB = 3


class EventKind(enum.IntEnum):
    BEAM_BROKEN = 1
    BEAM_RESTORED = 2
    POD_TOUCHED = 3


def crc16_ccitt(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE, bitwise: frames are short, so a table buys nothing measurable."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


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


@dataclass
class FrameDecoder:
    """Incremental frame finder that survives noise, as section 2 of the spec prescribes."""

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
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


class PayloadError(ValueError):
    """A frame passed its CRC but its payload does not fit its type: treated as noise."""


@dataclass(frozen=True)
class Hello:
    proto: int
    kind: DeviceKind
    device_id: int
    boot_id: int
    firmware: tuple[int, int, int]
    tick_hz: int
    channels: int

    _FMT = struct.Struct(">BBIIBBBIB")

    def pack(self) -> bytes:
        return self._FMT.pack(
            self.proto, self.kind, self.device_id, self.boot_id, *self.firmware,
            self.tick_hz, self.channels,
        )  # fmt: skip

    @classmethod
    def unpack(cls, payload: bytes) -> Hello:
        if len(payload) != cls._FMT.size:
            raise PayloadError(f"HELLO payload is {len(payload)} bytes, expected {cls._FMT.size}")
        proto, kind, dev, boot, fa, fb, fc, hz, ch = cls._FMT.unpack(payload)
        try:
            kind_e = DeviceKind(kind)
        except ValueError as exc:
            raise PayloadError(f"HELLO has unknown device kind {kind}") from exc
        if hz == 0:
            raise PayloadError("HELLO announces a tick rate of 0 Hz")
        return cls(proto, kind_e, dev, boot, (fa, fb, fc), hz, ch)


@dataclass(frozen=True)
class Event:
    channel: int
    kind: EventKind
    tick32: int

    _FMT = struct.Struct(">BBI")

    def pack(self) -> bytes:
        return self._FMT.pack(self.channel, self.kind, self.tick32 & 0xFFFFFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> Event:
        if len(payload) != cls._FMT.size:
            raise PayloadError(f"EVENT payload is {len(payload)} bytes, expected {cls._FMT.size}")
        channel, kind, tick = cls._FMT.unpack(payload)
        try:
            kind_e = EventKind(kind)
        except ValueError as exc:
            raise PayloadError(f"EVENT has unknown kind {kind}") from exc
        return cls(channel, kind_e, tick)


@dataclass(frozen=True)
class Ping:
    nonce: int

    _FMT = struct.Struct(">I")

    def pack(self) -> bytes:
        return self._FMT.pack(self.nonce & 0xFFFFFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> Ping:
        if len(payload) != cls._FMT.size:
            raise PayloadError(f"PING payload is {len(payload)} bytes, expected {cls._FMT.size}")
        return cls(*cls._FMT.unpack(payload))


@dataclass(frozen=True)
class Pong:
    nonce: int
    tick32: int

    _FMT = struct.Struct(">II")

    def pack(self) -> bytes:
        return self._FMT.pack(self.nonce & 0xFFFFFFFF, self.tick32 & 0xFFFFFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> Pong:
        if len(payload) != cls._FMT.size:
            raise PayloadError(f"PONG payload is {len(payload)} bytes, expected {cls._FMT.size}")
        return cls(*cls._FMT.unpack(payload))


Message = Hello | Event | Ping | Pong

_DECODERS: dict[int, type[Hello] | type[Event] | type[Ping] | type[Pong]] = {
    MsgType.HELLO: Hello,
    MsgType.EVENT: Event,
    MsgType.PING: Ping,
    MsgType.PONG: Pong,
}


class UnknownType(Exception):
    """Raised for a message type this version does not know; callers count and skip it."""


def decode_message(frame: Frame) -> Message | None:
    """Turn a frame into a message; IDENTIFY has no payload and decodes to None."""
    if frame.type == MsgType.IDENTIFY:
        return None
    decoder = _DECODERS.get(frame.type)
    if decoder is None:
        raise UnknownType(f"message type 0x{frame.type:02X}")
    return decoder.unpack(frame.payload)


def message_type(msg: Message) -> MsgType:
    if isinstance(msg, Hello):
        return MsgType.HELLO
    if isinstance(msg, Event):
        return MsgType.EVENT
    if isinstance(msg, Ping):
        return MsgType.PING
    return MsgType.PONG


def encode_message(addr: int, seq: int, msg: Message) -> bytes:
    return encode_frame(Frame(addr=addr, seq=seq, type=message_type(msg), payload=msg.pack()))
