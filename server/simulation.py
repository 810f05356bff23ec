"""Virtual athletes running real drills through a simulated hub.

The only place that knows both a drill (roles, route, start type) and the simulator
(channels, true times), which is why it lives in the server and not in either layer.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from drills import Drill, Movement, StartType, Timing
from drills.crossing import Trigger
from drills.model import Leg
from hardware.device import PortSession
from hardware.messages import Caps, EventKind
from hardware.sim.athlete import VirtualAthlete, reaction_time_s
from hardware.sim.device import VirtualDevice
from hardware.sim.gait import Direction
from hardware.sim.hub import SimClock, VirtualHub
from hardware.sim.models import TruthOnset
from server.body_passes import EdgeScheduler, body_of, schedule_body_pass
from server.devices.binding import roles_to_bind
from server.devices.service import DeviceManager
from server.runs.coordinator import Binding

BACKWARD_MOVEMENTS = frozenset({Movement.BACKPEDAL, Movement.BACKWARD_RUN, Movement.BACKWARD_WALK})
# A second break of the same beam shortly after the first: the arm, then the leg.
BOUNCE_AFTER_S = (0.015, 0.040)
# Legs meeting at more than this angle are a change of direction: the athlete slows to a
# near stop and accelerates again, plus the plant itself.
TURN_ANGLE_DEG = 60.0
TURN_S = 0.25
# Side-shuffling is slower than running the same distance.
SHUFFLE_FACTOR = 1.45
# Hold start: the athlete settles into the beam this long before the hold must begin.
HOLD_SETTLE_S = 0.4
HOLD_EXTRA_S = 0.3
# Pod series: the colour the athlete must not touch, how often they touch it anyway, and how
# long the hand takes from leaving to reaching a pod.
NO_GO_COLOUR = (255, 0, 0)
NO_GO_ERROR_RATE = 0.05
REACH_S = (0.25, 0.45)


def layout_for_hub(drill: Drill, hub_key: str, beams: int = 1) -> dict[str, Binding]:
    """Bind every role that needs a device to the hub's channels: start=0, next=1, ...; with
    two beams per role, start=0 (top) and 1 (bottom), the next 2 and 3, ..., as dual-longest."""
    roles = roles_to_bind(drill)
    if beams == 2:
        return {
            role: Binding(hub_key, 2 * i, Trigger.DUAL_LONGEST, bottom=2 * i + 1)
            for i, role in enumerate(roles)
        }
    return {role: Binding(hub_key, ch) for ch, role in enumerate(roles)}


def channels_needed(drill: Drill, beams: int = 1) -> int:
    return max(2, len(drill.device_roles) * beams)


@dataclass(frozen=True)
class Crossing:
    """A device role the athlete passes, and when, in seconds from setting off."""

    role: str
    t_s: float
    backward: bool
    lateral: bool = False  # reached side-shuffling


def _direction(drill: Drill, leg: Leg) -> tuple[float, float] | None:
    a, b = drill.roles.get(leg.from_role), drill.roles.get(leg.to_role)
    if a is None or b is None:
        return None
    dx, dy = b.x_m - a.x_m, b.y_m - a.y_m
    norm = math.hypot(dx, dy)
    return None if norm == 0 else (dx / norm, dy / norm)


def _is_turn(drill: Drill, before: Leg, after: Leg) -> bool:
    if after.movement is Movement.TURN or before.movement is Movement.TURN:
        return False  # the turn leg itself is the change of direction
    u, v = _direction(drill, before), _direction(drill, after)
    if u is None or v is None:
        return False
    cos = max(-1.0, min(1.0, u[0] * v[0] + u[1] * v[1]))
    return math.degrees(math.acos(cos)) > TURN_ANGLE_DEG


def route_crossings(drill: Drill, athlete: VirtualAthlete, rng: random.Random) -> list[Crossing]:
    """Every device crossing along the drill's route, timed by the athlete's body model.

    Straight stretches run on one acceleration curve; at each change of direction the
    athlete starts again from a near stop after a plant. The route starts wherever the
    file's first leg starts (a run-in line for 505 and flying sprints).
    """
    legs = drill.route or tuple(
        Leg(s.name, s.from_role, s.to_role, s.distance_m, s.movement) for s in drill.segments
    )
    devices = set(drill.device_roles)
    if drill.target_choice is not None:
        devices.add(drill.target_choice.role)  # the stand-in for whichever target lights
    crossings: list[Crossing] = []
    if legs[0].from_role in devices:
        first = legs[0].movement
        crossings.append(
            Crossing(legs[0].from_role, 0.0, first in BACKWARD_MOVEMENTS, first is Movement.SHUFFLE)
        )
    stretch_start_s = 0.0
    stretch: list[Leg] = []

    def run_stretch() -> float:
        backward = any(leg.movement in BACKWARD_MOVEMENTS for leg in stretch)
        distances = [0.0]
        for leg in stretch:
            distances.append(distances[-1] + leg.distance_m)
        times = athlete.crossing_times_s(distances, backward, rng)
        base = times[0]
        for leg, t in zip(stretch, times[1:], strict=True):
            factor = SHUFFLE_FACTOR if leg.movement is Movement.SHUFFLE else 1.0
            if leg.to_role in devices:
                crossings.append(
                    Crossing(
                        leg.to_role, stretch_start_s + (t - base) * factor, backward,
                        leg.movement is Movement.SHUFFLE,
                    )
                )  # fmt: skip
        factor = SHUFFLE_FACTOR if stretch[-1].movement is Movement.SHUFFLE else 1.0
        return stretch_start_s + (times[-1] - base) * factor

    for index, leg in enumerate(legs):
        if stretch and _is_turn(drill, legs[index - 1], leg):
            stretch_start_s = run_stretch() + TURN_S
            stretch = []
        stretch.append(leg)
    run_stretch()
    return crossings


@dataclass
class SimRep:
    """What one scheduled rep will do, in true host-monotonic ns, for checking results."""

    breaks: list[tuple[str, int]] = field(default_factory=list)  # (role, true ns), in order
    clock_start_ns: int | None = None  # auto: the start break; hold: the release
    go_at_ns: int | None = None  # coach-go: when the virtual coach taps GO
    go_stamp_mono_us: int | None = None  # filled when GO has been given
    cue_ns: int | None = None  # reactive start: when the cue really came on
    crossings: list[Crossing] = field(default_factory=list)  # the route, as planned
    touches: list[tuple[int, int, int]] = field(default_factory=list)  # pods: (channel, lit, touch)
    target_role: str | None = None  # reactive target: the one the athlete ran to
    target_ns: int | None = None


@dataclass
class _ReactiveStart:
    """A rep waiting for its start cue: the athlete sets off a reaction time after it."""

    rep: SimRep
    drill: Drill
    layout: Mapping[str, Binding]
    athlete: VirtualAthlete
    rng: random.Random
    bounce_prob: float
    channel: int


@dataclass
class _TargetRun:
    rep: SimRep
    athlete: VirtualAthlete
    lit_at: str  # the trigger role: the athlete's speed there carries them to the target
    distance_m: float
    reaction_s: float


def schedule_rep(
    hub: VirtualHub,
    drill: Drill,
    layout: Mapping[str, Binding],
    athlete: VirtualAthlete,
    rng: random.Random,
    lead_s: float = 0.5,
    bounce_prob: float = 0.0,
    bodies: bool = False,
) -> list[tuple[str, int]]:
    """Make the athlete run one auto-start rep starting `lead_s` from now; returns the breaks
    (each the torso's true time: `bodies` adds the limbs' breaks around it)."""
    return plan_rep(hub, drill, layout, athlete, rng, lead_s, bounce_prob, bodies=bodies).breaks


def plan_rep(
    hub: EdgeScheduler,
    drill: Drill,
    layout: Mapping[str, Binding],
    athlete: VirtualAthlete,
    rng: random.Random,
    lead_s: float = 0.5,
    bounce_prob: float = 0.0,
    set_off_ns: int | None = None,
    rep: SimRep | None = None,
    bodies: bool = False,
) -> SimRep:
    """Schedule every beam edge of one rep; coach GO, cues and lit targets are the caller's
    part (SimRig.run_rep does all three)."""
    rep = rep or SimRep()
    if set_off_ns is None:
        set_off_ns = time.monotonic_ns() + round(lead_s * 1e9)
    kind = drill.start.type
    if kind is StartType.COACH_GO:
        rep.go_at_ns = set_off_ns
        set_off_ns += round(reaction_time_s(athlete, rng) * 1e9)
    crossings = rep.crossings = route_crossings(drill, athlete, rng)
    target = drill.target_choice
    for index, crossing in enumerate(crossings):
        if target is not None and crossing.role == target.role:
            break  # the athlete cannot know the target before it lights
        at_ns = set_off_ns + round(crossing.t_s * 1e9)
        channel = layout[crossing.role].channel
        speed = athlete.speed_at(crossing.t_s, crossing.backward)
        if index == 0 and kind is StartType.HOLD:
            # Standing in the beam: break it, hold, and the release starts the clock.
            hold_s = (drill.start.hold_us or 0) / 1e6 + HOLD_EXTRA_S
            hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns - round(
                (hold_s + HOLD_SETTLE_S) * 1e9))  # fmt: skip
            hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns)
            rep.clock_start_ns = at_ns
            rep.breaks.append((crossing.role, at_ns))
            continue
        if bodies:
            # Torso, arms and legs (hardware/sim/body.py); the truth stays the torso's at_ns.
            direction: Direction = (
                "lateral" if crossing.lateral else "backward" if crossing.backward else "forward"
            )
            schedule_body_pass(
                hub, layout[crossing.role].channels, at_ns, direction, speed, body_of(athlete),
                rng,
            )  # fmt: skip
        else:
            _schedule_pass(hub, channel, at_ns, athlete.beam_clear_s(speed), rng, bounce_prob)
        if index == 0 and kind is StartType.AUTO:
            rep.clock_start_ns = at_ns
        elif index == 0 and kind is StartType.REACTIVE:
            rep.clock_start_ns = rep.cue_ns
        rep.breaks.append((crossing.role, at_ns))
    return rep


def _schedule_pass(
    hub: EdgeScheduler, channel: int, at_ns: int, clear_s: float, rng: random.Random,
    bounce_prob: float,
) -> None:  # fmt: skip
    # Kept past any bounce, so the restore really is the body leaving the beam.
    clear_s = max(clear_s, 0.06)
    hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
    if rng.random() < bounce_prob:
        bounce_ns = at_ns + round(rng.uniform(*BOUNCE_AFTER_S) * 1e9)
        gap_ns = (bounce_ns - at_ns) // 2
        hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + gap_ns)
        hub.schedule_edge(channel, EventKind.BEAM_BROKEN, bounce_ns)
    hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + round(clear_s * 1e9))


class SimRig:
    """A simulated hub opened through the real driver, with a drill's roles bound to it.

    Its channels have lights and touch pads too (a gate with an LED, or a hub of pods), so
    reactive targets can be lit and pod series run on it.
    """

    def __init__(
        self, hub: VirtualHub, session: PortSession, drill: Drill, bodies: bool = False,
        beams: int = 1,
    ) -> None:  # fmt: skip
        self.hub = hub
        self.session = session
        self.drill = drill
        # Whole bodies (hands, knees and heels around the torso) break the beams, and each
        # role has `beams` beams: 2 for a dual-beam gate.
        self.bodies = bodies
        self.beams = beams
        self.key = next(iter(session.devices.values())).info.key
        self.layout = layout_for_hub(drill, self.key, beams)
        self._target: _TargetRun | None = None
        self._start: _ReactiveStart | None = None
        self._target_layout: Mapping[str, Binding] = {}
        hub.device.on_light(self._on_light)

    @classmethod
    async def start(
        cls, devices: DeviceManager, drill: Drill, seed: int, drift_ppm: float = 80.0,
        channels: int | None = None, bodies: bool = False, beams: int = 1,
    ) -> SimRig:  # fmt: skip
        rng = random.Random(seed)
        clock = SimClock(
            origin_ns=time.monotonic_ns(), offset_ticks=rng.getrandbits(32), drift_ppm=drift_ppm
        )
        # Each simulated hub its own id: the demo's lanes and the plan simulator start hubs
        # from the same seed, and two devices with one id are two rows sharing one name.
        taken = {state.info.device_id for state in devices.registry.all()}
        device_id = 0x5100_0000 | rng.getrandbits(16)
        while device_id in taken:
            device_id = 0x5100_0000 | rng.getrandbits(16)
        hub = VirtualHub(
            device_id=device_id,
            channels=channels or channels_needed(drill, beams),
            clock=clock,
            seed=seed,
            caps=Caps.BEAM | Caps.LIGHT | Caps.TOUCH,
        )
        port = hub.start()
        try:
            session = await devices.open(port)
            assert isinstance(session, PortSession)  # a plain path: never an adapter's
            await session.wait_ready(timeout_s=10.0)
        except BaseException:
            hub.stop()
            raise
        return cls(hub, session, drill, bodies, beams)

    def layout_for(self, drill: Drill) -> dict[str, Binding]:
        if channels_needed(drill, self.beams) > self.hub.channels:
            raise RuntimeError(f"{drill.slug} needs more channels than the simulated hub has")
        return layout_for_hub(drill, self.key, self.beams)

    def run_rep(
        self, drill: Drill, athlete: VirtualAthlete, rng: random.Random,
        go: Callable[[], object] | None, lead_s: float = 0.5, bounce_prob: float = 0.0,
        layout: Mapping[str, Binding] | None = None,
    ) -> SimRep:  # fmt: skip
        """Schedule a rep of any gate drill: the virtual coach taps GO through `go` (the
        coordinator's), and the athlete cuts to whichever target lights."""
        layout = layout or self.layout_for(drill)
        if drill.timing is Timing.INTERVALS:
            return SimRep()  # the group walks to the beeps: nothing for a device to see
        if drill.timing is Timing.PODS:
            rep = SimRep()
            self.hub.device.touch_after = self._pod_policy(rep, athlete, rng)
            if drill.start.type is StartType.COACH_GO:
                rep.go_at_ns = time.monotonic_ns() + round(lead_s * 1e9)
                self._tap_go(rep, go, drill)
            return rep
        if drill.start.type is StartType.REACTIVE:
            role = drill.start.cue_role or drill.start_role
            rep = SimRep()
            self._start = _ReactiveStart(
                rep, drill, layout, athlete, rng, bounce_prob, layout[role].channel
            )
        else:
            rep = plan_rep(
                self.hub, drill, layout, athlete, rng, lead_s, bounce_prob, bodies=self.bodies
            )
        choice = drill.target_choice
        if choice is not None:
            leg = next(s for s in drill.segments if s.to_role == choice.role)
            self._target_layout = layout
            self._target = _TargetRun(
                rep, athlete, choice.lit_at, distance_m=leg.distance_m,
                reaction_s=reaction_time_s(athlete, rng),
            )  # fmt: skip
        if rep.go_at_ns is not None:
            self._tap_go(rep, go, drill)
        return rep

    @staticmethod
    def _tap_go(rep: SimRep, go: Callable[[], object] | None, drill: Drill) -> None:
        """The virtual coach taps GO at the planned time."""
        if go is None:
            raise RuntimeError(f"{drill.slug} starts on GO: give run_rep the coach's go")
        assert rep.go_at_ns is not None
        delay_s = max(0.0, (rep.go_at_ns - time.monotonic_ns()) / 1e9)

        def tap() -> None:
            stamp = go()
            rep.go_stamp_mono_us = getattr(stamp, "mono_us", None)

        asyncio.get_running_loop().call_later(delay_s, tap)

    def _pod_policy(
        self, rep: SimRep, athlete: VirtualAthlete, rng: random.Random
    ) -> Callable[[TruthOnset], float | None]:
        """The athlete touches a green pod after reacting and reaching for it, and leaves a
        red one alone (mostly: a few no-go errors, as people make them)."""

        def policy(onset: TruthOnset) -> float | None:
            command = self.hub.device.lit[onset.channel]
            no_go = command is not None and command.colour == NO_GO_COLOUR
            if no_go and rng.random() >= NO_GO_ERROR_RATE:
                return None
            delay_s = reaction_time_s(athlete, rng) + rng.uniform(*REACH_S)
            rep.touches.append((onset.channel, onset.mono_ns, onset.mono_ns + round(delay_s * 1e9)))
            return delay_s

        return policy

    def _on_light(self, _device: VirtualDevice, onset: TruthOnset) -> None:
        """On the port thread: the athlete sees a start cue or the lit target and goes."""
        if onset.kind is not EventKind.LIGHT_ON:
            return
        start = self._start
        if start is not None and onset.channel == start.channel:
            self._start = None
            set_off_ns = onset.mono_ns + round(reaction_time_s(start.athlete, start.rng) * 1e9)
            start.rep.cue_ns = onset.mono_ns
            plan_rep(
                self.hub, start.drill, start.layout, start.athlete, start.rng,
                bounce_prob=start.bounce_prob, set_off_ns=set_off_ns, rep=start.rep,
                bodies=self.bodies,
            )  # fmt: skip
            return
        run = self._target
        if run is None:
            return
        role = next((r for r, b in self._target_layout.items() if b.channel == onset.channel), None)
        if role is None:
            return
        self._target = None
        trigger = next(c for c in run.rep.crossings if c.role == run.lit_at)
        speed_mps = run.athlete.speed_at(trigger.t_s, trigger.backward)
        at_ns = onset.mono_ns + round((run.reaction_s + run.distance_m / speed_mps) * 1e9)
        self.hub.schedule_edge(onset.channel, EventKind.BEAM_BROKEN, at_ns)
        self.hub.schedule_edge(onset.channel, EventKind.BEAM_RESTORED, at_ns + 80_000_000)
        run.rep.target_role, run.rep.target_ns = role, at_ns
        run.rep.breaks.append((role, at_ns))

    def stop(self) -> None:
        self.hub.stop()
