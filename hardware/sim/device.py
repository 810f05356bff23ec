"""One simulated device (gate, pod or hub) with the firmware duties of PROTOCOL.md 4 to 7.

The device owns no I/O: its port hands it frames and the time they arrived, runs its timers and
carries what it sends. Everything but the public scheduling methods runs on the port's thread,
so the device's state needs no lock; only the recorded truth, read by tests, has one.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from hardware.messages import (
    BATTERY_MAINS,
    NOT_APPLICABLE,
    Caps,
    Command,
    DeviceKind,
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
from hardware.sim.models import SimClock, TruthCommand, TruthEvent, TruthOnset, TruthSuppressed
from hardware.sim.outputs import Outputs
from hardware.sim.retransmit import DEFAULT_CAPACITY, EventBuffer, Pending
from hardware.wire import Frame

DEFAULT_CAPS = {
    DeviceKind.GATE: Caps.BEAM,
    DeviceKind.POD: Caps.LIGHT | Caps.BUZZER | Caps.TOUCH,
    DeviceKind.HUB: Caps.BEAM,
}
DEFAULT_CHANNELS = {DeviceKind.GATE: 2, DeviceKind.POD: 1, DeviceKind.HUB: 2}
BEAM_KINDS = (EventKind.BEAM_BROKEN, EventKind.BEAM_RESTORED)

# Seconds after a light's onset at which the athlete touches it; None: no touch.
TouchPolicy = Callable[[TruthOnset], float | None]
LightHook = Callable[["VirtualDevice", TruthOnset], None]


# Events re-sent for one EVENT_NAK: enough for a burst of losses, never the whole buffer.
NAK_BURST = 8


class DeviceLink(Protocol):
    """What a device needs from the port it sits on."""

    @property
    def connected(self) -> bool: ...

    def now_ns(self) -> int: ...

    def call_at(self, due_ns: int, fn: Callable[[], None]) -> None:
        """Run `fn` on the port's thread at true time `due_ns` (any thread may call this)."""

    def transmit(self, address: int, frame: bytes) -> None:
        """Carry a frame to the host (port thread only)."""


