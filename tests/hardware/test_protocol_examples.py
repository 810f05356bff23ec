"""Every worked example of PROTOCOL.md section 8 decodes to what its bold title says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hardware.messages import (
    CMD_FLAG_NOW,
    POLARITY_HIGH_BROKEN,
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
    Message,
    Pattern,
    Ping,
    Pong,
    Status,
    decode_message,
    encode_message,
)
from hardware.wire import FrameDecoder

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "hardware" / "PROTOCOL.md"
ID, BOOT = 0x00AB12CD, 7

# (title prefix, SEQ, message), in the order of the section; address 0 throughout.
EXPECTED: list[tuple[str, int, Message]] = [
    ("HELLO from a hub", 0,
     Hello(1, DeviceKind.HUB, ID, BOOT, (1, 2, 3), 1_000_000, 2, Caps.BEAM)),
    ("IDENTIFY from the host", 0, Identify(1, 1)),
    ("EVENT, SEQ 5", 5, Event(3, 1, EventKind.BEAM_BROKEN, 1_234_567, 0)),
    ("EVENT_ACK from the host", 4, EventAck(3)),
    ("EVENT_NAK from the host", 6, EventNak(4)),
    ("PING from the host", 3, Ping(42)),
    ("PONG from the device", 6, Pong(42, 1_500_000)),
    ("COMMAND from the host", 9,
     Command(17, Action.LIGHT, 0, 2_000_000, 0, (0xFF, 0, 0), Pattern.BLINK_FAST, 1500)),
    ("COMMAND_ACK from the device", 7, CommandAck(17, CommandResult.OK)),
    ("EVENT, SEQ 8", 8, Event(4, 0, EventKind.LIGHT_ON, 2_000_003, 17)),
    ("STATUS, SEQ 10", 10, Status(87, 255, 0, (96, 41))),
    ("STATUS with the dropped count, SEQ 11", 11, Status(255, 255, 2, (90, 88), dropped=3)),
    ("COMMAND polarity from the host, SEQ 12", 12,
     Command(18, Action.POLARITY, 1, 0, CMD_FLAG_NOW, (0, 0, 0), Pattern(POLARITY_HIGH_BROKEN))),
]  # fmt: skip


def examples() -> list[tuple[str, bytes]]:
    """(bold title, bytes) for each fenced hex block of section 8."""
    section = PROTOCOL_MD.read_text(encoding="utf-8").split("## 8. Worked examples", 1)[1]
    found = re.findall(r"\*\*(.+?)\*\*\s*```\n(.*?)```", section, flags=re.S)
    return [(title, bytes.fromhex(block)) for title, block in found]


def test_section_8_has_every_expected_example() -> None:
    titles = [title for title, _ in examples()]
    assert len(titles) == len(EXPECTED)
    for title, (prefix, _, _) in zip(titles, EXPECTED, strict=True):
        assert title.startswith(prefix), (title, prefix)


@pytest.mark.parametrize("index", range(len(EXPECTED)), ids=[e[0] for e in EXPECTED])
def test_example_decodes_to_its_title(index: int) -> None:
    title, data = examples()[index]
    _, seq, expected = EXPECTED[index]
    decoder = FrameDecoder()
    (frame,) = decoder.feed(data)
    assert decoder.stats.skipped_bytes == decoder.stats.bad_crc == 0
    assert (frame.addr, frame.seq) == (0, seq)
    assert f"SEQ {seq}" in title
    assert decode_message(frame) == expected
    assert encode_message(0, seq, expected) == data
