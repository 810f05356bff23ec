"""Per-device state that outlives a port: identity, clock, event order, counters, health.

A device is known by (device id, boot id). Its state lives here, not in the PortSession that
happens to carry it, so a device unplugged and plugged in again (on any port, under any path)
resumes with its clock fit and the next event number it owes us: nothing lost, nothing twice
(PROTOCOL.md section 5). A new boot id starts a new conversation and replaces the old state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

from hardware.clock import ClockModel, DeviceClock, TickExtender
from hardware.counters import Unwrapper
from hardware.messages import Caps, CommandAck, DeviceKind, EventKind, Message, Status

log = logging.getLogger(__name__)

# Host retransmission timeout (PROTOCOL.md section 5), in microseconds.
RTO_INITIAL_US = 100_000
RTO_MIN_US = 25_000
RTO_MAX_US = 1_000_000
RTO_VAR_FLOOR_US = 1_000
# Remembered frame SEQs, to drop a frame that arrives twice byte for byte.
RECENT_SEQS = 512
# A host that restarted meets devices whose oldest unacknowledged event is not number 0.
# After this many NAKs for the start of a conversation go unanswered, it starts from what it has.
START_GAP_NAKS = 3
EVSEQ_WRAP = 1 << 16
# Random bytes can pass a CRC-16 (1 frame in 65536): on a noisy port some such frames read as
# HELLOs naming devices that do not exist. A device silent this long is forgotten if it never
# answered a PING (its clock never became ready: nothing real was there) or was heard only
# for BRIEF_US, unless the program still needs it (DeviceRegistry.keep: bound to a role).
SILENT_FORGET_US = 30_000_000
BRIEF_US = 5_000_000


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
    caps: Caps = Caps.NONE
    # A device reached through an adapter (hardware/adapters): "chronopic" or "timy"; None
    # for one that speaks protocol v1. It names the device's key, as coaches know it.
    adapter: str | None = None
    # Several photocells wired in parallel to one input (a Chronopic): a drill's roles bind
    # to successive breaks of that input in running order, not one role per channel.
    successive_breaks: bool = False
    # Set when another device with the same id was already connected on another port as
    # this one said HELLO: two devices share one id, and this one is named by its port too.
    shared_id_port: str | None = None

    @property
    def key(self) -> str:
        """Stable name of the device, independent of port and plug order (but for a second
        device reporting an id already in use on another port: `hub-00AB12CD@/dev/ttyUSB1`)."""
        key = device_key(self.kind, self.device_id, self.adapter)
        return key if self.shared_id_port is None else f"{key}@{self.shared_id_port}"


def device_key(kind: DeviceKind, device_id: int, adapter: str | None = None) -> str:
    return f"{adapter or kind.name.lower()}-{device_id:08X}"


@dataclass(frozen=True)
class DeviceEvent:
    """An edge seen by a device, with its own timestamp and what the host made of it."""

    device: str
    boot_id: int
    seq: int  # the evseq extended past its 16-bit wrap: (device, boot_id, seq) is unique
    channel: int
    kind: EventKind
    ticks: int
    tick_hz_est: float
    mono_us: int | None  # ticks mapped to host time; None while the clock has no fit
    received_mono_us: int  # when the delivered copy's bytes arrived: never a timestamp
    ref: int = 0  # cmd_id of the COMMAND behind a light or beep event
    sync_error_us: float | None = None
    # Set by adapters for devices that do not speak protocol v1 (hardware/adapters):
    by_receipt: bool = False  # mono_us comes from receipt times (no clock query exists)
    manual: bool = False  # a hand time (a Timy keypad impulse)
    coarse: bool = False  # ticks placed by host receipt (a Chronopic interval out of range)
    bib: int | None = None  # the start number a Timy set to start numbers printed with it

    @property
    def clock_id(self) -> str:
        return f"{self.device}:{self.boot_id}"


class Rto:
    """TCP-style retransmission timeout from round-trip samples (PROTOCOL.md section 5)."""

    def __init__(self) -> None:
        self.srtt_us: float | None = None
        self.rttvar_us = 0.0
        self._base_us = float(RTO_INITIAL_US)
        self._backoff = 1

    def sample(self, rtt_us: float) -> None:
        if self.srtt_us is None:
            self.srtt_us, self.rttvar_us = rtt_us, rtt_us / 2
        else:
            self.rttvar_us = 0.75 * self.rttvar_us + 0.25 * abs(self.srtt_us - rtt_us)
            self.srtt_us = 0.875 * self.srtt_us + 0.125 * rtt_us
        self._base_us = self.srtt_us + max(4 * self.rttvar_us, RTO_VAR_FLOOR_US)
        self._backoff = 1

    def timed_out(self) -> None:
        """Each timeout doubles the RTO until the next sample, as the device does."""
        self._backoff = min(self._backoff * 2, 64)

    @property
    def us(self) -> int:
        return round(min(max(self._base_us * self._backoff, RTO_MIN_US), RTO_MAX_US))


class Owner(Protocol):
    """What carries a device's frames right now (a PortSession)."""

    url: str
    lost: bool

    def send_message(self, addr: int, msg: Message) -> int: ...

    def release(self, state: DeviceState) -> None:
        """The device said HELLO elsewhere: stop serving it here."""