class VirtualDevice:
    """A device as its firmware sees the world: a tick counter, inputs, outputs, one link."""

    def __init__(
        self,
        kind: DeviceKind,
        device_id: int,
        *,
        boot_id: int | None = None,
        channels: int | None = None,
        caps: Caps | None = None,
        clock: SimClock | None = None,
        versions: Sequence[int] = (1,),
        firmware: tuple[int, int, int] = (1, 0, 0),
        battery_pct: int | None = None,
        link_quality: int = 90,
        beam_alignment: Sequence[int] | None = None,
        buffer_capacity: int = DEFAULT_CAPACITY,
        status_period_s: float = 5.0,
        touch_after: TouchPolicy | None = None,
        light_hooks: Sequence[LightHook] = (),
        seed: int = 0,
    ) -> None:
        """`light_hooks` are called on the port thread whenever a light turns on (keep them
        quick); `touch_after` says when an athlete touches a lit pod."""
        if not versions:
            raise ValueError("a device speaks at least one protocol version")
        self.kind = DeviceKind(kind)
        self.device_id = device_id
        self.rng = random.Random(seed)
        self.channels = DEFAULT_CHANNELS[self.kind] if channels is None else channels
        self.caps = DEFAULT_CAPS[self.kind] if caps is None else caps
        self.clock = clock or SimClock.random(self.rng, time.monotonic_ns())
        self.versions = tuple(sorted(set(versions)))
        self.firmware = firmware
        # Hubs sit on mains power; gates and pods run on batteries.
        self.battery_pct = (
            (BATTERY_MAINS if self.kind is DeviceKind.HUB else 90)
            if battery_pct is None
            else battery_pct
        )
        self.link_quality = link_quality
        self.beam_alignment = list(beam_alignment or [95] * self.channels)
        self.status_period_s = status_period_s
        self.touch_after = touch_after
        self._fixed_boot_id = boot_id
        self._buffer_capacity = buffer_capacity
        self.light_hooks: tuple[LightHook, ...] = tuple(light_hooks)
        self.lock = threading.Lock()
        self.truth: list[TruthEvent] = []
        self.onsets: list[TruthOnset] = []
        self.suppressed: list[TruthSuppressed] = []
        self.commands: list[TruthCommand] = []
        self.address = -1
        # Which level means broken, per beam (POLARITY): kept in EEPROM, so a power cycle
        # keeps it. The simulator's edges are logical; it is stored and reported, not applied.
        self.polarity_high = [False] * self.channels
        self._link: DeviceLink | None = None
        self._powered = False
        self._status_gen = 0  # never reset: it retires the timers of earlier boots
        self.outputs = Outputs(self)
        self._reset_state()

    def _reset_state(self) -> None:
        """What a power-up clears: everything but the device's identity and knobs."""
        fixed, self._fixed_boot_id = self._fixed_boot_id, None
        # A real device draws a new boot id at every power-up, whatever the seed of the run.
        self.boot_id = random.SystemRandom().getrandbits(32) if fixed is None else fixed
        self.proto = self.versions[-1]
        self.buffer = EventBuffer(self._buffer_capacity)
        self.outputs.dead = True  # its timers may still fire: they must find nothing to do
        self.outputs = Outputs(self)
        self.rx_errors = 0
        self.dropped = 0  # events not kept because the buffer was full (STATUS `dropped`)
        self.bad_frames = 0
        self._frame_seq = 0
        self._timer_due: int | None = None

    # --- public, any thread ----------------------------------------------------------------

    def schedule_edge(self, channel: int, kind: EventKind, at_mono_ns: int) -> None:
        """Make an input edge happen at a true host time (in the future, or now)."""
        if not 0 <= channel < self.channels:
            raise ValueError(f"channel {channel} does not exist ({self.channels} channels)")
        self.link.call_at(at_mono_ns, lambda: self._edge(channel, kind, at_mono_ns))

    def touch(self, at_mono_ns: int, channel: int = 0) -> None:
        """An athlete's hand on the pod at a true host time, lit or not (a false touch)."""
        if Caps.TOUCH not in self.caps:
            raise ValueError(f"device {self.device_id:08X} has no touch sensor")
        self.schedule_edge(channel, EventKind.POD_TOUCHED, at_mono_ns)

    def light_came_on(self, onset: TruthOnset) -> None:
        """On the port thread: the hooks see the light, and a pod's athlete may touch it."""
        for hook in self.light_hooks:
            hook(self, onset)
        if self.touch_after is not None and Caps.TOUCH in self.caps:
            delay_s = self.touch_after(onset)
            if delay_s is not None:
                self.touch(onset.mono_ns + round(delay_s * 1e9), onset.channel)

    def power_cycle(self) -> None:
        """Switch off and on: a new boot id, events from 0, buffered events lost."""
        link = self.link
        link.call_at(link.now_ns(), self.power_up)

    def truth_since(self, index: int) -> list[TruthEvent]:
        with self.lock:
            return list(self.truth[index:])

    def onsets_since(self, index: int) -> list[TruthOnset]:
        with self.lock:
            return list(self.onsets[index:])

    def suppressed_since(self, index: int) -> list[TruthSuppressed]:
        with self.lock:
            return list(self.suppressed[index:])

    def commands_since(self, index: int) -> list[TruthCommand]:
        with self.lock:
            return list(self.commands[index:])

    @property
    def armed(self) -> list[bool]:
        return list(self.outputs.armed)

    @property
    def lit(self) -> list[Command | None]:
        return list(self.outputs.lit)

    @property
    def link(self) -> DeviceLink:
        if self._link is None:
            raise RuntimeError("add the device to a VirtualPort first")
        return self._link

    @property
    def unacked(self) -> int:
        return len(self.buffer.pending)

    @property
    def rto_ns(self) -> int:
        return self.buffer.rto.rto_ns

    # --- called by the port, on its thread -------------------------------------------------

    def attach(self, link: DeviceLink, address: int) -> None:
        self._link, self.address = link, address

    def power_up(self) -> None:
        if self._powered:
            self._reset_state()  # a power cycle, not the first power-up
        self._powered = True
        self._hello()
        self._status_gen += 1
        self._schedule_status(self._status_gen)

    def on_reconnect(self) -> None:
        """The cable is back: HELLO (same boot), then every unacknowledged event, oldest first."""
        self._hello()

    def on_frame(self, frame: Frame, received_ns: int) -> None:
        try:
            msg = decode_message(frame)
        except (PayloadError, UnknownType):
            self.bad_frames += 1
            return
        if isinstance(msg, Ping):
            self.send(Pong(msg.nonce, self.clock.ticks_at(received_ns) & 0xFFFFFFFF))
        elif isinstance(msg, EventAck):
            self.buffer.ack(msg.evseq, self._now())
            self._arm_timer()
        elif isinstance(msg, EventNak):
            self._resend(self.buffer.from_evseq(msg.evseq)[:NAK_BURST])
        elif isinstance(msg, Command):
            self.outputs.on_command(msg, received_ns)
        elif isinstance(msg, Identify):
            self._negotiate(msg)
            self._hello()
        else:
            self.bad_frames += 1  # a device-to-host message sent to a device: noise

    def note_rx_error(self) -> None:
        self.rx_errors += 1

    # --- internals, port thread --------------------------------------------------------------

    def _now(self) -> int:
        return self.link.now_ns()

    def send(self, msg: Message) -> None:
        link = self.link
        if not link.connected:
            return  # nothing to send on: the unplugged cable's bytes go nowhere
        link.transmit(self.address, encode_message(self.address, self._frame_seq, msg))
        self._frame_seq = (self._frame_seq + 1) & 0xFFFF

    def _negotiate(self, identify: Identify) -> None:
        """Section 4.1.1: highest common version, else our own highest; 0..0 means any."""
        if identify.min_proto == 0 and identify.max_proto == 0:
            self.proto = self.versions[-1]
            return
        common = [v for v in self.versions if identify.min_proto <= v <= identify.max_proto]
        self.proto = common[-1] if common else self.versions[-1]

    def _send_hello_only(self) -> None:
        self.send(
            Hello(
                self.proto, self.kind, self.device_id, self.boot_id, self.firmware,
                self.clock.nominal_tick_hz, self.channels, self.caps,
            )
        )  # fmt: skip

    def _hello(self) -> None:
        """HELLO, then every unacknowledged event oldest first (section 5: after every HELLO,
        so a host that has just started gets what the one before it never acknowledged),
        then STATUS."""
        self._send_hello_only()
        if self.buffer.pending:
            self._resend(list(self.buffer.pending))
        self.send(self._status_msg())

    def _is_beam(self, channel: int) -> bool:
        return Caps.BEAM in self.caps and 0 <= channel < self.channels

    def _status_msg(self) -> Status:
        link = NOT_APPLICABLE if self.address == 0 else self.link_quality
        if self.buffer.full:
            link = 0  # section 5: the host learns that beam edges are being held back
        beams = tuple(
            self.beam_alignment[i] if self._is_beam(i) else NOT_APPLICABLE
            for i in range(self.channels)
        )
        return Status(self.battery_pct, link, self.rx_errors, beams, self.dropped & 0xFFFF)

    def _schedule_status(self, gen: int) -> None:
        link = self.link
        link.call_at(
            link.now_ns() + round(self.status_period_s * 1e9), lambda: self._status_due(gen)
        )

    def _status_due(self, gen: int) -> None:
        if gen != self._status_gen:
            return  # a timer from before a power cycle
        self.send(self._status_msg())
        self._schedule_status(gen)

    def _edge(self, channel: int, kind: EventKind, at_ns: int) -> None:
        if kind in BEAM_KINDS and self._is_beam(channel) and not self.outputs.armed[channel]:
            self._suppress(channel, kind, at_ns, "disarmed")
            return
        self.emit(channel, kind, at_ns, 0)

    def _suppress(self, channel: int, kind: EventKind, at_ns: int, reason: str) -> int:
        ticks = self.clock.ticks_at(at_ns)
        with self.lock:
            self.suppressed.append(TruthSuppressed(channel, kind, at_ns, ticks, reason))
        return ticks

    def emit(self, channel: int, kind: EventKind, at_ns: int, ref: int) -> int:
        """Stamp an event with the tick at its true time, keep it, send it; returns the tick.

        With the buffer full the event is dropped and counted, whatever its kind (section 5):
        a firmware's ring has no room either, and the count reaches the host in STATUS.
        """
        if self.buffer.full:
            self.dropped += 1
            return self._suppress(channel, kind, at_ns, "buffer_full")
        ticks = self.clock.ticks_at(at_ns)
        entry = self.buffer.add(channel, kind, ticks, ref)
        with self.lock:
            self.truth.append(
                TruthEvent(channel, kind, at_ns, ticks, entry.evseq, ref, self.device_id)
            )
        if self.link.connected:
            self._transmit_event(entry, self._now())
            self._arm_timer()
        return ticks

    def _transmit_event(self, entry: Pending, now_ns: int) -> None:
        self.send(entry.event)
        entry.sends += 1
        entry.last_sent_ns = now_ns

    def _resend(self, entries: list[Pending]) -> None:
        now = self._now()
        for entry in entries:
            self._transmit_event(entry, now)
        self._arm_timer()

    def _arm_timer(self) -> None:
        due = self.buffer.deadline_ns()
        if due is None or (self._timer_due is not None and self._timer_due <= due):
            return
        self._timer_due = due
        self.link.call_at(due, lambda: self._rto_fired(due))

    def _rto_fired(self, due: int) -> None:
        if due != self._timer_due:
            return  # superseded by an earlier deadline
        self._timer_due = None
        if not self.link.connected:
            return  # the reconnection re-sends everything
        deadline = self.buffer.deadline_ns()
        if deadline is not None and self._now() >= deadline:
            self._resend_all_on_timeout()
        self._arm_timer()

    def _resend_all_on_timeout(self) -> None:
        # Only the oldest: the host holds what came after a gap and acknowledges it all once
        # the gap fills. Re-sending the whole buffer would turn a host that is merely late
        # into a storm that makes it later still (PROTOCOL.md section 5).
        if self.buffer.pending:
            self._transmit_event(self.buffer.pending[0], self._now())
        self.buffer.rto.back_off()
