"""One device's state that outlives a port: identity, clock, event order, counters, health.

Its state lives here, not in the PortSession that happens to carry it, so a device unplugged
and plugged in again (on any port, under any path) resumes with its clock fit and the next
event number it owes us: nothing lost, nothing twice (PROTOCOL.md section 5).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from hardware.clock import DeviceClock, TickExtender
from hardware.counters import Unwrapper
from hardware.messages import CommandAck, EventKind, Message, Status
from hardware.records import DeviceEvent, DeviceInfo

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

    def heard_lately(self, now_us: int) -> bool:
        """Heard within SILENT_FORGET_US: still counted against its port while silent."""
        last = self.last_frame_mono_us
        return last is not None and now_us - last < SILENT_FORGET_US

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
        self, evseq16: int, channel: int, kind: EventKind, tick32: int, ref: int,
        received_mono_us: int,
    ) -> Outcome:  # fmt: skip
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
        self.held[n] = Arrived(n, channel, kind, ticks, ref, received_mono_us)
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

    def deliver(self, a: Arrived) -> DeviceEvent:
        """The event as it leaves, in its turn: its ticks mapped through the clock fit."""
        fit = self.clock.fit
        self.last_event_mono_us = a.received_mono_us
        return DeviceEvent(
            device=self.key, boot_id=self.info.boot_id, seq=a.evseq, channel=a.channel,
            kind=a.kind, ticks=a.ticks,
            tick_hz_est=fit.tick_hz_est if fit else float(self.info.nominal_tick_hz),
            mono_us=fit.ticks_to_mono_us(a.ticks) if fit else None,
            received_mono_us=a.received_mono_us, ref=a.ref,
            sync_error_us=fit.error_bound_at_us(a.ticks) if fit else None,
        )  # fmt: skip

    def allocate_cmd_id(self) -> int:
        """New for each command, 1..65535: 0 is the `ref` of an event no command caused."""
        cmd_id = self.next_cmd_id
        self.next_cmd_id = cmd_id % 0xFFFF + 1
        return cmd_id

    def mark_lost(self) -> None:
        self.connected = False
        self.owner = None

    def cancel_waiters(self) -> None:
        """Nobody waits on a forgotten or replaced state for a COMMAND_ACK or an onset."""
        for fut in self.pending_cmds.values():
            fut.cancel()
        for onset in self.onsets.values():
            onset.cancel()
