"""hardware/messages.py against PROTOCOL.md section 4: payload layouts and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.messages import (
    Action,
    Caps,
    Command,
    CommandAck,
    CommandResult,
    DeviceKind,
    Event,
    EventAck,
    EventKind,
    EventNak,
    Hello,
    Identify,
    MsgType,
    Pattern,
    PayloadError,
    Ping,
    Pong,
    Status,
    UnknownType,
    decode_message,
    encode_message,
)
from hardware.wire import (
    Frame,
    FrameDecoder,
)
from tests.hardware.wire_support import h

u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mtype", "size"),
    [
        (MsgType.EVENT, 10), (MsgType.PING, 4), (MsgType.PONG, 8), (MsgType.EVENT_ACK, 2),
        (MsgType.EVENT_NAK, 2), (MsgType.COMMAND_ACK, 3), (MsgType.COMMAND, 15),
    ],
)  # fmt: skip
@pytest.mark.parametrize("delta", [-1, 1])
def test_payload_length_mismatch_raises(mtype: MsgType, size: int, delta: int) -> None:
    with pytest.raises(PayloadError):
        decode_message(Frame(addr=0, seq=0, type=mtype, payload=bytes(size + delta)))


def test_short_hello_and_bad_identify_and_status_raise() -> None:
    with pytest.raises(PayloadError):
        decode_message(Frame(0, 0, MsgType.HELLO, bytes(17)))
    with pytest.raises(PayloadError):
        decode_message(Frame(0, 0, MsgType.IDENTIFY, b"\x01"))
    with pytest.raises(PayloadError):  # announces 3 beams, carries 2
        decode_message(Frame(0, 0, MsgType.STATUS, h("57 FF 0000 03 60 29")))


def test_hello_keeps_its_18_byte_prefix_and_ignores_appended_bytes() -> None:
    hello = Hello(1, DeviceKind.POD, 9, 2, (0, 1, 0), 1_000_000, 1, Caps.LIGHT | Caps.TOUCH)
    packed = hello.pack()
    assert len(packed) == 19
    assert Hello.unpack(packed + b"future") == hello
    # An 18-byte HELLO (no caps byte) is still a HELLO.
    assert Hello.unpack(packed[:18]).caps == Caps.NONE
    assert Hello.unpack(packed[:18]).device_id == 9
    # Reserved caps bits (4-7) are read as 0: a later version's capability refuses nobody.
    assert Hello.unpack(packed[:18] + b"\xf5").caps == Caps.LIGHT | Caps.TOUCH


def test_identify_empty_means_any_version() -> None:
    assert decode_message(Frame(3, 0, MsgType.IDENTIFY, b"")) == Identify(0, 0)
    assert Identify().pack() == b"\x01\x01"  # this host speaks versions 1 to 1


def test_implausible_fields_raise_payload_error() -> None:
    hello = Hello(1, DeviceKind.GATE, 1, 2, (0, 0, 1), 1_000_000, 1).pack()
    with pytest.raises(PayloadError):  # device kind 9
        Hello.unpack(hello[:1] + b"\x09" + hello[2:])
    with pytest.raises(PayloadError):  # 0 Hz
        Hello.unpack(hello[:13] + bytes(4) + hello[17:])
    with pytest.raises(PayloadError):  # event kind 0
        Event.unpack(h("0000 00 00 00000001 0000"))
    with pytest.raises(PayloadError):  # command result 9
        CommandAck.unpack(h("0001 09"))
    with pytest.raises(PayloadError):  # action 0
        Command.unpack(bytes(15))


@pytest.mark.parametrize("mtype", [0x00, 0x06, 0x11, 0x41, 0x55, 0xFF])
def test_unknown_type_raises(mtype: int) -> None:
    with pytest.raises(UnknownType):
        decode_message(Frame(addr=0, seq=0, type=mtype, payload=b"\x01\x02"))


@given(
    u8, st.sampled_from(DeviceKind), u32, u32, st.tuples(u8, u8, u8), st.integers(1, 0xFFFFFFFF),
    u8, st.integers(0, 15).map(Caps),
)  # fmt: skip
def test_hello_round_trip(
    proto: int,
    kind: DeviceKind,
    device_id: int,
    boot_id: int,
    fw: tuple[int, int, int],
    hz: int,
    channels: int,
    caps: Caps,
) -> None:
    hello = Hello(proto, kind, device_id, boot_id, fw, hz, channels, caps)
    assert len(hello.pack()) == 19
    assert Hello.unpack(hello.pack()) == hello


@given(u16, u8, st.sampled_from(EventKind), u32, u16)
def test_event_round_trip(evseq: int, channel: int, kind: EventKind, tick: int, ref: int) -> None:
    event = Event(evseq, channel, kind, tick, ref)
    assert len(event.pack()) == 10
    assert Event.unpack(event.pack()) == event


@given(u32, u32, u16, st.sampled_from(CommandResult))
def test_small_messages_round_trip(nonce: int, tick: int, n: int, result: CommandResult) -> None:
    assert Ping.unpack(Ping(nonce).pack()) == Ping(nonce)
    assert Pong.unpack(Pong(nonce, tick).pack()) == Pong(nonce, tick)
    assert EventAck.unpack(EventAck(n).pack()) == EventAck(n)
    assert EventNak.unpack(EventNak(n).pack()) == EventNak(n)
    assert CommandAck.unpack(CommandAck(n, result).pack()) == CommandAck(n, result)


@given(
    u16, st.sampled_from(Action), u8, u32, st.integers(0, 1), st.tuples(u8, u8, u8),
    st.sampled_from(Pattern), u16,
)  # fmt: skip
def test_command_round_trip(
    cmd_id: int,
    action: Action,
    channel: int,
    at: int,
    flags: int,
    colour: tuple[int, int, int],
    pattern: Pattern,
    duration_ms: int,
) -> None:
    cmd = Command(cmd_id, action, channel, at, flags, colour, pattern, duration_ms)
    assert len(cmd.pack()) == 15
    assert Command.unpack(cmd.pack()) == cmd


@given(u8, u8, u16, st.lists(u8, max_size=32).map(tuple), st.none() | u16)
def test_status_round_trip(
    battery: int, link: int, errors: int, beams: tuple[int, ...], dropped: int | None
) -> None:
    status = Status(battery, link, errors, beams, dropped)
    assert len(status.pack()) == 5 + len(beams) + (0 if dropped is None else 2)
    assert Status.unpack(status.pack()) == status


def test_status_takes_5_plus_n_or_at_least_5_plus_n_plus_2_bytes() -> None:
    old = h("57 FF 0001 02 60 29")  # a device that keeps no count
    assert Status.unpack(old) == Status(87, 255, 1, (96, 41), dropped=None)
    assert Status.unpack(old + h("0102")).dropped == 0x0102
    assert Status.unpack(old + h("0102 AA")) == Status(87, 255, 1, (96, 41), 0x0102)  # appended
    with pytest.raises(PayloadError):  # one byte is half a count
        Status.unpack(old + h("01"))
    with pytest.raises(PayloadError):  # 2 beams announced, 1 carried
        Status.unpack(h("57 FF 0001 02 60"))


def test_polarity_is_action_6_with_its_level_in_the_pattern_byte() -> None:
    cmd = Command.unpack(h("0012 06 01 01 00000000 000000 01 0000"))
    assert (cmd.action, cmd.channel, cmd.polarity_high_broken) == (Action.POLARITY, 1, True)
    assert Action(6) is Action.POLARITY
    assert not Command(1, Action.POLARITY, 0, 0, pattern=Pattern.SOLID).polarity_high_broken


@given(st.integers(0, 255), u16, st.sampled_from(EventKind), u32)
def test_message_through_frame_and_decoder(addr: int, seq: int, kind: EventKind, t: int) -> None:
    msg = Event(seq, addr % 4, kind, t)
    (frame,) = FrameDecoder().feed(encode_message(addr, seq, msg))
    assert (frame.addr, frame.seq, frame.type) == (addr, seq, MsgType.EVENT)
    assert decode_message(frame) == msg
