"""Devices on one port (protocol v1): identify, negotiate, sync clocks, deliver events in order.

A PortSession owns one SerialLink and serves every device behind it (one, or up to 31 more
behind a hub). What it learns about a device lives in a DeviceRegistry shared with the other
ports, so a device that comes back on any port resumes where it was. Events leave as
DeviceEvents, in evseq order, exactly once; everyone else listens through `on_event`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace

from hardware.clock import ClockModel
from hardware.cues import Cues
from hardware.device_state import START_GAP_NAKS, Arrived, DeviceState
from hardware.errors import DeviceNotReady, LinkError
from hardware.link import BAUDRATE, SerialLink
from hardware.messages import (
    SUPPORTED_VERSIONS,
    CommandAck,
    Event,
    EventAck,
    EventKind,
    EventNak,
    Hello,
    Identify,
    Message,
    PayloadError,
    Ping,
    Pong,
    Status,
    UnknownType,
    decode_message,
    encode_message,
)
from hardware.pings import Pings, exchange_sample
from hardware.records import (
    DeviceEvent,
    DeviceHandler,
    DeviceInfo,
    EventHandler,
    LostHandler,
)
from hardware.registry import DeviceRegistry
from hardware.tasks import cancel_task
from hardware.timebase import mono_us
from hardware.wire import Frame

__all__ = ["DeviceEvent", "DeviceInfo", "DeviceState", "PortSession"]

log = logging.getLogger(__name__)

MAX_ADDRESSES = 32  # ADDR 0 on the cable, 1..31 behind a hub

# Housekeeping cadence (pings due, NAKs due): finer than the smallest RTO of 25 ms.
TICK_S = 0.01
# Frames from an address that has not said HELLO yet wait here until it does.
PENDING_LIMIT = 256
IDENTIFY_RETRY_US = 500_000
ONSET_KINDS = (EventKind.LIGHT_ON, EventKind.BEEP)
# How many devices one port may hold (connected, or heard in the last 30 s: see
# DeviceRegistry.on_port). A hub carries at most 32 (PROTOCOL.md section 3); the margin is for
# radio gates swapped behind it. A HELLO naming a further new device id is dropped and
# counted: noise that passes the CRC must not fill the registry.
MAX_DEVICES_PER_PORT = 40
# How often the registry is swept for devices gone silent (DeviceRegistry.forget_silent).
FORGET_SWEEP_US = 1_000_000


class PortSession(Cues):
    """One port and the devices on it; runs on the asyncio loop. Cue methods come from Cues."""

    def __init__(
        self,
        url: str,
        on_event: EventHandler,
        on_device: DeviceHandler | None = None,
        on_lost: LostHandler | None = None,
        registry: DeviceRegistry | None = None,
    ) -> None:
        super().__init__(registry if registry is not None else DeviceRegistry())
        self.url = url
        self._on_event = on_event
        self._on_device = on_device
        self._on_lost = on_lost
        self._link: SerialLink | None = None
        self._seq = itertools.count()
        self._pings = Pings()
        self._acks_due: dict[int, DeviceState] = {}
        self._ack_flush_queued = False
        self._pending: dict[int, list[tuple[Frame, int]]] = {}
        self._identified_at: dict[int, int] = {}  # addr -> when we last sent it IDENTIFY
        self._task: asyncio.Task[None] | None = None
        self.devices: dict[int, DeviceState] = {}
        self.unknown_types = 0
        self.bad_payloads = 0
        self.dropped_new_devices = 0  # HELLOs of new ids beyond MAX_DEVICES_PER_PORT
        self._next_sweep_us = 0
        self.lost = False

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._link = SerialLink(self.url, loop, self._handle_frame, self._handle_closed)
        self._link.open()
        self.lost = False
        # Every address: devices behind a hub may stay silent until asked (PROTOCOL.md 4.1).
        for addr in range(MAX_ADDRESSES):
            self._identify(addr)
        self._task = loop.create_task(self._housekeeping(), name=f"housekeeping:{self.url}")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None
        if self._link is not None:
            self._link.close()
            self._link = None
        self._drop_devices()

    async def wait_ready(self, timeout_s: float = 10.0, count: int = 1) -> list[DeviceState]:
        """Wait until `count` devices are identified with a usable clock model."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            ready = [d for d in self.devices.values() if d.ready]
            if len(ready) >= count:
                return ready
            if asyncio.get_running_loop().time() > deadline:
                seen = ", ".join(
                    f"{d.info.key} ({d.state}, {d.clock.sample_count} clock samples)"
                    for d in self.devices.values()
                )
                raise DeviceNotReady(
                    f"{self.url}: {len(ready)} of {count} device(s) ready after {timeout_s:.0f} s"
                    f" (seen: {seen or 'none'})"
                )
            await asyncio.sleep(0.02)

    @property
    def link_stats(self) -> dict[str, int]:
        stats = self._link.stats if self._link else None
        return {
            "frames": stats.frames if stats else 0,
            "bad_crc": stats.bad_crc if stats else 0,
            "bad_length": stats.bad_length if stats else 0,
            "skipped_bytes": stats.skipped_bytes if stats else 0,
            "idle_drops": stats.idle_drops if stats else 0,
            "unknown_types": self.unknown_types,
            "bad_payloads": self.bad_payloads,
            "dropped_new_devices": self.dropped_new_devices,
        }

    # --- Owner (hardware.registry) -------------------------------------------------------------

    def send_message(self, addr: int, msg: Message) -> int:
        """Send one message; returns the host time just before its bytes left."""
        if self._link is None or self.lost:
            raise LinkError(f"{self.url} is closed")
        return self._link.write(encode_message(addr, next(self._seq) & 0xFFFF, msg))

    def release(self, state: DeviceState) -> None:
        for addr in [a for a, s in self.devices.items() if s is state]:
            del self.devices[addr]
            self._pings.stop(addr)

    # --- housekeeping: pings, NAK repeats ------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            try:
                self._tick(mono_us())
            except LinkError as exc:
                if not self.lost:
                    log.warning("%s: cannot write: %s", self.url, exc)
            except Exception:
                log.exception("%s: housekeeping failed", self.url)
            await asyncio.sleep(TICK_S)

    def _tick(self, now_us: int) -> None:
        if self.lost:
            return
        if now_us >= self._next_sweep_us:
            self._next_sweep_us = now_us + FORGET_SWEEP_US
            self.registry.forget_silent(now_us)
        self._pings.forget_unanswered(now_us)
        for addr, state in list(self.devices.items()):
            if state.unsupported is not None or state.owner is not self:
                continue
            if self._pings.due(addr, now_us):
                nonce = self._pings.next_nonce()
                sent_us = self.send_message(addr, Ping(nonce))
                self._pings.sent(addr, nonce, sent_us, now_us, state.clock.ready)
            nak_due = state.last_nak_us is not None and now_us - state.last_nak_us >= state.rto.us
            if state.held and nak_due:
                if not state.delivered_any and state.gap_naks >= START_GAP_NAKS:
                    self._deliver(state, state.skip_to_held())
                    self._ack(addr, state)
                else:
                    self._nak(addr, state, now_us)

    def _identify(self, addr: int) -> None:
        lo, hi = SUPPORTED_VERSIONS.start, SUPPORTED_VERSIONS.stop - 1
        self.send_message(addr, Identify(lo, hi))
        self._identified_at[addr] = mono_us()

    def _nak(self, addr: int, state: DeviceState, now_us: int) -> None:
        self.send_message(addr, EventNak(state.expected & 0xFFFF))
        state.naks_sent += 1
        state.gap_naks += 1
        state.last_nak_us = now_us

    def _ack_soon(self, addr: int, state: DeviceState) -> None:
        # One cumulative ACK per device for all the frames that arrived together: the frames
        # of one read are queued on the loop back to back, so a flush queued behind them runs
        # once they are all handled. Half the writes of an ACK per frame, same information.
        self._acks_due[addr] = state
        if not self._ack_flush_queued:
            self._ack_flush_queued = True
            asyncio.get_running_loop().call_soon(self._flush_acks)

    def _flush_acks(self) -> None:
        self._ack_flush_queued = False
        due, self._acks_due = self._acks_due, {}
        for addr, state in due.items():
            try:
                self._ack(addr, state)
            except LinkError as exc:
                log.debug("%s: ACK not sent: %s", self.url, exc)

    def _ack(self, addr: int, state: DeviceState) -> None:
        if state.delivered_any:
            self.send_message(addr, EventAck((state.expected - 1) & 0xFFFF))

    # --- from the link -------------------------------------------------------------------------

    def _handle_closed(self, error: BaseException | None) -> None:
        self.lost = True
        log.warning("%s: link lost: %s", self.url, error)
        self._drop_devices()
        if self._on_lost is not None:
            self._on_lost(self.url, error)

    def _drop_devices(self) -> None:
        for state in self.devices.values():
            if state.owner is self:
                state.mark_lost()

    def _handle_frame(self, frame: Frame, received_mono_us: int) -> None:
        state = self.devices.get(frame.addr)
        try:
            msg = decode_message(frame)
        except (UnknownType, PayloadError) as exc:
            # Counted and skipped, never fatal; its SEQ still arrived, so it is no gap.
            unknown = isinstance(exc, UnknownType)
            self.unknown_types += unknown
            self.bad_payloads += not unknown
            log.debug("%s: address %d: %s", self.url, frame.addr, exc)
            if state is not None and state.unsupported is None:
                state.unknown_types += unknown
                state.bad_payloads += not unknown
                state.track_seq(frame.seq)
            return
        if isinstance(msg, Hello):
            self._handle_hello(frame.addr, frame.seq, msg, received_mono_us)
            return
        if state is None:
            self._hold_unidentified(frame, received_mono_us)
            return
        state.heard(received_mono_us)
        if state.unsupported is not None or not state.track_seq(frame.seq):
            return
        if isinstance(msg, Event):
            self._handle_event(frame.addr, state, msg, received_mono_us)
        elif isinstance(msg, Pong):
            self._handle_pong(frame.addr, state, msg, received_mono_us)
        elif isinstance(msg, CommandAck):
            fut = state.pending_cmds.get(msg.cmd_id)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif isinstance(msg, Status):
            state.status = msg

    def _hold_unidentified(self, frame: Frame, received_mono_us: int) -> None:
        pending = self._pending.setdefault(frame.addr, [])
        if len(pending) < PENDING_LIMIT:
            pending.append((frame, received_mono_us))
        asked = self._identified_at.get(frame.addr)
        if asked is None or mono_us() - asked > IDENTIFY_RETRY_US:
            self._identify(frame.addr)

    def _handle_hello(self, addr: int, seq: int, hello: Hello, received_mono_us: int) -> None:
        info = DeviceInfo(
            port=self.url, addr=addr, kind=hello.kind, device_id=hello.device_id,
            boot_id=hello.boot_id, firmware=hello.firmware, nominal_tick_hz=hello.nominal_tick_hz,
            channels=hello.channels, proto=hello.proto, caps=hello.caps,
        )  # fmt: skip
        if not self.registry.knows_id(hello.device_id) and (
            self.registry.on_port(self.url, received_mono_us) >= MAX_DEVICES_PER_PORT
        ):
            self._drop_new_device(addr, hello.device_id)
            return
        state, known = self.registry.resume_or_create(info)
        state.heard(received_mono_us)
        if state.info.shared_id_port is not None:
            info = replace(info, shared_id_port=state.info.shared_id_port)
        if self.devices.get(addr) is state and state.owner is self and state.connected:
            state.track_seq(seq)  # a HELLO answering our IDENTIFY: nothing new
            return
        previous = self.devices.get(addr)
        if previous is not None and previous is not state:
            previous.mark_lost()  # rebooted behind the same address
        if state.owner is not None and state.owner is not self:
            state.owner.release(state)
        state.attach(self, info)
        state.track_seq(seq)
        self.devices[addr] = state
        if hello.proto not in SUPPORTED_VERSIONS:
            self._unsupported(addr, state, hello.proto)
        else:
            state.unsupported = None
            self._pings.start(addr, mono_us())
            log.info(
                "%s: %s %s at address %d (boot %d, protocol %d, %d Hz)",
                self.url, "resumed" if known else "found", info.key, addr, info.boot_id,
                info.proto, info.nominal_tick_hz,
            )  # fmt: skip
        if self._on_device is not None:
            self._on_device(info)
        for frame, received_mono_us in self._pending.pop(addr, []):
            self._handle_frame(frame, received_mono_us)

    def _drop_new_device(self, addr: int, device_id: int) -> None:
        self.dropped_new_devices += 1
        self._pending.pop(addr, None)
        if self.dropped_new_devices == 1:  # once per port: noise would make one per frame
            log.warning(
                "%s: HELLO from a new device id %08X at address %d dropped: the port already "
                "holds %d devices (noise passing the CRC?); further ones are only counted "
                "(dropped_new_devices)", self.url, device_id, addr, MAX_DEVICES_PER_PORT,
            )  # fmt: skip

    def _unsupported(self, addr: int, state: DeviceState, proto: int) -> None:
        lo, hi = SUPPORTED_VERSIONS.start, SUPPORTED_VERSIONS.stop - 1
        message = (
            f"{state.key} on {self.url} address {addr} speaks protocol version {proto}; "
            f"this host speaks versions {lo} to {hi}: its frames are ignored"
        )
        if state.unsupported != message:
            log.warning("%s", message)
        state.unsupported = message
        self._pings.stop(addr)

    def _handle_pong(
        self, addr: int, state: DeviceState, pong: Pong, received_mono_us: int
    ) -> None:
        sent_us = self._pings.answered(addr, pong.nonce)
        if sent_us is None:
            return
        ticks = state.extender.extend(pong.tick32)
        # A PONG queued on the loop may be handled just after stop() let go of the link.
        baudrate = self._link.baudrate if self._link is not None else BAUDRATE
        sample = exchange_sample(sent_us, received_mono_us, ticks, baudrate)
        if isinstance(state.clock, ClockModel):  # always, for a device on a protocol v1 port
            state.clock.add_sample(sample)
        state.ever_ready = state.ever_ready or state.clock.ready
        state.rto.sample(received_mono_us - sent_us)

    def _handle_event(
        self, addr: int, state: DeviceState, ev: Event, received_mono_us: int
    ) -> None:
        out = state.accept(ev.evseq, ev.channel, ev.kind, ev.tick32, ev.ref, received_mono_us)
        self._deliver(state, out.delivered)
        self._ack_soon(addr, state)
        if out.gap:
            now_us = mono_us()
            if state.last_nak_us is None or now_us - state.last_nak_us >= state.rto.us:
                self._nak(addr, state, now_us)

    def _deliver(self, state: DeviceState, arrived: list[Arrived]) -> None:
        for a in arrived:
            event = state.deliver(a)
            if a.ref and a.kind in ONSET_KINDS:
                onset = state.onsets.pop(a.ref, None)
                if onset is not None and not onset.done():
                    onset.set_result(event)
            try:
                self._on_event(event)
            except Exception:
                # One failing listener must not cost the events after it, or their ACK.
                log.exception("%s: event listener failed on %s", self.url, event)
