"""Message types of the device protocol v1 (hardware/PROTOCOL.md section 4) and their payloads.

Pure data and bytes. Each message is a frozen dataclass whose fixed layout is one struct
format; `decode_message` picks the class by the frame's TYPE. A payload that does not fit its
type raises PayloadError; a TYPE this version does not know raises UnknownType. The caller
counts both and carries on: neither may ever close a link.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import ClassVar

from hardware.wire import Frame, encode_frame

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = range(1, 2)


class MsgType(enum.IntEnum):
    HELLO = 0x01
    IDENTIFY = 0x02
    EVENT_ACK = 0x03
    EVENT_NAK = 0x04
    COMMAND_ACK = 0x05
    EVENT = 0x10
    PING = 0x20
    PONG = 0x21
    COMMAND = 0x30
    STATUS = 0x40


class DeviceKind(enum.IntEnum):
    GATE = 1
    POD = 2
    HUB = 3


class EventKind(enum.IntEnum):
    BEAM_BROKEN = 1
    BEAM_RESTORED = 2
    POD_TOUCHED = 3
    LIGHT_ON = 4
    LIGHT_OFF = 5
    BEEP = 6


class Action(enum.IntEnum):
    LIGHT = 1
    DARK = 2
    BEEP = 3
    ARM = 4
    DISARM = 5
    POLARITY = 6  # which level of a beam input means broken; its value rides in `pattern`


class Pattern(enum.IntEnum):
    SOLID = 0
    BLINK_SLOW = 1
    BLINK_FAST = 2
    PULSE = 3


class CommandResult(enum.IntEnum):
    OK = 0
    LATE = 1  # the target tick had passed: done at once, onset reported as it happened
    NO_SUCH_CHANNEL = 2
    UNSUPPORTED = 3


class Caps(enum.IntFlag):
    NONE = 0
    LIGHT = 1
    BUZZER = 2
    TOUCH = 4
    BEAM = 8


CMD_FLAG_NOW = 0x01
BATTERY_MAINS = 0xFF
NOT_APPLICABLE = 0xFF
# POLARITY's `pattern` byte: which input level means the beam is broken.
POLARITY_LOW_BROKEN = 0  # the default: a receiver pulling its output low when blocked
POLARITY_HIGH_BROKEN = 1
HELLO_MIN_LEN = 18  # the layout every version keeps, up to `channels`
HELLO_V1_LEN = 19  # + caps


class PayloadError(ValueError):
    """A frame passed its CRC but its payload does not fit its type: treated as noise."""


class UnknownType(Exception):
    """A message type this version does not know; callers count and skip it."""


def _enum(cls: type[enum.IntEnum], value: int, what: str) -> enum.IntEnum:
    try:
        return cls(value)
    except ValueError as exc:
        raise PayloadError(f"{what} {value} is unknown") from exc


@dataclass(frozen=True)
class Hello:
    """Device identity: 19 bytes in version 1, of which the first 18 keep their layout in
    every version. 18 bytes read as caps 0 (none declared); bytes after the 19th are ignored.
    """

    TYPE: ClassVar[MsgType] = MsgType.HELLO
    _FMT: ClassVar[struct.Struct] = struct.Struct(">BBIIBBBIB")
    proto: int
    kind: DeviceKind
    device_id: int
    boot_id: int
    firmware: tuple[int, int, int]
    nominal_tick_hz: int
    channels: int
    caps: Caps = Caps.NONE

    def pack(self) -> bytes:
        return self._FMT.pack(
            self.proto, self.kind, self.device_id, self.boot_id, *self.firmware,
            self.nominal_tick_hz, self.channels,
        ) + bytes([int(self.caps)])  # fmt: skip

    @classmethod
    def unpack(cls, payload: bytes) -> Hello:
        # Longer is fine (a later version may append fields); shorter is not a HELLO.
        if len(payload) < HELLO_MIN_LEN:
            raise PayloadError(
                f"HELLO payload is {len(payload)} bytes, at least {HELLO_MIN_LEN} expected"
            )
        proto, kind, dev, boot, fa, fb, fc, hz, ch = cls._FMT.unpack_from(payload)
        if hz == 0:
            raise PayloadError("HELLO announces a tick rate of 0 Hz")
        # Bits 4-7 are reserved: a later version's capability is no reason to refuse a device.
        caps = Caps(payload[18] & 0x0F) if len(payload) >= HELLO_V1_LEN else Caps.NONE
        kind_e = DeviceKind(_enum(DeviceKind, kind, "device kind"))
        return cls(proto, kind_e, dev, boot, (fa, fb, fc), hz, ch, caps)


@dataclass(frozen=True)
class Identify:
    """Host asks for a HELLO in the highest version both sides speak."""

    TYPE: ClassVar[MsgType] = MsgType.IDENTIFY
    _FMT: ClassVar[struct.Struct] = struct.Struct(">BB")
    min_proto: int = SUPPORTED_VERSIONS.start
    max_proto: int = SUPPORTED_VERSIONS.stop - 1

    def pack(self) -> bytes:
        return self._FMT.pack(self.min_proto, self.max_proto)

    @classmethod
    def unpack(cls, payload: bytes) -> Identify:
        if not payload:
            return cls(0, 0)  # a v0 host: answer in your highest version
        if len(payload) != cls._FMT.size:
            raise PayloadError(f"IDENTIFY payload is {len(payload)} bytes, expected 0 or 2")
        return cls(*cls._FMT.unpack(payload))


@dataclass(frozen=True)
class Event:
    """An edge stamped with the device's tick at the moment it happened."""

    TYPE: ClassVar[MsgType] = MsgType.EVENT
    _FMT: ClassVar[struct.Struct] = struct.Struct(">HBBIH")
    evseq: int
    channel: int
    kind: EventKind
    tick32: int
    ref: int = 0

    def pack(self) -> bytes:
        return self._FMT.pack(
            self.evseq & 0xFFFF, self.channel, self.kind, self.tick32 & 0xFFFFFFFF, self.ref
        )

    @classmethod
    def unpack(cls, payload: bytes) -> Event:
        evseq, channel, kind, tick, ref = _fixed(cls._FMT, payload, "EVENT")
        return cls(evseq, channel, EventKind(_enum(EventKind, kind, "event kind")), tick, ref)


