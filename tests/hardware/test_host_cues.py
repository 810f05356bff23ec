"""Commands and cues against a scripted device: re-sends with one cmd_id, refusals, onsets."""

from __future__ import annotations

import asyncio

import pytest

from hardware.cues import MAX_COMMAND_TRIES, CommandFailed, CueTooSoon, reaction_time_us
from hardware.device import DeviceEvent, PortSession
from hardware.errors import DeviceNotReady
from hardware.messages import (
    CMD_FLAG_NOW,
    Action,
    Command,
    CommandAck,
    CommandResult,
    EventKind,
    Identify,
    Pattern,
)
from hardware.timebase import mono_us
from tests.hardware.host_fake import DEVICE_ID, FakeDevice, run
from tests.support import wait_until_async

KEY = f"gate-{DEVICE_ID:08X}"


async def ready_session(device: FakeDevice, events: list[DeviceEvent]) -> PortSession:
    session = PortSession(device.port, on_event=events.append)
    await session.start()
    device.start_reading()
    await device.expect(Identify)
    device.hello()
    await session.wait_ready(timeout_s=3.0)
    return session


def test_command_is_resent_with_the_same_cmd_id_until_acked() -> None:
    async def scenario() -> None:
        device = FakeDevice()
        session = await ready_session(device, [])
        try:
            seen: list[Command] = []

            def third_time_lucky(cmd: Command) -> bool:
                seen.append(cmd)
                return len(seen) >= 3

            device.ack_commands = third_time_lucky
            ack = await session.send_command(KEY, Action.LIGHT, 0, None, (0, 255, 0))
            assert ack == CommandAck(seen[0].cmd_id, CommandResult.OK)
            assert len(seen) == 3 and len({c.cmd_id for c in seen}) == 1
            assert seen[0].flags == CMD_FLAG_NOW and seen[0].colour == (0, 255, 0)
            # The next command gets a new id.
            device.ack_commands = lambda _: True
            second = await session.send_command(KEY, Action.DARK, 0)
            assert second.cmd_id == seen[0].cmd_id + 1
        finally:
            await session.stop()
            device.unplug()

    run(scenario)


def test_command_never_acked_fails_clearly_after_five_tries() -> None:
    async def scenario() -> None:
        device = FakeDevice()
        session = await ready_session(device, [])
        try:
            device.ack_commands = lambda _: False
            with pytest.raises(CommandFailed, match=rf"{KEY}.*no COMMAND_ACK.*5 tries"):
                await session.send_command(KEY, Action.BEEP, 1)
            sent = device.got(Command)
            assert len(sent) == MAX_COMMAND_TRIES == 5
            assert len({c.cmd_id for c in sent}) == 1
        finally:
            await session.stop()
            device.unplug()

    run(scenario)


def test_schedule_light_refuses_a_device_whose_clock_is_not_ready() -> None:
    async def scenario() -> None:
        device = FakeDevice(answer_pings=False)
        session = PortSession(device.port, on_event=lambda _: None)
        await session.start()
        device.start_reading()
        try:
            await device.expect(Identify)
            device.hello()
            await wait_until_async("the device", lambda: 0 in session.devices, 2.0)
            with pytest.raises(DeviceNotReady, match="not synchronised"):
                await session.schedule_light(KEY, 0, mono_us() + 500_000)
            with pytest.raises(DeviceNotReady, match="no device"):
                await session.schedule_light("pod-FFFFFFFF", 0, mono_us() + 500_000)
            assert device.got(Command) == []
        finally:
            await session.stop()
            device.unplug()

    run(scenario)


def test_schedule_light_refuses_a_target_under_100_ms_ahead() -> None:
    async def scenario() -> None:
        device = FakeDevice()
        session = await ready_session(device, [])
        try:
            with pytest.raises(CueTooSoon, match="at least 100 ms ahead"):
                await session.schedule_light(KEY, 0, mono_us() + 60_000)
            with pytest.raises(CueTooSoon):
                await session.schedule_beep(KEY, 0, mono_us() - 1_000)
            assert device.got(Command) == []
        finally:
            await session.stop()
            device.unplug()

    run(scenario)


def test_scheduled_light_resolves_to_its_onset_and_reaction_time_uses_ticks() -> None:
    async def scenario() -> None:
        device = FakeDevice()
        events: list[DeviceEvent] = []
        session = await ready_session(device, events)
        try:
            target_us = mono_us() + 200_000
            # Read with no await before the call, so no PONG can refit the clock in between:
            # the command must carry the target as this fit converts it. How near the fit is
            # to the device's counter is the clock tests' concern, not a cue's.
            fit = session.devices[0].clock.fit
            assert fit is not None
            onset = await session.schedule_light(
                KEY, 0, target_us, (255, 0, 0), Pattern.BLINK_FAST, 1500
            )
            (cmd,) = device.got(Command)
            assert (cmd.action, cmd.flags, cmd.colour, cmd.duration_ms) == (
                Action.LIGHT, 0, (255, 0, 0), 1500,
            )  # fmt: skip
            assert cmd.at_tick32 == fit.mono_us_to_ticks(target_us) & 0xFFFFFFFF
            assert not onset.done()
            device.event(0, kind=EventKind.LIGHT_ON, tick=cmd.at_tick32 + 3, ref=cmd.cmd_id)
            light = await asyncio.wait_for(onset, 2.0)
            assert (light.kind, light.ref, light.ticks & 0xFFFFFFFF) == (
                EventKind.LIGHT_ON, cmd.cmd_id, cmd.at_tick32 + 3,
            )  # fmt: skip
            device.event(1, kind=EventKind.POD_TOUCHED, tick=cmd.at_tick32 + 3 + 412_345)
            await wait_until_async("the touch", lambda: len(events) == 2, 2.0)
            rt_us = reaction_time_us(light, events[1])
            assert abs(rt_us - 412_345) < 412_345 * 300e-6
            beep = await session.schedule_beep(KEY, 0, mono_us() + 150_000, 200)
            (_, beep_cmd) = device.got(Command)
            assert beep_cmd.action == Action.BEEP and beep_cmd.cmd_id != cmd.cmd_id
            device.event(2, kind=EventKind.BEEP, tick=beep_cmd.at_tick32, ref=beep_cmd.cmd_id)
            assert (await asyncio.wait_for(beep, 2.0)).ref == beep_cmd.cmd_id
        finally:
            await session.stop()
            device.unplug()

    run(scenario)


def test_reaction_time_refuses_two_clocks() -> None:
    def ev(device: str) -> DeviceEvent:
        return DeviceEvent(device, 1, 0, 0, EventKind.POD_TOUCHED, 5, 1e6, None, 0)

    with pytest.raises(ValueError, match="one device clock"):
        reaction_time_us(ev("pod-1"), ev("pod-2"))


def test_refused_cue_raises() -> None:
    async def scenario() -> None:
        device = FakeDevice()
        session = await ready_session(device, [])
        try:
            device.ack_commands = lambda _: False
            task = asyncio.ensure_future(session.schedule_light(KEY, 9, mono_us() + 300_000))
            (cmd,) = await device.expect(Command)
            device.send(CommandAck(cmd.cmd_id, CommandResult.NO_SUCH_CHANNEL))
            with pytest.raises(CommandFailed, match="no_such_channel"):
                await asyncio.wait_for(task, 2.0)
        finally:
            await session.stop()
            device.unplug()

    run(scenario)
