"""A scripted v1 device on a pty pair, played by the test, for the host tests (test_host_*).

The test writes frames as the device and reads what the host sent. The fake answers PINGs
itself (a 1 MHz counter from the host's monotonic clock plus an offset) unless told not to,
and acknowledges COMMANDs only when the test's policy says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import tty
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from hardware.device import DeviceEvent, PortSession
from hardware.messages import (
    Caps,
    Command,
    CommandAck,
    DeviceKind,
    Event,
    EventKind,
    Hello,
    Identify,
    Message,
    PayloadError,
    Ping,
    Pong,
    UnknownType,
    decode_message,
    encode_message,
)
from hardware.wire import Frame, FrameDecoder
from tests.support import wait_until_async

T = TypeVar("T")
SCENARIO_TIMEOUT_S = 10.0
DEVICE_ID = 0x00AB12CD


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a scenario with an overall bound, so a broken driver fails instead of hanging."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), SCENARIO_TIMEOUT_S)

    return asyncio.run(bounded())


class FakeDevice:
    """One pty: the test is the device (or a hub with several addresses) at its master end."""

    def __init__(
        self,
        device_id: int = DEVICE_ID,
        boot_id: int = 7,
        kind: DeviceKind = DeviceKind.GATE,
        proto: int = 1,
        tick_offset: int = 123_456_789,
        answer_pings: bool = True,
    ) -> None:
        self.device_id = device_id
        self.boot_id = boot_id
        self.kind = kind
        self.proto = proto
        self.tick_offset = tick_offset
        self.answer_pings = answer_pings
        self.ack_commands: Callable[[Command], bool] = lambda _: True
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.port = os.ttyname(self.slave)
        self._decoder = FrameDecoder()
        self._seq: dict[int, int] = {}
        self.from_host: list[tuple[Frame, Message | None]] = []
        self._reading = False

    # --- the device's own clock and frames ------------------------------------------------------

    def ticks(self) -> int:
        return (time.monotonic_ns() // 1000 + self.tick_offset) & 0xFFFFFFFF

    def next_seq(self, addr: int) -> int:
        seq = self._seq.get(addr, 0)
        self._seq[addr] = seq + 1
        return seq

    def send(self, msg: Message, addr: int = 0, seq: int | None = None) -> bytes:
        data = encode_message(addr, self.next_seq(addr) if seq is None else seq, msg)
        self.write(data)
        return data

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def hello(self, addr: int = 0, proto: int | None = None, device_id: int | None = None) -> None:
        self.send(
            Hello(
                self.proto if proto is None else proto, self.kind,
                self.device_id if device_id is None else device_id, self.boot_id, (1, 2, 3),
                1_000_000, 2, Caps.LIGHT | Caps.TOUCH,
            ),
            addr,
        )  # fmt: skip

    def event(
        self,
        evseq: int,
        channel: int = 0,
        kind: EventKind = EventKind.BEAM_BROKEN,
        tick: int | None = None,
        ref: int = 0,
        addr: int = 0,
    ) -> None:
        tick32 = self.ticks() if tick is None else tick
        self.send(Event(evseq, channel, kind, tick32, ref), addr)

    # --- what the host sent ----------------------------------------------------------------------

    def start_reading(self) -> None:
        asyncio.get_running_loop().add_reader(self.master, self._readable)
        self._reading = True

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return
        for frame in self._decoder.feed(data):
            try:
                msg: Message | None = decode_message(frame)
            except (UnknownType, PayloadError):
                msg = None
            self.from_host.append((frame, msg))
            if isinstance(msg, Ping) and self.answer_pings:
                self.send(Pong(msg.nonce, self.ticks()), frame.addr)
            elif isinstance(msg, Command) and self.ack_commands(msg):
                self.send(CommandAck(msg.cmd_id), frame.addr)

    def got(self, kind: type[Any], addr: int | None = 0) -> list[Any]:
        return [
            m for f, m in self.from_host if isinstance(m, kind) and (addr is None or f.addr == addr)
        ]

    async def expect(self, kind: type[Any], addr: int = 0, count: int = 1) -> list[Any]:
        await wait_until_async(
            f"{count} {kind.__name__}", lambda: len(self.got(kind, addr)) >= count, 2.0
        )
        return self.got(kind, addr)

    def unplug(self) -> None:
        """Close both ends: the host's reader sees the read error, as when a cable is pulled."""
        if self._reading:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.master)
            self._reading = False
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


Body = Callable[[FakeDevice, PortSession, list[DeviceEvent]], Awaitable[None]]


async def with_session(body: Body, device: FakeDevice | None = None) -> None:
    device = device or FakeDevice()
    events: list[DeviceEvent] = []
    session = PortSession(device.port, on_event=events.append)
    try:
        await session.start()
        device.start_reading()
        # The port is open (pyserial flushed its input) once the start-up IDENTIFY arrives.
        await device.expect(Identify)
        await body(device, session, events)
    finally:
        await session.stop()
        device.unplug()
