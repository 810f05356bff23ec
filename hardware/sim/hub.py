"""A virtual hub on a pseudo-terminal that speaks hardware/PROTOCOL.md like real firmware.

The host opens the pty's slave path with the real driver, so everything above the tty is the
code that runs against USB gates. The hub has its own drifting clock, delays each frame it
sends by a random USB latency (keeping order, as a serial line does) and records the ground
truth of every beam edge, so tests and benchmarks can measure the host's error.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import random
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from typing import cast

from hardware.wire import (
    PROTOCOL_VERSION,
    DeviceKind,
    Event,
    EventKind,
    FrameDecoder,
    Hello,
    Message,
    MsgType,
    Ping,
    Pong,
    encode_message,
)


@dataclass(frozen=True)
class SimClock:
    """Device ticks as a function of true (host monotonic) time: offset plus drift."""

    origin_ns: int
    tick_hz: int = 1_000_000
    offset_ticks: int = 0
    drift_ppm: float = 80.0

    def ticks_at(self, mono_ns: int) -> int:
        # Integer arithmetic in parts per billion keeps the truth exact to the tick.
        ppb = 10**9 + round(self.drift_ppm * 1000)
        return self.offset_ticks + ((mono_ns - self.origin_ns) * self.tick_hz * ppb) // 10**18


@dataclass(frozen=True)
class LatencyModel:
    """USB delivery delay per frame, uniform between the bounds (an FTDI bridge: 1 to 16 ms)."""

    min_ms: float = 1.0
    max_ms: float = 16.0

    def draw_ns(self, rng: random.Random) -> int:
        return int(rng.uniform(self.min_ms, self.max_ms) * 1e6)


@dataclass(frozen=True)
class TruthEvent:
    """What really happened: the true host time of an edge and the tick the device stamped."""

    channel: int
    kind: EventKind
    mono_ns: int
    ticks: int
    seq: int


@dataclass(order=True)
class _Action:
    due_ns: int
    order: int
    kind: str = field(compare=False)
    data: object = field(compare=False)


class VirtualHub:
    """One simulated hub (kind 3) with `channels` beams wired to it, at address 0."""

    def __init__(
        self,
        device_id: int = 0x00AB12CD,
        boot_id: int | None = None,
        channels: int = 2,
        clock: SimClock | None = None,
        latency: LatencyModel | None = None,
        seed: int = 0,
    ) -> None:
        self.rng = random.Random(seed)
        self.device_id = device_id
        # A real device draws a new boot id at every power-up, whatever the seed of the run.
        self.boot_id = random.SystemRandom().getrandbits(32) if boot_id is None else boot_id
        self.channels = channels
        self.clock = clock or SimClock(
            origin_ns=time.monotonic_ns(), offset_ticks=self.rng.getrandbits(32)
        )
        self.latency = latency or LatencyModel()
        self.truth: list[TruthEvent] = []
        self._truth_lock = threading.Lock()
        self._seq = itertools.count()
        self._order = itertools.count()
        self._actions: list[_Action] = []
        self._actions_lock = threading.Lock()
        self._last_release_ns = 0
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.port = ""

    def start(self) -> str:
        master, slave = os.openpty()
        # Raw mode before anyone reads: a cooked pty would turn 0x0D into 0x0A and echo.
        tty.setraw(slave)
        tty.setraw(master)
        # Non-blocking: with nobody reading the port, frames are dropped rather than queued.
        os.set_blocking(master, False)
        self._master_fd, self._slave_fd = master, slave
        self.port = os.ttyname(slave)
        self._queue(encode_message(0, self._next_seq(), self._hello()))  # power-up HELLO
        self._thread = threading.Thread(target=self._run, name="sim-hub", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Power off: closing the master makes the host's reads fail, as an unplug does."""
        if self._stopping.is_set():
            return  # already off: the pipe is closed, so a second stop must touch nothing
        self._stopping.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._master_fd, self._slave_fd, self._wake_r, self._wake_w):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master_fd = self._slave_fd = None

    def schedule_edge(self, channel: int, kind: EventKind, at_mono_ns: int) -> None:
        """Make a beam edge happen at a true host time (in the future, or now)."""
        if not 0 <= channel < self.channels:
            raise ValueError(f"channel {channel} does not exist (hub has {self.channels})")
        self._push(at_mono_ns, "edge", (channel, kind, at_mono_ns))

    def truth_since(self, index: int) -> list[TruthEvent]:
        with self._truth_lock:
            return list(self.truth[index:])

    # The rest runs on the hub's own thread, except _push, which any thread may call.

    def _push(self, due_ns: int, kind: str, data: object) -> None:
        with self._actions_lock:
            heapq.heappush(self._actions, _Action(due_ns, next(self._order), kind, data))
        os.write(self._wake_w, b"x")

    def _hello(self) -> Hello:
        return Hello(
            PROTOCOL_VERSION, DeviceKind.HUB, self.device_id, self.boot_id, (0, 1, 0),
            self.clock.tick_hz, self.channels,
        )  # fmt: skip

    def _next_seq(self) -> int:
        return next(self._seq) & 0xFFFF

    def _queue(self, data: bytes) -> None:
        # A serial line is FIFO: a frame cannot overtake the one before it.
        release = max(time.monotonic_ns() + self.latency.draw_ns(self.rng), self._last_release_ns)
        self._last_release_ns = release
        self._push(release, "write", data)

    def _send(self, msg: Message) -> None:
        self._queue(encode_message(0, self._next_seq(), msg))

    def _run(self) -> None:
        decoder = FrameDecoder()
        master = self._master_fd
        assert master is not None
        while not self._stopping.is_set():
            with self._actions_lock:
                due = self._actions[0].due_ns if self._actions else None
            timeout = None if due is None else max(0.0, (due - time.monotonic_ns()) / 1e9)
            readable, _, _ = select.select([master, self._wake_r], [], [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if master in readable:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                received_ns = time.monotonic_ns()
                for frame in decoder.feed(data):
                    self._answer(frame.type, frame.payload, received_ns)
            self._run_due()

    def _answer(self, mtype: int, payload: bytes, received_ns: int) -> None:
        if mtype == MsgType.PING:
            ping = Ping.unpack(payload)
            self._send(Pong(ping.nonce, self.clock.ticks_at(received_ns)))
        elif mtype == MsgType.IDENTIFY:
            self._send(self._hello())

    def _run_due(self) -> None:
        now = time.monotonic_ns()
        while True:
            with self._actions_lock:
                if not self._actions or self._actions[0].due_ns > now:
                    return
                action = heapq.heappop(self._actions)
            if action.kind == "write":
                assert isinstance(action.data, bytes)
                self._write(action.data)
            elif action.kind == "edge":
                channel, kind, at_ns = cast(tuple[int, EventKind, int], action.data)
                self._edge(channel, kind, at_ns)

    def _edge(self, channel: int, kind: EventKind, at_ns: int) -> None:
        ticks = self.clock.ticks_at(at_ns)
        seq = self._next_seq()
        with self._truth_lock:
            self.truth.append(TruthEvent(channel, kind, at_ns, ticks, seq))
        self._queue(encode_message(0, seq, Event(channel, kind, ticks & 0xFFFFFFFF)))

    def _write(self, data: bytes) -> None:
        master = self._master_fd
        if master is None:
            return
        # OSError: the host is not reading (buffer full) or gone: lost, as bytes on USB are.
        with contextlib.suppress(OSError):
            os.write(master, data)
