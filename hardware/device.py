"""Devices on one port: identification, clock sync and timestamped events.

A PortSession owns one SerialLink and every device behind it (one, or up to 31 behind a hub).
It turns frames into DeviceEvents whose ticks are extended to 64 bits and mapped to host time
by each device's ClockModel. Everyone else listens through the `on_event` callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.clock import ClockModel, ClockSample, TickExtender
from hardware.counters import Unwrapper
from hardware.errors import DeviceNotReady, LinkError
from hardware.link import SerialLink, mono_us
from hardware.wire import (
    DeviceKind,
    Event,
    EventKind,
    Frame,
    Hello,
    MsgType,
    PayloadError,
    Ping,
    Pong,
    UnknownType,
    decode_message,
    encode_frame,
)

log = logging.getLogger(__name__)

# Klipper's trick: an odd period so clock queries do not beat against other periodic work.
PING_INTERVAL_S = 0.9839
STARTUP_PINGS = 8
STARTUP_PING_GAP_S = 0.05
# Frames from an address that has not said HELLO yet wait here until it does.
PENDING_LIMIT = 256
RECENT_SEQS = 512


@dataclass(frozen=True)
class DeviceInfo:
    port: str
    addr: int
    kind: DeviceKind
    device_id: int
    boot_id: int
    firmware: tuple[int, int, int]
    tick_hz: int
    channels: int
    proto: int

    @property
    def key(self) -> str:
        """Stable name of the device, independent of port and plug order."""
        return f"{self.kind.name.lower()}-{self.device_id:08X}"


@dataclass(frozen=True)
class DeviceEvent:
    """An edge seen by a device, with its own timestamp and what the host made of it."""

    device: str
    boot_id: int
    seq: int  # extended past the 16-bit wrap, so (device, boot_id, seq) is unique
    channel: int
    kind: EventKind
    ticks: int
    tick_hz_est: float
    mono_us: int | None
    received_mono_us: int

    @property
    def clock_id(self) -> str:
        return f"{self.device}:{self.boot_id}"


@dataclass
class DeviceState:
    info: DeviceInfo
    clock: ClockModel
    extender: TickExtender = field(default_factory=TickExtender)
    seqs: Unwrapper = field(default_factory=lambda: Unwrapper(16))
    last_seq: int | None = None
    lost_frames: int = 0
    duplicates: int = 0
    events: int = 0
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_SEQS))

    @property
    def ready(self) -> bool:
        return self.clock.ready

    @property
    def sync_error_us(self) -> float | None:
        fit = self.clock.fit
        return None if fit is None else fit.error_bound_us


EventHandler = Callable[[DeviceEvent], None]
DeviceHandler = Callable[[DeviceInfo], None]
LostHandler = Callable[[str, BaseException | None], None]


class PortSession:
    """One port and the devices on it; runs on the asyncio loop."""

    def __init__(
        self,
        url: str,
        on_event: EventHandler,
        on_device: DeviceHandler | None = None,
        on_lost: LostHandler | None = None,
    ) -> None:
        self.url = url
        self._on_event = on_event
        self._on_device = on_device
        self._on_lost = on_lost
        self._link: SerialLink | None = None
        self._seq = itertools.count()
        self._nonces = itertools.count(1)
        self._pings: dict[int, tuple[int, int]] = {}  # nonce -> (addr, sent_mono_us)
        self._pending: dict[int, list[tuple[Frame, int]]] = {}
        self._ping_task: asyncio.Task[None] | None = None
        self.devices: dict[int, DeviceState] = {}
        self.unknown_types = 0
        self.bad_payloads = 0
        self.lost = False

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._link = SerialLink(self.url, loop, self._handle_frame, self._handle_closed)
        self._link.open()
        self.lost = False
        self._send(0, MsgType.IDENTIFY, b"")
        self._ping_task = loop.create_task(self._ping_loop(), name=f"ping:{self.url}")

    async def stop(self) -> None:
        if self._ping_task is not None:
            self._ping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ping_task
            self._ping_task = None
        if self._link is not None:
            self._link.close()
            self._link = None

    async def wait_ready(self, timeout_s: float = 10.0, count: int = 1) -> list[DeviceState]:
        """Wait until `count` devices are identified with a usable clock model."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            ready = [d for d in self.devices.values() if d.ready]
            if len(ready) >= count:
                return ready
            if asyncio.get_running_loop().time() > deadline:
                seen = ", ".join(
                    f"{d.info.key} ({d.clock.sample_count} clock samples)"
                    for d in self.devices.values()
                )
                raise DeviceNotReady(
                    f"{self.url}: {len(ready)} of {count} device(s) ready after {timeout_s:.0f} s"
                    f" (seen: {seen or 'none'})"
                )
            await asyncio.sleep(0.05)

    @property
    def link_stats(self) -> dict[str, int]:
        stats = self._link.stats if self._link else None
        return {
            "frames": stats.frames if stats else 0,
            "bad_crc": stats.bad_crc if stats else 0,
            "bad_length": stats.bad_length if stats else 0,
            "skipped_bytes": stats.skipped_bytes if stats else 0,
            "unknown_types": self.unknown_types,
            "bad_payloads": self.bad_payloads,
        }

    def _send(self, addr: int, mtype: int, payload: bytes) -> int:
        if self._link is None:
            raise LinkError(f"{self.url} is closed")
        frame = Frame(addr=addr, seq=next(self._seq) & 0xFFFF, type=mtype, payload=payload)
        return self._link.write(encode_frame(frame))

    async def _ping_loop(self) -> None:
        try:
            for _ in range(STARTUP_PINGS):
                self._ping_all()
                await asyncio.sleep(STARTUP_PING_GAP_S)
            while True:
                self._ping_all()
                await asyncio.sleep(PING_INTERVAL_S)
        except LinkError as exc:
            log.warning("%s: pings stopped: %s", self.url, exc)

    def _ping_all(self) -> None:
        # Forget pings whose answer never came, so the table cannot grow without bound.
        horizon = mono_us() - 5_000_000
        for nonce in [n for n, (_, sent) in self._pings.items() if sent < horizon]:
            del self._pings[nonce]
        for addr in list(self.devices):
            nonce = next(self._nonces) & 0xFFFFFFFF
            sent = self._send(addr, MsgType.PING, Ping(nonce).pack())
            self._pings[nonce] = (addr, sent)

    def _handle_closed(self, error: BaseException | None) -> None:
        self.lost = True
        log.warning("%s: link lost: %s", self.url, error)
        if self._on_lost is not None:
            self._on_lost(self.url, error)

    def _handle_frame(self, frame: Frame, received_us: int) -> None:
        try:
            msg = decode_message(frame)
        except (UnknownType, PayloadError) as exc:
            # Counted and skipped, never fatal; its SEQ still arrived, so it is no gap.
            if isinstance(exc, UnknownType):
                self.unknown_types += 1
            else:
                self.bad_payloads += 1
                log.debug("%s: %s", self.url, exc)
            known = self.devices.get(frame.addr)
            if known is not None:
                self._track_seq(known, frame.seq)
            return
        if isinstance(msg, Hello):
            self._handle_hello(frame.addr, frame.seq, msg)
            return
        state = self.devices.get(frame.addr)
        if state is None:
            pending = self._pending.setdefault(frame.addr, [])
            if len(pending) < PENDING_LIMIT:
                pending.append((frame, received_us))
            if len(pending) == 1:
                self._send(frame.addr, MsgType.IDENTIFY, b"")
            return
        seq = self._track_seq(state, frame.seq)
        if seq is None:
            return
        if isinstance(msg, Pong):
            self._handle_pong(state, msg, received_us)
        elif isinstance(msg, Event):
            self._handle_event(state, seq, msg, received_us)

    def _handle_hello(self, addr: int, seq: int, hello: Hello) -> None:
        info = DeviceInfo(
            port=self.url, addr=addr, kind=hello.kind, device_id=hello.device_id,
            boot_id=hello.boot_id, firmware=hello.firmware, tick_hz=hello.tick_hz,
            channels=hello.channels, proto=hello.proto,
        )  # fmt: skip
        old = self.devices.get(addr)
        if old is not None and old.info == info:
            self._track_seq(old, seq)
            return
        state = DeviceState(info=info, clock=ClockModel(hello.tick_hz))
        self._track_seq(state, seq)
        self.devices[addr] = state
        log.info("%s: %s at address %d, %d Hz", self.url, info.key, addr, info.tick_hz)
        if self._on_device is not None:
            self._on_device(info)
        for nonce in [n for n, (a, _) in self._pings.items() if a == addr]:
            del self._pings[nonce]
        for frame, received_us in self._pending.pop(addr, []):
            self._handle_frame(frame, received_us)

    def _handle_pong(self, state: DeviceState, pong: Pong, received_us: int) -> None:
        entry = self._pings.pop(pong.nonce, None)
        if entry is None:
            return
        _, sent_us = entry
        ticks = state.extender.extend(pong.tick32)
        state.clock.add_sample(ClockSample(sent_us, received_us, ticks))

    @staticmethod
    def _track_seq(state: DeviceState, seq16: int) -> int | None:
        """Extend SEQ past its wrap and count gaps as lost frames; None for a repeat."""
        seq = state.seqs.extend(seq16)
        if seq in state.recent:
            state.duplicates += 1
            return None
        if state.last_seq is not None and seq > state.last_seq + 1:
            state.lost_frames += seq - state.last_seq - 1
        state.last_seq = seq if state.last_seq is None else max(state.last_seq, seq)
        state.recent.append(seq)
        return seq

    def _handle_event(self, state: DeviceState, seq: int, ev: Event, received_us: int) -> None:
        state.events += 1
        ticks = state.extender.extend(ev.tick32)
        fit = state.clock.fit
        event = DeviceEvent(
            device=state.info.key,
            boot_id=state.info.boot_id,
            seq=seq,
            channel=ev.channel,
            kind=ev.kind,
            ticks=ticks,
            tick_hz_est=fit.rate_hz if fit else float(state.info.tick_hz),
            mono_us=fit.ticks_to_mono_us(ticks) if fit else None,
            received_mono_us=received_us,
        )
        self._on_event(event)
