"""Cues and commands (PROTOCOL.md section 6): sent ahead at a device tick, confirmed, re-sent.

A light or beep is planned in host time and sent as the device tick its clock fit maps that
time to; the device reports the tick at which it really happened (an EVENT whose ref is the
cmd_id), and that onset, not the plan, is what reaction times are measured from.
"""

from __future__ import annotations

import asyncio
import contextlib

from hardware.device_state import DeviceState
from hardware.errors import DeviceNotReady, HardwareError, LinkError
from hardware.messages import (
    CMD_FLAG_NOW,
    POLARITY_HIGH_BROKEN,
    POLARITY_LOW_BROKEN,
    Action,
    Command,
    CommandAck,
    CommandResult,
    Pattern,
)
from hardware.records import DeviceEvent
from hardware.registry import DeviceRegistry
from hardware.timebase import mono_us, ticks_to_us

# A cue must reach the device with time to spare: USB adds up to 20 ms, and a lost COMMAND
# needs an RTO or two to be re-sent.
MIN_CUE_LEAD_US = 100_000
MAX_COMMAND_TRIES = 5
Colour = tuple[int, int, int]
WHITE: Colour = (255, 255, 255)


class CueTooSoon(HardwareError):
    """A cue's target time is too close (or past) to be sent ahead as the protocol requires."""


class CommandFailed(HardwareError):
    """A device never acknowledged a command, or refused it."""


def reaction_time_us(onset: DeviceEvent, response: DeviceEvent) -> float:
    """Response tick minus onset tick over the fitted rate: one crystal, no offset involved."""
    if onset.clock_id != response.clock_id:
        raise ValueError(
            f"reaction time needs one device clock, got {onset.clock_id} and {response.clock_id}"
        )
    return ticks_to_us(response.ticks - onset.ticks, response.tick_hz_est)


