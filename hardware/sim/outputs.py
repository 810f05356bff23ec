"""A device's lights, buzzer and arming: PROTOCOL.md section 6 (COMMAND) as firmware runs it.

Actions happen at the true time at which the device's counter reaches the target tick (the
inverse of its SimClock), as an MCU timer compare would fire them. The simulator's thread may
wake a little later; that delays only the EVENT frame, never the tick stamped in it, and the
delay is kept in the truth (TruthOnset.woke_ns) so tests can report it.

Outputs sees its device only through OutputDevice, so this module does not import the device
module that builds it (the two used to import each other).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from hardware.messages import (
    CMD_FLAG_NOW,
    POLARITY_HIGH_BROKEN,
    POLARITY_LOW_BROKEN,
    Action,
    Caps,
    Command,
    CommandAck,
    CommandResult,
    EventKind,
)
from hardware.sim.models import SimClock, TruthCommand, TruthOnset

DEFAULT_LIGHT_MS = 10_000
TICK_WRAP = 1 << 32
# Command ids remembered to refuse a repeat: far more than the host has in flight.
REMEMBERED_COMMANDS = 4096

NEEDS = {
    Action.LIGHT: Caps.LIGHT,
    Action.DARK: Caps.LIGHT,
    Action.BEEP: Caps.BUZZER,
    Action.ARM: Caps.BEAM,
    Action.DISARM: Caps.BEAM,
    Action.POLARITY: Caps.BEAM,
}
POLARITY_VALUES = (POLARITY_LOW_BROKEN, POLARITY_HIGH_BROKEN)


def nearest_ticks(now_ticks: int, tick32: int) -> int:
    """The 64-bit counter value with these low 32 bits nearest the current one."""
    delta = (tick32 - now_ticks) % TICK_WRAP
    if delta >= TICK_WRAP // 2:
        delta -= TICK_WRAP
    return now_ticks + delta


class Timers(Protocol):
    """The port's clock and timers, as a device's outputs use them."""

    def now_ns(self) -> int: ...

    def call_at(self, due_ns: int, fn: Callable[[], None]) -> None: ...


class OutputDevice(Protocol):
    """What the outputs need of the device they belong to (hardware.sim.device.VirtualDevice)."""

    channels: int
    caps: Caps
    clock: SimClock
    polarity_high: list[bool]
    lock: threading.Lock
    commands: list[TruthCommand]
    onsets: list[TruthOnset]

    @property
    def link(self) -> Timers: ...

    def send(self, msg: CommandAck) -> None: ...

    def emit(self, channel: int, kind: EventKind, at_ns: int, ref: int) -> int: ...

    def light_came_on(self, onset: TruthOnset) -> None:
        """A light just turned on: the device tells whoever watches it (athletes, pods)."""


class Outputs:
    """Output state of one device; lives and dies with a boot (a power cycle makes a new one)."""

    def __init__(self, device: OutputDevice) -> None:
        self.device = device
        self.armed = [True] * device.channels
        self.lit: list[Command | None] = [None] * device.channels
        self._light_gen = [0] * device.channels
        self._accepted: OrderedDict[int, CommandResult] = OrderedDict()
        self.dead = False  # set at power-off: its pending timers must do nothing

    def on_command(self, cmd: Command, received_ns: int) -> None:
        dev = self.device
        repeat = cmd.cmd_id in self._accepted
        # A repeat is acknowledged again, with its first answer, and not done twice.
        result = self._accepted[cmd.cmd_id] if repeat else self._check(cmd)
        if repeat or result is not CommandResult.OK:
            self._answer(cmd, result, received_ns, repeat)
            return
        if cmd.action is Action.POLARITY:
            # A setting, not an output: it takes effect at once, whatever `at` and NOW say.
            self._remember(cmd.cmd_id, result)
            dev.polarity_high[cmd.channel] = cmd.polarity_high_broken
            self._answer(cmd, result, received_ns, repeat)
            return
        now_ticks = dev.clock.ticks_at(received_ns)
        requested: int | None = None
        due_ns = received_ns
        if not cmd.flags & CMD_FLAG_NOW:
            requested = nearest_ticks(now_ticks, cmd.at_tick32)
            if requested <= now_ticks:
                result = CommandResult.LATE  # done at once; the onset says when
            else:
                due_ns = dev.clock.mono_at(requested)
        self._remember(cmd.cmd_id, result)
        self._answer(cmd, result, received_ns, repeat)
        if due_ns <= received_ns:
            self._act(cmd, received_ns, requested)
        else:
            dev.link.call_at(due_ns, lambda: self._act(cmd, due_ns, requested))

    def _remember(self, cmd_id: int, result: CommandResult) -> None:
        self._accepted[cmd_id] = result
        while len(self._accepted) > REMEMBERED_COMMANDS:
            self._accepted.popitem(last=False)

    def _check(self, cmd: Command) -> CommandResult:
        if NEEDS[cmd.action] not in self.device.caps:
            return CommandResult.UNSUPPORTED
        if not 0 <= cmd.channel < self.device.channels:
            return CommandResult.NO_SUCH_CHANNEL
        if cmd.action is Action.POLARITY and cmd.pattern not in POLARITY_VALUES:
            return CommandResult.UNSUPPORTED
        return CommandResult.OK

    def _answer(self, cmd: Command, result: CommandResult, received_ns: int, repeat: bool) -> None:
        dev = self.device
        dev.send(CommandAck(cmd.cmd_id, result))
        with dev.lock:
            dev.commands.append(
                TruthCommand(cmd.cmd_id, cmd.action, cmd.channel, result, received_ns, repeat)
            )

    def _act(self, cmd: Command, at_ns: int, requested: int | None) -> None:
        if self.dead:
            return
        ch = cmd.channel
        if cmd.action is Action.LIGHT:
            self.lit[ch] = cmd
            self._light_gen[ch] += 1
            onset = self._report(ch, EventKind.LIGHT_ON, cmd.cmd_id, at_ns, requested)
            gen = self._light_gen[ch]
            dark_ns = at_ns + (cmd.duration_ms or DEFAULT_LIGHT_MS) * 1_000_000
            dark_ticks = self.device.clock.ticks_at(dark_ns)
            self.device.link.call_at(
                dark_ns, lambda: self._auto_dark(ch, gen, cmd.cmd_id, dark_ns, dark_ticks)
            )
            self.device.light_came_on(onset)
        elif cmd.action is Action.DARK:
            if self.lit[ch] is not None:
                self.lit[ch] = None
                self._light_gen[ch] += 1
                self._report(ch, EventKind.LIGHT_OFF, cmd.cmd_id, at_ns, requested)
        elif cmd.action is Action.BEEP:
            self._report(ch, EventKind.BEEP, cmd.cmd_id, at_ns, requested)
        else:
            self.armed[ch] = cmd.action is Action.ARM

    def _auto_dark(self, ch: int, gen: int, cmd_id: int, at_ns: int, ticks: int) -> None:
        """Safety (section 6): a light nobody refreshed goes dark after its duration."""
        if self.dead or gen != self._light_gen[ch] or self.lit[ch] is None:
            return  # a later command changed the light
        self.lit[ch] = None
        self._light_gen[ch] += 1
        self._report(ch, EventKind.LIGHT_OFF, cmd_id, at_ns, ticks)

    def _report(
        self, ch: int, kind: EventKind, cmd_id: int, at_ns: int, requested: int | None
    ) -> TruthOnset:
        dev = self.device
        ticks = dev.emit(ch, kind, at_ns, cmd_id)
        onset = TruthOnset(ch, kind, cmd_id, requested, ticks, at_ns, dev.link.now_ns())
        with dev.lock:
            dev.onsets.append(onset)
        return onset