class Arrived(NamedTuple):
    """An EVENT as it came in, its counters extended; held until its turn."""

    evseq: int
    channel: int
    kind: EventKind
    ticks: int
    ref: int
    received_mono_us: int


@dataclass
class Outcome:
    """What one EVENT did to a device's stream: what to deliver and what to tell the device."""

    delivered: list[Arrived]
    repeat: bool = False
    gap: bool = False


@dataclass
class DeviceState:
    info: DeviceInfo
    clock: DeviceClock
    extender: TickExtender = field(default_factory=TickExtender)
    evseqs: Unwrapper = field(default_factory=lambda: Unwrapper(16))
    expected: int = 0  # next evseq to deliver
    delivered_any: bool = False
    held: dict[int, Arrived] = field(default_factory=dict)
    rto: Rto = field(default_factory=Rto)
    # Frame SEQ tracking, per attachment (see attach()).
    seqs: Unwrapper = field(default_factory=lambda: Unwrapper(16))
    last_seq: int | None = None
    recent: set[int] = field(default_factory=set)
    # Counters.
    events: int = 0
    duplicates: int = 0
    lost_frames: int = 0
    naks_sent: int = 0
    bad_payloads: int = 0
    unknown_types: int = 0
    last_nak_us: int | None = None
    gap_naks: int = 0
    status: Status | None = None
    last_event_mono_us: int | None = None
    connected: bool = True
    unsupported: str | None = None  # why, when the device speaks a version we do not
    owner: Owner | None = None
    next_cmd_id: int = 1
    pending_cmds: dict[int, asyncio.Future[CommandAck]] = field(default_factory=dict)
    onsets: dict[int, asyncio.Future[DeviceEvent]] = field(default_factory=dict)
    # Host times of its first and latest frame (HELLO included), for forgetting phantoms.
    first_frame_mono_us: int | None = None
    last_frame_mono_us: int | None = None
    ever_ready: bool = False  # its clock was synchronised once: a PING was really answered

    @property
    def key(self) -> str:
        return self.info.key

    def heard(self, now_us: int) -> None:
        """A frame of this device arrived."""
        if self.first_frame_mono_us is None:
            self.first_frame_mono_us = now_us
        self.last_frame_mono_us = now_us

    def forgettable(self, now_us: int) -> bool:
        """Silent for SILENT_FORGET_US, and never really there or there only briefly."""
        last = self.last_frame_mono_us
        if last is None or now_us - last < SILENT_FORGET_US:
            return False
        first = self.first_frame_mono_us if self.first_frame_mono_us is not None else last
        return not self.ever_ready or last - first < BRIEF_US

    @property
    def ready(self) -> bool:
        return self.connected and self.unsupported is None and self.clock.ready

    @property
    def state(self) -> str:
        """One word for people: connecting, syncing, ready, lost or unsupported."""
        if self.unsupported is not None:
            return "unsupported"
        if not self.connected:
            return "lost"
        if self.clock.ready:
            return "ready"
        return "connecting" if self.clock.sample_count == 0 else "syncing"

    @property
    def dropped(self) -> int | None:
        """Events the device could not keep since power-up (its buffer was full), as its last
        STATUS said; None when it does not count them (an older device) or has not said."""
        return None if self.status is None else self.status.dropped

    @property
    def sync_error_us(self) -> float | None:
        fit = self.clock.fit
        return None if fit is None else fit.error_bound_us

    def attach(self, owner: Owner, info: DeviceInfo) -> None:
        """A HELLO on `owner`: (re)connect. Frame SEQs restart their count per attachment,
        since frames sent into an unplugged cable are no loss of ours."""
        self.owner = owner
        self.info = info
        self.connected = True
        self.seqs = Unwrapper(16)
        self.last_seq = None
        self.recent.clear()
        self.rto = Rto()
        self.last_nak_us = None

    def track_seq(self, seq16: int) -> bool:
        """Count SEQ gaps as lost frames; False for an exact repeat of a frame."""
        seq = self.seqs.extend(seq16)
        if seq in self.recent:
            self.duplicates += 1
            return False
        if self.last_seq is not None and seq > self.last_seq + 1:
            self.lost_frames += seq - self.last_seq - 1
        self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)
        self.recent.add(seq)
        if len(self.recent) > RECENT_SEQS:
            self.recent = {s for s in self.recent if s > self.last_seq - RECENT_SEQS // 2}
        return True

    def accept(
        self, evseq16: int, channel: int, kind: EventKind, tick32: int, ref: int, recv_us: int
    ) -> Outcome:
        """Put one EVENT in order: deliver it (and any held ones it frees), hold it, or drop it
        as a repeat.

        Until something has been delivered (first contact, section 5), nothing is a repeat:
        this host cannot know what another acknowledged. Numbers then count from the first
        event received (the nearest value to those held), so what is held keeps its order
        across the 65535 -> 0 wrap whatever number the device has reached.
        """
        n = self.evseqs.extend(evseq16)
        ticks = self.extender.extend(tick32)
        if n in self.held or (self.delivered_any and n < self.expected):
            self.duplicates += 1
            return Outcome([], repeat=True, gap=bool(self.held))
        self.held[n] = Arrived(n, channel, kind, ticks, ref, recv_us)
        return Outcome(self._drain(), gap=bool(self.held))

    def skip_to_held(self) -> list[Arrived]:
        """Give up on the start of a conversation that the device can no longer re-send: start
        from the lowest event held."""
        first = min(self.held)
        if first < 0:
            # Held events from before a wrap, counted from one received after it. Numbers
            # only name events (unique and ordered per boot), so move them all up a wrap
            # rather than hand out negative ones.
            shift = -(first // EVSEQ_WRAP) * EVSEQ_WRAP
            self.held = {n + shift: a._replace(evseq=n + shift) for n, a in self.held.items()}
            self.evseqs = Unwrapper(16)
            self.evseqs.extend(max(self.held))  # the first value is taken as it is
            first += shift
        log.warning(
            "%s: first contact: starting from event %d, the oldest the device still had "
            "(what came before was acknowledged before this host knew the device)",
            self.key, first & 0xFFFF,
        )  # fmt: skip
        self.expected = first
        return self._drain()

    def _drain(self) -> list[Arrived]:
        if not self.delivered_any and self.held and min(self.held) < self.expected:
            # First contact and the device has events numbered below the expected start:
            # it wrapped, so its "0" is not its first. Wait for the NAK rule to start us.
            return []
        out: list[Arrived] = []
        while self.expected in self.held:
            out.append(self.held.pop(self.expected))
            self.expected += 1
        if out:
            self.delivered_any = True
            self.events += len(out)
        if not self.held:
            self.last_nak_us = None
            self.gap_naks = 0
        return out

    def allocate_cmd_id(self) -> int:
        """New for each command, 1..65535: 0 is the `ref` of an event no command caused."""
        cmd_id = self.next_cmd_id
        self.next_cmd_id = cmd_id % 0xFFFF + 1
        return cmd_id

    def mark_lost(self) -> None:
        self.connected = False
        self.owner = None


class DeviceRegistry:
    """Every device this host has heard from, by (device id, boot id)."""

    def __init__(self) -> None:
        # (device id, boot id, port): the port is None but for a device that shares its id
        # with one already connected on another port (DeviceInfo.shared_id_port).
        self._by_boot: dict[tuple[int, int, str | None], DeviceState] = {}
        self.keep: Callable[[DeviceState], bool] = lambda _state: False
        """Whether the program still needs a device (bound to a role): never forgotten."""
        self.forgotten = 0

    def all(self) -> list[DeviceState]:
        return list(self._by_boot.values())

    def get(self, device_id: int, boot_id: int) -> DeviceState | None:
        return self._by_boot.get((device_id, boot_id, None))

    def knows_id(self, device_id: int) -> bool:
        return any(k[0] == device_id for k in self._by_boot)

    def on_port(self, port: str, now_us: int) -> int:
        """How many devices `port` holds: connected on it, or heard on it in the last
        SILENT_FORGET_US (a device silent longer is no longer counted against the port)."""
        return sum(
            1
            for s in self._by_boot.values()
            if s.info.port == port
            and (
                (s.connected and s.owner is not None)
                or (s.last_frame_mono_us is not None
                    and now_us - s.last_frame_mono_us < SILENT_FORGET_US)
            )
        )  # fmt: skip

    def forget_silent(self, now_us: int) -> list[DeviceState]:
        """Forget the devices that went silent and were never really there (see
        SILENT_FORGET_US), so noise that passed a CRC cannot grow the registry without end."""
        gone: list[DeviceState] = []
        for k, state in list(self._by_boot.items()):
            if not state.forgettable(now_us) or self.keep(state):
                continue
            del self._by_boot[k]
            gone.append(state)
            if state.owner is not None:
                state.owner.release(state)
            state.mark_lost()
            _cancel_waiters(state)
        if gone:
            self.forgotten += len(gone)
            log.info(
                "forgot %d silent device(s) never synchronised or seen only briefly: %s",
                len(gone), ", ".join(s.key for s in gone[:8]) + (" ..." if len(gone) > 8 else ""),
            )  # fmt: skip
        return gone

    def by_key(self, key: str) -> DeviceState | None:
        """The current boot of the device called `key` (a connected one first)."""
        found = [s for s in self._by_boot.values() if s.key == key]
        found.sort(key=lambda s: s.connected)
        return found[-1] if found else None

    def resume_or_create(
        self, info: DeviceInfo, clock: DeviceClock | None = None
    ) -> tuple[DeviceState, bool]:
        """The state for this (id, boot), and whether it was already known. A new boot of
        a known device replaces its old state. A new state gets `clock`, by default a
        ClockModel to be fed by PING exchanges."""
        shared = self._by_boot.get((info.device_id, info.boot_id, info.port))
        if shared is not None and shared.connected:
            return shared, True  # the second of two devices sharing an id, heard again
        if self._held_elsewhere(info):
            # A second device with an id already connected on another port (two hubs flashed
            # alike, two simulators seeded alike): kept apart, named by its port as well, so
            # neither takes the other's state, events or place in the device list.
            info = replace(info, shared_id_port=info.port)
            k = (info.device_id, info.boot_id, info.port)
            if shared is not None:
                return shared, True
            log.warning(
                "%s: device id %08X is also connected on another port: two devices share "
                "one id; this one is listed as %s", info.port, info.device_id, info.key,
            )  # fmt: skip
            for old in [o for o in self._by_boot if o[0] == info.device_id and o[2] == info.port]:
                self._drop(old)
            state = DeviceState(info=info, clock=clock or ClockModel(info.tick_hz))
            self._by_boot[k] = state
            return state, False
        known = self._by_boot.get((info.device_id, info.boot_id, None))
        if known is not None:
            return known, True
        for old in [k for k in self._by_boot if k[0] == info.device_id and k[2] is None]:
            stale = self._by_boot.pop(old)
            log.info("%s: new boot %d replaces boot %d", info.key, info.boot_id, old[1])
            for fut in stale.pending_cmds.values():
                fut.cancel()
            for onset in stale.onsets.values():
                onset.cancel()
        state = DeviceState(info=info, clock=clock or ClockModel(info.tick_hz))
        self._by_boot[(info.device_id, info.boot_id, None)] = state
        return state, False

    def _held_elsewhere(self, info: DeviceInfo) -> bool:
        """Whether a device with this id is connected right now on another port that is
        still open: then the HELLO on this port comes from another device, not a replug."""
        for (device_id, _boot, port), state in self._by_boot.items():
            if device_id != info.device_id or port is not None or state.info.port == info.port:
                continue
            owner = state.owner
            if state.connected and owner is not None and not owner.lost:
                return True
        return False

    def _drop(self, k: tuple[int, int, str | None]) -> None:
        _cancel_waiters(self._by_boot.pop(k))


def _cancel_waiters(state: DeviceState) -> None:
    """Nobody waits on a forgotten state for a COMMAND_ACK or an onset any longer."""
    for fut in state.pending_cmds.values():
        fut.cancel()
    for onset in state.onsets.values():
        onset.cancel()
