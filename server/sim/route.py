"""A drill's route as one virtual athlete runs it: which device roles are crossed, and when.

The athlete's body model (hardware/sim/athlete.py) gives the times along each straight
stretch; at each change of direction the athlete starts again from a near stop.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from drills import Drill, Movement
from drills.model import Leg
from hardware.sim.athlete import VirtualAthlete

BACKWARD_MOVEMENTS = frozenset({Movement.BACKPEDAL, Movement.BACKWARD_RUN, Movement.BACKWARD_WALK})
# Legs meeting at more than this angle are a change of direction: the athlete slows to a
# near stop and accelerates again, plus the plant itself.
TURN_ANGLE_DEG = 60.0
TURN_S = 0.25
# Side-shuffling is slower than running the same distance.
SHUFFLE_FACTOR = 1.45


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