@dataclass(frozen=True)
class EventAck:
    """Host has every event up to and including `evseq` (cumulative)."""

    TYPE: ClassVar[MsgType] = MsgType.EVENT_ACK
    _FMT: ClassVar[struct.Struct] = struct.Struct(">H")
    evseq: int

    def pack(self) -> bytes:
        return self._FMT.pack(self.evseq & 0xFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> EventAck:
        return cls(*_fixed(cls._FMT, payload, "EVENT_ACK"))


@dataclass(frozen=True)
class EventNak:
    """Host is missing event `evseq`: re-send from it now, without waiting for a timeout."""

    TYPE: ClassVar[MsgType] = MsgType.EVENT_NAK
    _FMT: ClassVar[struct.Struct] = struct.Struct(">H")
    evseq: int

    def pack(self) -> bytes:
        return self._FMT.pack(self.evseq & 0xFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> EventNak:
        return cls(*_fixed(cls._FMT, payload, "EVENT_NAK"))


@dataclass(frozen=True)
class CommandAck:
    TYPE: ClassVar[MsgType] = MsgType.COMMAND_ACK
    _FMT: ClassVar[struct.Struct] = struct.Struct(">HB")
    cmd_id: int
    result: CommandResult = CommandResult.OK

    def pack(self) -> bytes:
        return self._FMT.pack(self.cmd_id & 0xFFFF, self.result)

    @classmethod
    def unpack(cls, payload: bytes) -> CommandAck:
        cmd_id, result = _fixed(cls._FMT, payload, "COMMAND_ACK")
        return cls(cmd_id, CommandResult(_enum(CommandResult, result, "command result")))


@dataclass(frozen=True)
class Ping:
    TYPE: ClassVar[MsgType] = MsgType.PING
    _FMT: ClassVar[struct.Struct] = struct.Struct(">I")
    nonce: int

    def pack(self) -> bytes:
        return self._FMT.pack(self.nonce & 0xFFFFFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> Ping:
        return cls(*_fixed(cls._FMT, payload, "PING"))


@dataclass(frozen=True)
class Pong:
    TYPE: ClassVar[MsgType] = MsgType.PONG
    _FMT: ClassVar[struct.Struct] = struct.Struct(">II")
    nonce: int
    tick32: int

    def pack(self) -> bytes:
        return self._FMT.pack(self.nonce & 0xFFFFFFFF, self.tick32 & 0xFFFFFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> Pong:
        return cls(*_fixed(cls._FMT, payload, "PONG"))


@dataclass(frozen=True)
class Command:
    """Do something at a device tick: light, dark, beep, arm, disarm."""

    TYPE: ClassVar[MsgType] = MsgType.COMMAND
    _FMT: ClassVar[struct.Struct] = struct.Struct(">HBBBIBBBBH")
    cmd_id: int
    action: Action
    channel: int
    at_tick32: int
    flags: int = 0
    colour: tuple[int, int, int] = (0, 0, 0)
    pattern: Pattern = Pattern.SOLID
    duration_ms: int = 0

    @property
    def polarity_high_broken(self) -> bool:
        """For POLARITY: whether a HIGH input means the beam is broken."""
        return self.pattern == POLARITY_HIGH_BROKEN

    def pack(self) -> bytes:
        r, g, b = self.colour
        return self._FMT.pack(
            self.cmd_id & 0xFFFF, self.action, self.flags, self.channel,
            self.at_tick32 & 0xFFFFFFFF, r, g, b, self.pattern, self.duration_ms,
        )  # fmt: skip

    @classmethod
    def unpack(cls, payload: bytes) -> Command:
        cmd_id, action, flags, ch, tick, r, g, b, pattern, dur = _fixed(
            cls._FMT, payload, "COMMAND"
        )
        return cls(
            cmd_id, Action(_enum(Action, action, "action")), ch, tick, flags, (r, g, b),
            Pattern(_enum(Pattern, pattern, "pattern")), dur,
        )  # fmt: skip


@dataclass(frozen=True)
class Status:
    """Battery, link quality, each beam's alignment and, from newer devices, the count of
    events dropped because the retransmit buffer was full (None: the device does not say)."""

    TYPE: ClassVar[MsgType] = MsgType.STATUS
    _FMT: ClassVar[struct.Struct] = struct.Struct(">BBHB")
    _DROPPED: ClassVar[struct.Struct] = struct.Struct(">H")
    battery_pct: int
    link_quality: int
    rx_errors: int
    beams: tuple[int, ...] = ()
    dropped: int | None = None

    def pack(self) -> bytes:
        head = self._FMT.pack(self.battery_pct, self.link_quality, self.rx_errors & 0xFFFF,
                              len(self.beams))  # fmt: skip
        tail = b"" if self.dropped is None else self._DROPPED.pack(self.dropped & 0xFFFF)
        return head + bytes(self.beams) + tail

    @classmethod
    def unpack(cls, payload: bytes) -> Status:
        if len(payload) < cls._FMT.size:
            raise PayloadError(f"STATUS payload is {len(payload)} bytes, at least 5 expected")
        battery, link, errors, count = cls._FMT.unpack_from(payload)
        end = cls._FMT.size + count
        # 5+N bytes from a device that keeps no count; 5+N+2 or more from one that does (a
        # later version may append fields after `dropped`).
        extra = len(payload) - end
        if extra < 0 or extra == 1:
            raise PayloadError(
                f"STATUS announces {count} beams: {end} or at least {end + 2} bytes expected, "
                f"got {len(payload)}"
            )
        beams = tuple(payload[cls._FMT.size : end])
        dropped = cls._DROPPED.unpack_from(payload, end)[0] if extra else None
        return cls(battery, link, errors, beams, dropped)


Message = (
    Hello | Identify | Event | EventAck | EventNak | CommandAck | Ping | Pong | Command | Status
)

_BY_TYPE: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Hello,
        Identify,
        Event,
        EventAck,
        EventNak,
        CommandAck,
        Ping,
        Pong,
        Command,
        Status,
    )
}


def _fixed(fmt: struct.Struct, payload: bytes, name: str) -> tuple[int, ...]:
    if len(payload) != fmt.size:
        raise PayloadError(f"{name} payload is {len(payload)} bytes, expected {fmt.size}")
    return tuple(fmt.unpack(payload))


def decode_message(frame: Frame) -> Message:
    cls = _BY_TYPE.get(frame.type)
    if cls is None:
        raise UnknownType(f"message type 0x{frame.type:02X}")
    return cls.unpack(frame.payload)


def encode_message(addr: int, seq: int, msg: Message) -> bytes:
    return encode_frame(Frame(addr=addr, seq=seq, type=msg.TYPE, payload=msg.pack()))
