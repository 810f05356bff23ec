"""One rep planned as beam edges at true host times, and the truth kept to check it against.

A rep's crossings (server/sim/route.py) become edges on whatever takes them: a simulated hub,
or a simulated Chronopic or Timy behind its adapter (server/body_passes.EdgeScheduler).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from drills import Drill, StartType
from drills.crossing import Trigger
from hardware.messages import EventKind
from hardware.sim.athlete import VirtualAthlete, reaction_time_s
from hardware.sim.gait import Direction
from server.devices.binding import roles_to_bind
from server.runs.coordinator import Binding
from server.sim.body_passes import EdgeScheduler, body_of, schedule_body_pass
from server.sim.route import Crossing, route_crossings

# A second break of the same beam shortly after the first: the arm, then the leg.
BOUNCE_AFTER_S = (0.015, 0.040)
# Hold start: the athlete settles into the beam this long before the hold must begin.
HOLD_SETTLE_S = 0.4
HOLD_EXTRA_S = 0.3


def channel_layout(drill: Drill, device_key: str, beams: int = 1) -> dict[str, Binding]:
    """Bind every role that needs a device to one device's channels: start=0, next=1, ...; with
    two beams per role, start=0 (top) and 1 (bottom), the next 2 and 3, ..., as dual-longest."""
    roles = roles_to_bind(drill)
    if beams == 2:
        return {
            role: Binding(device_key, 2 * i, Trigger.DUAL_LONGEST, bottom=2 * i + 1)
            for i, role in enumerate(roles)
        }
    return {role: Binding(device_key, ch) for ch, role in enumerate(roles)}


def channels_needed(drill: Drill, beams: int = 1) -> int:
    return max(2, len(drill.device_roles) * beams)


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


def schedule_rep(
    edges: EdgeScheduler,
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
    return plan_rep(edges, drill, layout, athlete, rng, lead_s, bounce_prob, bodies=bodies).breaks


def plan_rep(
    edges: EdgeScheduler,
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
    part (SimRig.run_rep does all three, through server/sim/reactions.py)."""
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
            edges.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns - round(
                (hold_s + HOLD_SETTLE_S) * 1e9))  # fmt: skip
            edges.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns)
            rep.clock_start_ns = at_ns
            rep.breaks.append((crossing.role, at_ns))
            continue
        if bodies:
            # Torso, arms and legs (hardware/sim/body.py); the truth stays the torso's at_ns.
            direction: Direction = (
                "lateral" if crossing.lateral else "backward" if crossing.backward else "forward"
            )
            schedule_body_pass(
                edges, layout[crossing.role].channels, at_ns, direction, speed, body_of(athlete),
                rng,
            )  # fmt: skip
        else:
            _schedule_pass(edges, channel, at_ns, athlete.beam_clear_s(speed), rng, bounce_prob)
        if index == 0 and kind is StartType.AUTO:
            rep.clock_start_ns = at_ns
        elif index == 0 and kind is StartType.REACTIVE:
            rep.clock_start_ns = rep.cue_ns
        rep.breaks.append((crossing.role, at_ns))
    return rep


def _schedule_pass(
    edges: EdgeScheduler, channel: int, at_ns: int, clear_s: float, rng: random.Random,
    bounce_prob: float,
) -> None:  # fmt: skip
    # Kept past any bounce, so the restore really is the body leaving the beam.
    clear_s = max(clear_s, 0.06)
    edges.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
    if rng.random() < bounce_prob:
        bounce_ns = at_ns + round(rng.uniform(*BOUNCE_AFTER_S) * 1e9)
        gap_ns = (bounce_ns - at_ns) // 2
        edges.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + gap_ns)
        edges.schedule_edge(channel, EventKind.BEAM_BROKEN, bounce_ns)
    edges.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + round(clear_s * 1e9))
