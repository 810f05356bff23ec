"""A planned gate crossing as a whole body breaks the gate's beams (hardware/sim/body.py).

The route planner (server/sim/route.py) says when each gate is crossed: that instant is the
torso's, the truth a split should time. Here the body model adds what a real beam sees around
it: hands, knees and heels before and after the torso, at the beam heights of the role's
binding (one beam, or a dual-beam pair), for the direction and speed of travel.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

from hardware.messages import EventKind
from hardware.sim.anthropometry import Body
from hardware.sim.athlete import VirtualAthlete
from hardware.sim.body import DUAL_BEAM_HEIGHTS_M, SINGLE_BEAM_HEIGHT_M, Pass, beam_breaks
from hardware.sim.gait import Direction

# The body model's speed range. The route planner has an athlete at rest on the start line, but
# a standing start is taken a stride behind the beam (0.3-0.5 m), and the torso reaches it at
# about 1.5 m/s after a second's acceleration from there (this project's estimate).
MIN_SPEED_MPS = 1.5
MAX_SPEED_MPS = 12.0


class EdgeScheduler(Protocol):
    """Whatever takes a beam edge at a true host time: a simulated hub, or a simulated
    Chronopic or Timy behind its adapter (server/sim/adapters.py)."""

    def schedule_edge(self, channel: int, kind: EventKind, at_ns: int, /) -> None: ...


_bodies: dict[str, Body] = {}


def body_of(athlete: VirtualAthlete) -> Body:
    """The same body for the same virtual athlete, run after run (seeded by the name)."""
    body = _bodies.get(athlete.name)
    if body is None:
        body = _bodies[athlete.name] = Body.sample(random.Random(f"body:{athlete.name}"))
    return body


def beam_heights(channels: Sequence[int]) -> tuple[float, ...]:
    """One beam at hip height; two at the dual-beam pair's (top first, as bound)."""
    if len(channels) == 1:
        return (SINGLE_BEAM_HEIGHT_M,)
    top, bottom = max(DUAL_BEAM_HEIGHTS_M), min(DUAL_BEAM_HEIGHTS_M)
    return (top, bottom)


def schedule_body_pass(
    hub: EdgeScheduler, channels: Sequence[int], torso_ns: int, direction: Direction,
    speed_mps: float, body: Body, rng: random.Random,
) -> list[list[tuple[int, int]]]:  # fmt: skip
    """Schedule every break and clearing the body makes on the beams of `channels` as its
    torso reaches the gate plane at `torso_ns`; returns them in ns per beam."""
    speed = min(max(speed_mps, MIN_SPEED_MPS), MAX_SPEED_MPS)
    truth_s = torso_ns / 1e9
    per_beam = beam_breaks(body, Pass(direction, speed, truth_s), beam_heights(channels), rng)
    scheduled: list[list[tuple[int, int]]] = []
    for channel, intervals in zip(channels, per_beam, strict=True):
        beam: list[tuple[int, int]] = []
        for start_s, end_s in intervals:
            # Relative to the truth, so the float seconds lose nothing of the ns.
            start_ns = torso_ns + round((start_s - truth_s) * 1e9)
            end_ns = torso_ns + round((end_s - truth_s) * 1e9)
            hub.schedule_edge(channel, EventKind.BEAM_BROKEN, start_ns)
            hub.schedule_edge(channel, EventKind.BEAM_RESTORED, end_ns)
            beam.append((start_ns, end_ns))
        scheduled.append(beam)
    return scheduled
