"""The outputs a rep needs: the reactive start's cue and the lit target of a reactive cut.

Kept apart from the coordinator because these are the only places a rep sends commands to
devices, and their failure modes (a pod unplugged, a command refused) are device matters: the
rep is voided with the reason, the session goes on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from drills import Stamp, TimeBasis
from drills.crossing import DEFAULT_REARM_US, DEFAULT_WINDOW_US, MAX_REARM_US, GateRule, Trigger
from drills.model import Cue, Drill
from hardware.cues import MIN_CUE_LEAD_US, Colour
from hardware.device import DeviceEvent
from hardware.messages import Action, CommandAck, Pattern
from hardware.timebase import mono_us

GREEN: Colour = (0, 255, 0)
# A start cue is a flash or a short beep; a lit target stays on while the athlete cuts to it.
CUE_LIGHT_MS = 1_000
CUE_BEEP_MS = 250
TARGET_LIGHT_MS = 3_000
# A cue asked for "now" is scheduled this far ahead: the device must hear it in time.
MIN_LEAD_US = MIN_CUE_LEAD_US + 20_000
# How long after the requested time the onset event may take to arrive before the rep is
# voided: a re-sent command and a slow link, with room to spare.
ONSET_GRACE_S = 2.0


@dataclass(frozen=True)
class Binding:
    """A drill role's device input or output: which device, which channel, and for a gate the
    rule that finds the crossing among its beam's edges (drills/crossing.py).

    A binding that names no rule keeps the raw path of before: every edge goes to the engine
    as it comes (a hold start needs the beam's clearing, which the rules do not pass on).
    """

    device: str
    channel: int  # the only beam's channel, or the top beam's for dual-beam
    trigger: Trigger = Trigger.FIRST_BREAK
    bottom: int | None = None  # a two-beam rule: the bottom beam's channel
    rearm_ms: int | None = None  # None: the drill's re-arm (`rearm_s`), else the rule's default
    window_ms: int | None = None  # a windowed rule: None for the default

    @property
    def channels(self) -> tuple[int, ...]:
        return (self.channel,) if self.bottom is None else (self.channel, self.bottom)

    @property
    def filtered(self) -> bool:
        """Whether edges go through a CrossingDetector (a rule or a re-arm was chosen)."""
        return self.trigger is not Trigger.FIRST_BREAK or self.rearm_ms is not None

    def beam_of(self, channel: int) -> int | None:
        """0 for the only or top beam, 1 for the bottom one, None if not this binding's."""
        return self.channels.index(channel) if channel in self.channels else None

    def rule(self, drill: Drill | None = None) -> GateRule:
        """The rule; a binding that sets no re-arm takes the drill's own `rearm_s` (a walking
        drill's bodies stay in a beam longer than a sprint's), else the rule's default."""
        if self.rearm_ms is not None:
            rearm_us = self.rearm_ms * 1000
        else:
            rearm_us = DEFAULT_REARM_US if drill is None else min(drill.rearm_us, MAX_REARM_US)
        return GateRule(
            self.trigger,
            window_us=DEFAULT_WINDOW_US if self.window_ms is None else self.window_ms * 1000,
            rearm_us=rearm_us,
        )


class Outputs(Protocol):
    """What the coordinator needs of the device owner (server.devices.service.DeviceService)."""

    async def send_command(
        self,
        device_key: str,
        action: Action,
        channel: int,
        at_mono_us: int | None = None,
        colour: Colour = (0, 0, 0),
        pattern: Pattern = Pattern.SOLID,
        duration_ms: int = 0,
    ) -> CommandAck: ...

    async def schedule_light(
        self,
        device_key: str,
        channel: int,
        at_mono_us: int,
        colour: Colour = ...,
        pattern: Pattern = Pattern.SOLID,
        duration_ms: int = 0,
    ) -> asyncio.Future[DeviceEvent]: ...

    async def schedule_beep(
        self, device_key: str, channel: int, at_mono_us: int, duration_ms: int = 0
    ) -> asyncio.Future[DeviceEvent]: ...


def stamp_of(event: DeviceEvent) -> Stamp:
    """The engine's view of a device event: mapped host time plus the raw ticks.

    Until the device's clock has a fit the receipt time stands in, and the stamp says so
    (TimeBasis.RECEIPT_ONLY): the engine still times with it, a split marks it.
    """
    return Stamp(
        mono_us=event.received_mono_us if event.mono_us is None else event.mono_us,
        clock=event.clock_id, ticks=event.ticks, tick_hz_est=event.tick_hz_est,
        sync_error_us=event.sync_error_us, manual=event.manual, coarse=event.coarse,
        basis=TimeBasis.of_device(event.mono_us, event.by_receipt),
    )  # fmt: skip


def cue_role(drill: Drill) -> str:
    """Where a reactive start's cue is given: the file's `cue_role`, else the start gate."""
    return drill.start.cue_role or drill.start_role


async def give_cue(
    outputs: Outputs, drill: Drill, device: str, channel: int, at_mono_us: int
) -> DeviceEvent:
    """Schedule the start cue at a host time and wait for the device's onset event.

    The device fires it at its own tick for `at_mono_us`, so the foreperiod is as exact as
    the clock model; the onset event's stamp, not the request, is what starts the clock.
    """
    if drill.start.cue is Cue.BEEP:
        onset = await outputs.schedule_beep(device, channel, at_mono_us, duration_ms=CUE_BEEP_MS)
    else:
        onset = await outputs.schedule_light(
            device, channel, at_mono_us, colour=GREEN, duration_ms=CUE_LIGHT_MS
        )
    return await wait_onset(onset, at_mono_us)


async def wait_onset(onset: asyncio.Future[DeviceEvent], at_mono_us: int) -> DeviceEvent:
    """The device's report of a light or beep asked for at `at_mono_us`; TimeoutError if it
    has not come ONSET_GRACE_S after that time."""
    wait_s = max(0.0, (at_mono_us - mono_us()) / 1e6) + ONSET_GRACE_S
    return await asyncio.wait_for(onset, timeout=wait_s)


async def light_target(outputs: Outputs, device: str, channel: int) -> CommandAck:
    """Light the chosen target at once: the athlete is already running at the trigger."""
    return await outputs.send_command(
        device, Action.LIGHT, channel, None, colour=GREEN, duration_ms=TARGET_LIGHT_MS
    )
