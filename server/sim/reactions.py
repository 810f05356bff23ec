"""What virtual athletes do when a light on the simulated hub comes on.

A reactive start's athlete sets off a reaction time after the cue; one running a reactive
target cuts to whichever target lights; one doing a pod series touches a green pod after
reacting and reaching, and mostly leaves a red one alone. The hub calls `on_light` on its
port thread (it is given as a light hook when the hub is built), so keep it quick.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from drills import Drill
from hardware.messages import Caps, EventKind
from hardware.sim.athlete import VirtualAthlete, reaction_time_s
from hardware.sim.device import VirtualDevice
from hardware.sim.models import TruthOnset
from server.runs.coordinator import Binding
from server.sim.reps import SimRep, plan_rep

# Pod series: the colour the athlete must not touch, how often they touch it anyway, and how
# long the hand takes from leaving to reaching a pod.
NO_GO_COLOUR = (255, 0, 0)
NO_GO_ERROR_RATE = 0.05
REACH_S = (0.25, 0.45)
# How long the athlete stays in the lit target's beam.
TARGET_BREAK_NS = 80_000_000


@dataclass
class ReactiveStart:
    """A rep waiting for its start cue: the athlete sets off a reaction time after it."""

    rep: SimRep
    drill: Drill
    layout: Mapping[str, Binding]
    athlete: VirtualAthlete
    rng: random.Random
    bounce_prob: float
    channel: int


@dataclass
class TargetRun:
    """A rep whose athlete runs to whichever target lights."""

    rep: SimRep
    athlete: VirtualAthlete
    lit_at: str  # the trigger role: the athlete's speed there carries them to the target
    distance_m: float
    reaction_s: float
    layout: Mapping[str, Binding]


@dataclass
class _PodSeries:
    rep: SimRep
    athlete: VirtualAthlete
    rng: random.Random


class Reactions:
    """The athletes' side of the hub's lights: at most one start cue, one target and one pod
    series awaited at a time, as one athlete on the course does."""

    def __init__(self, bodies: bool = False) -> None:
        # Whole bodies (hands, knees and heels around the torso) break the beams.
        self.bodies = bodies
        self._start: ReactiveStart | None = None
        self._target: TargetRun | None = None
        # Kept once set, as a pod's athlete stays by the pods until another series starts.
        self._pods: _PodSeries | None = None

    def await_cue(self, start: ReactiveStart) -> None:
        self._start = start

    def await_target(self, run: TargetRun) -> None:
        self._target = run

    def touch_pods(self, rep: SimRep, athlete: VirtualAthlete, rng: random.Random) -> None:
        self._pods = _PodSeries(rep, athlete, rng)

    def on_light(self, device: VirtualDevice, onset: TruthOnset) -> None:
        """On the port thread: the athlete sees a start cue or the lit target and goes, or
        reaches for the pod."""
        if onset.kind is not EventKind.LIGHT_ON:
            return
        self._see(device, onset)
        self._touch(device, onset)

    def _see(self, device: VirtualDevice, onset: TruthOnset) -> None:
        start = self._start
        if start is not None and onset.channel == start.channel:
            self._start = None
            set_off_ns = onset.mono_ns + round(reaction_time_s(start.athlete, start.rng) * 1e9)
            start.rep.cue_ns = onset.mono_ns
            plan_rep(
                device, start.drill, start.layout, start.athlete, start.rng,
                bounce_prob=start.bounce_prob, set_off_ns=set_off_ns, rep=start.rep,
                bodies=self.bodies,
            )  # fmt: skip
            return
        run = self._target
        if run is None:
            return
        role = next((r for r, b in run.layout.items() if b.channel == onset.channel), None)
        if role is None:
            return
        self._target = None
        trigger = next(c for c in run.rep.crossings if c.role == run.lit_at)
        speed_mps = run.athlete.speed_at(trigger.t_s, trigger.backward)
        at_ns = onset.mono_ns + round((run.reaction_s + run.distance_m / speed_mps) * 1e9)
        device.schedule_edge(onset.channel, EventKind.BEAM_BROKEN, at_ns)
        device.schedule_edge(onset.channel, EventKind.BEAM_RESTORED, at_ns + TARGET_BREAK_NS)
        run.rep.target_role, run.rep.target_ns = role, at_ns
        run.rep.breaks.append((role, at_ns))

    def _touch(self, device: VirtualDevice, onset: TruthOnset) -> None:
        """A green pod is touched after reacting and reaching for it, a red one mostly not
        (a few no-go errors, as people make them)."""
        pods = self._pods
        if pods is None or Caps.TOUCH not in device.caps:
            return
        command = device.lit[onset.channel]
        no_go = command is not None and command.colour == NO_GO_COLOUR
        if no_go and pods.rng.random() >= NO_GO_ERROR_RATE:
            return
        delay_s = reaction_time_s(pods.athlete, pods.rng) + pods.rng.uniform(*REACH_S)
        touch_ns = onset.mono_ns + round(delay_s * 1e9)
        pods.rep.touches.append((onset.channel, onset.mono_ns, touch_ns))
        device.touch(touch_ns, onset.channel)