class Cues:
    """Commands to any device in a registry, over whichever port carries it now."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    def _device(self, device_key: str) -> DeviceState:
        state = self.registry.by_key(device_key)
        if state is None:
            raise DeviceNotReady(f"no device {device_key} has been seen")
        if state.unsupported is not None:
            raise DeviceNotReady(state.unsupported)
        if not state.connected:
            raise DeviceNotReady(f"{device_key} is not connected")
        return state

    async def send_command(
        self,
        device_key: str,
        action: Action,
        channel: int,
        at_mono_us: int | None = None,
        colour: Colour = (0, 0, 0),
        pattern: Pattern = Pattern.SOLID,
        duration_ms: int = 0,
    ) -> CommandAck:
        """Send a command (at once when `at_mono_us` is None) and wait for its COMMAND_ACK."""
        state = self._device(device_key)
        command = self._command(
            state, state.allocate_cmd_id(), action, channel, at_mono_us, colour, pattern,
            duration_ms,
        )  # fmt: skip
        return await self._send_until_acked(state, command)

    async def schedule_light(
        self,
        device_key: str,
        channel: int,
        at_mono_us: int,
        colour: Colour = WHITE,
        pattern: Pattern = Pattern.SOLID,
        duration_ms: int = 0,
    ) -> asyncio.Future[DeviceEvent]:
        """Light up at a host time; the future resolves to the LIGHT_ON the device reports."""
        return await self._cue(
            device_key, Action.LIGHT, channel, at_mono_us, colour, pattern, duration_ms
        )

    async def schedule_beep(
        self, device_key: str, channel: int, at_mono_us: int, duration_ms: int = 0
    ) -> asyncio.Future[DeviceEvent]:
        """Beep at a host time; the future resolves to the BEEP event the device reports."""
        return await self._cue(
            device_key, Action.BEEP, channel, at_mono_us, (0, 0, 0), Pattern.SOLID, duration_ms
        )

    async def set_polarity(self, device_key: str, channel: int, high_means_broken: bool) -> None:
        """Tell a gate which level of a beam input means broken (PROTOCOL.md section 6,
        action 6). The device applies it at once and keeps it across power cycles; a
        receiver whose output goes high when blocked needs `high_means_broken`."""
        value = POLARITY_HIGH_BROKEN if high_means_broken else POLARITY_LOW_BROKEN
        ack = await self.send_command(
            device_key, Action.POLARITY, channel, None, pattern=Pattern(value)
        )
        if ack.result is not CommandResult.OK:
            why = {
                CommandResult.NO_SUCH_CHANNEL: "it has no such beam",
                CommandResult.UNSUPPORTED: "not supported by this device",
            }.get(ack.result, ack.result.name.lower())
            raise CommandFailed(
                f"{device_key} refused to set the polarity of channel {channel}: {why}"
            )

    async def _cue(
        self,
        device_key: str,
        action: Action,
        channel: int,
        at_mono_us: int,
        colour: Colour,
        pattern: Pattern,
        duration_ms: int,
    ) -> asyncio.Future[DeviceEvent]:
        state = self._device(device_key)
        if not state.ready:
            raise DeviceNotReady(f"{device_key}: clock not synchronised yet ({state.state})")
        lead_us = at_mono_us - mono_us()
        if lead_us < MIN_CUE_LEAD_US:
            raise CueTooSoon(
                f"{device_key}: a cue must be sent at least {MIN_CUE_LEAD_US // 1000} ms ahead;"
                f" this one is {lead_us / 1000:.1f} ms ahead"
            )
        cmd_id = state.allocate_cmd_id()
        command = self._command(
            state, cmd_id, action, channel, at_mono_us, colour, pattern, duration_ms
        )
        # Registered before sending: a fast device may report the onset with its ACK.
        onset: asyncio.Future[DeviceEvent] = asyncio.get_running_loop().create_future()
        state.onsets[cmd_id] = onset
        onset.add_done_callback(lambda _: state.onsets.pop(cmd_id, None))
        try:
            ack = await self._send_until_acked(state, command)
        except BaseException:
            onset.cancel()
            raise
        if ack.result not in (CommandResult.OK, CommandResult.LATE):
            onset.cancel()
            raise CommandFailed(
                f"{device_key} refused {action.name.lower()} on channel {channel}: "
                f"{ack.result.name.lower()}"
            )
        return onset

    @staticmethod
    def _command(
        state: DeviceState,
        cmd_id: int,
        action: Action,
        channel: int,
        at_mono_us: int | None,
        colour: Colour,
        pattern: Pattern,
        duration_ms: int,
    ) -> Command:
        if at_mono_us is None:
            return Command(cmd_id, action, channel, 0, CMD_FLAG_NOW, colour, pattern, duration_ms)
        fit = state.clock.fit
        if fit is None or not state.ready:
            raise DeviceNotReady(f"{state.key}: clock not synchronised yet ({state.state})")
        at_ticks = fit.mono_us_to_ticks(at_mono_us)
        return Command(cmd_id, action, channel, at_ticks & 0xFFFFFFFF, 0, colour, pattern,
                       duration_ms)  # fmt: skip

    async def _send_until_acked(self, state: DeviceState, command: Command) -> CommandAck:
        """Send, and re-send with the same cmd_id each RTO without an ACK, MAX tries in all.
        The device does a repeated cmd_id once, so a re-send can never double a cue."""
        ack: asyncio.Future[CommandAck] = asyncio.get_running_loop().create_future()
        state.pending_cmds[command.cmd_id] = ack
        started_us = mono_us()
        try:
            for _ in range(MAX_COMMAND_TRIES):
                owner = state.owner
                if owner is not None and state.connected:
                    # A port that went away raises: the next try may find the device back.
                    with contextlib.suppress(LinkError):
                        owner.send_message(state.info.addr, command)
                try:
                    return await asyncio.wait_for(asyncio.shield(ack), state.rto.us / 1e6)
                except TimeoutError:
                    state.rto.timed_out()
        finally:
            state.pending_cmds.pop(command.cmd_id, None)
            ack.cancel()
        raise CommandFailed(
            f"{state.key}: no COMMAND_ACK for {command.action.name.lower()} (cmd_id "
            f"{command.cmd_id}) after {MAX_COMMAND_TRIES} tries in "
            f"{(mono_us() - started_us) / 1000:.0f} ms"
        )
