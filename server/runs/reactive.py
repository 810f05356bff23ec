"""A gate rep's reactive start and lit target: the coordinator's side of server/runs/signals.py.

signals.py sends the commands; this decides when (the cue at the planned foreperiod, the
target when the athlete reaches its trigger gate), what waits for the cue's onset, and what a
failed command does to the rep (it is voided with the reason; the session goes on).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from drills import RunState, Stamp
from hardware.errors import HardwareError
from server.live.messages import LiveType
from server.runs import signals
from server.runs.active_run import ActiveRun
from server.runs.signals import Binding

if TYPE_CHECKING:
    from server.runs.coordinator import RunCoordinator

# Crossings heard this close before a reactive cue's requested time wait for the onset event
# before they are judged: the cue and the break come from different devices, and a break
# stamped after the onset must not be called a false start because it arrived first.
CUE_HOLD_MARGIN_US = 20_000


def waits_for_onset(active: ActiveRun, stamp: Stamp) -> bool:
    """Whether a crossing must wait for the cue's onset event before it can be judged."""
    cue_at = active.cue_at_mono_us
    return (
        active.engine.state is RunState.WAITING_CUE
        and cue_at is not None
        and stamp.mono_us >= cue_at - CUE_HOLD_MARGIN_US
    )


class ReactiveCues:
    """Gives one coordinator's cues and lights its targets."""

    def __init__(self, coordinator: RunCoordinator) -> None:
        self.coordinator = coordinator
        self._background: set[asyncio.Task[None]] = set()

    async def give_cue(self, active: ActiveRun) -> None:
        """The start cue at `active.cue_at_mono_us`; its onset starts the clock, and the
        crossings held for it are judged after."""
        coordinator = self.coordinator
        drill, at = active.drill, active.cue_at_mono_us
        assert at is not None and coordinator.outputs is not None
        binding = coordinator.layout[signals.cue_role(drill)]
        try:
            onset = await signals.give_cue(
                coordinator.outputs, drill, binding.device, binding.channel, at
            )
        except (HardwareError, TimeoutError) as exc:
            if coordinator.holds(active) and active.engine.state is RunState.WAITING_CUE:
                active.engine.void(f"the cue could not be given: {exc or 'no onset event'}")
                coordinator.finish(active)
            return
        if not coordinator.holds(active):
            return
        splits = active.engine.cue_onset(signals.stamp_of(onset))
        coordinator.ledger.advance(active, splits, onset)
        held, active.held = active.held, []
        for role, broken, stamp, event in held:
            if coordinator.holds(active):
                coordinator.gates.feed(active, role, broken, stamp, event)

    def maybe_light_target(self, active: ActiveRun) -> None:
        """Light the rep's drawn target once the athlete has crossed the drill's trigger gate
        (`lit_at`), so the cut is a reaction to the light, not known before the run."""
        choice = active.drill.target_choice
        plan = active.engine.cue_plan
        if active.target_lit or choice is None or plan is None or plan.target is None:
            return
        if not active.engine.crossed(choice.lit_at):
            return
        active.target_lit = True
        binding = self.coordinator.layout[plan.target]
        # Not cancelled when the rep ends: a command half sent is still worth its ACK.
        task = asyncio.get_running_loop().create_task(self._light(active, binding, plan.target))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _light(self, active: ActiveRun, binding: Binding, role: str) -> None:
        coordinator = self.coordinator
        assert coordinator.outputs is not None
        try:
            await signals.light_target(coordinator.outputs, binding.device, binding.channel)
        except HardwareError as exc:
            if coordinator.holds(active):
                active.engine.void(f"target {role} could not be lit: {exc}")
                coordinator.finish(active)
            return
        recorder = coordinator.recorder
        recorder.live.publish({"type": LiveType.CUE, **active.context, "target": role,
                               "station": recorder.station_name})  # fmt: skip
