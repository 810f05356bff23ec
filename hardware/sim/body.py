"""Virtual athletes with bodies: which beams their torso, arms and legs break, and when.

A split should time the torso; a beam also sees hands, elbows, knees and feet, which lead
or trail the torso by amounts that depend on the drill's direction and speed. This module
answers, for one gate crossing, when each beam is broken and by what. Pure: no I/O, no
clock; every random draw comes from the `random.Random` passed in. Sources and assumptions
are in docs/BODY-MODEL.md; the kinematics are in hardware/sim/gait.py.

Public API:

    body = Body.sample(rng)                        # or Body.of_stature(1.80, "male")
    pass_ = Pass("backward", speed_mps=4.5, truth_s=12.0)
    beam_breaks(body, pass_, (1.0,), rng)          # [[(start_s, end_s), ...]] per beam
    crossing = simulate_pass(body, pass_, DUAL_BEAM_HEIGHTS_M, rng)
    crossing.beams[0].intervals[0].parts           # which parts made that break
    crossing.beams[0].torso                        # the torso's own break, or None

`pass_.truth_s` is the truth a split wants: the instant the torso's leading surface reaches
the gate plane. A beam outside the torso's height range (below the crotch, above the
shoulders) cannot see that instant; its breaks come from limbs or the head only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hardware.sim.anthropometry import Body
from hardware.sim.gait import Box, Capsule, Direction, Gait, gait_for, pose, reach_m

# A single beam at hip height, as most sprint testing does (Yeadon et al. 1999; Cronin &
# Templeton 2008): the greater trochanter of the mean man is at 0.93 m, of the mean woman at
# 0.86 m (Winter's 0.530 of ANSUR II statures), so 0.9 m. Altmann et al. 2017 used 1.00 m,
# which the model finds worse (elbows; docs/BENCHMARKS.md, "Gate rules against the torso").
SINGLE_BEAM_HEIGHT_M = 0.9
# A pair inside the torso of nearly every sampled athlete: the crotch is below 0.9 m but for
# the tallest few (0.93 m at +2.5 SD: the torso then misses the low beam, about 1 pass in
# 1,000 running), the shoulders above 1.1 m for the shortest (1.20 m); 0.2 m apart (no
# vendor figure for the spacing was found).
DUAL_BEAM_HEIGHTS_M = (0.9, 1.1)

# Edges are refined by bisection to this precision.
EDGE_PRECISION_S = 1e-6


@dataclass(frozen=True)
class Pass:
    """One gate crossing: direction of travel, speed, and when the torso reaches the plane."""

    direction: Direction
    speed_mps: float
    truth_s: float

    def __post_init__(self) -> None:
        if self.direction not in ("forward", "backward", "lateral"):
            raise ValueError(f"unknown direction {self.direction!r}")
        if not 0.2 <= self.speed_mps <= 12.0:
            raise ValueError(f"speed {self.speed_mps} m/s is outside 0.2-12 m/s")


@dataclass(frozen=True)
class Interval:
    """One break of a beam: from start_s to end_s (absolute seconds), and what made it."""

    start_s: float
    end_s: float
    parts: frozenset[str]


@dataclass(frozen=True)
class BeamRecord:
    height_m: float
    intervals: tuple[Interval, ...]
    # The torso's own break at this height (its first start to its last end), if any.
    torso: tuple[float, float] | None


@dataclass(frozen=True)
class Crossing:
    body: Body
    pass_: Pass
    gait: Gait
    beams: tuple[BeamRecord, ...]

    def covering(self, t_s: float, height_m: float) -> frozenset[str]:
        """The parts in the gate plane at this height at absolute time t_s."""
        return frozenset(_parts_at(self.body, self.gait, t_s - self.pass_.truth_s, (height_m,))[0])


def beam_breaks(
    body: Body, pass_: Pass, beam_heights_m: Sequence[float], rng: random.Random
) -> list[list[tuple[float, float]]]:
    """For each beam, the merged intervals (start_s, end_s) during which anything breaks it."""
    crossing = simulate_pass(body, pass_, beam_heights_m, rng)
    return [[(i.start_s, i.end_s) for i in beam.intervals] for beam in crossing.beams]


def simulate_pass(
    body: Body,
    pass_: Pass,
    beam_heights_m: Sequence[float],
    rng: random.Random,
    step_s: float | None = None,
) -> Crossing:
    """Everything about one crossing: the gait drawn, and each beam's breaks and their parts.

    The body is sampled every step_s (by default the time it takes to move 4 mm, between
    0.25 and 2 ms: limbs move at most a few times faster than the body, and the thinnest
    part is 5 cm thick, so no break is skipped), then each edge is bisected to 1 us.
    """
    gait = gait_for(body, pass_.direction, pass_.speed_mps, rng)
    v = pass_.speed_mps
    step = step_s if step_s is not None else min(2e-3, max(2.5e-4, 0.004 / v))
    extent = body.hip_breadth_m if pass_.direction == "lateral" else body.torso_depth_m
    reach = reach_m(body, gait)
    before, after = math.ceil(reach / v / step), math.ceil((extent + reach) / v / step)
    times = [k * step for k in range(-before, after + 1)]  # relative to the truth; 0 included
    samples = [_parts_at(body, gait, t, beam_heights_m) for t in times]
    beams = []
    for index, height in enumerate(beam_heights_m):
        seen = [s[index] for s in samples]
        any_part = _runs(times, [bool(p) for p in seen], _hitter(body, gait, height, None))
        intervals = tuple(
            Interval(pass_.truth_s + a, pass_.truth_s + b, frozenset(set[str]().union(*seen[i:j])))
            for a, b, i, j in any_part
        )
        torso_flags = ["torso" in p for p in seen]
        torso_runs = _runs(times, torso_flags, _hitter(body, gait, height, "torso"))
        torso = None
        if torso_runs:
            torso = (pass_.truth_s + torso_runs[0][0], pass_.truth_s + torso_runs[-1][1])
        beams.append(BeamRecord(height, intervals, torso))
    return Crossing(body, pass_, gait, tuple(beams))


def _runs(
    times: list[float], flags: list[bool], hit: Callable[[float], bool]
) -> list[tuple[float, float, int, int]]:
    """Runs of True as (start, end, first index, end index), edges bisected with `hit`."""
    runs = []
    i, n = 0, len(flags)
    while i < n:
        if not flags[i]:
            i += 1
            continue
        j = i
        while j < n and flags[j]:
            j += 1
        start = times[i] if i == 0 else _edge(times[i - 1], times[i], hit, rising=True)
        end = times[j - 1] if j == n else _edge(times[j - 1], times[j], hit, rising=False)
        runs.append((start, end, i, j))
        i = j
    return runs


def _edge(lo: float, hi: float, hit: Callable[[float], bool], rising: bool) -> float:
    """The first broken instant (rising) or the first clear one (falling) between lo and hi."""
    while hi - lo > EDGE_PRECISION_S:
        mid = (lo + hi) / 2.0
        if hit(mid) == rising:
            hi = mid
        else:
            lo = mid
    return hi


def _hitter(body: Body, gait: Gait, height: float, part: str | None) -> Callable[[float], bool]:
    """Whether the beam at `height` is broken at a time: by anything, or by one part."""

    def hit(t: float) -> bool:
        parts = _parts_at(body, gait, t, (height,))[0]
        return bool(parts) if part is None else part in parts

    return hit


def _parts_at(body: Body, gait: Gait, t: float, heights: Sequence[float]) -> list[set[str]]:
    """For each beam height, the parts that cover the gate plane (u = 0) at that height."""
    torso, capsules = pose(body, gait, t)
    return [_covering(torso, capsules, z) for z in heights]


def _covering(torso: Box, capsules: list[Capsule], z: float) -> set[str]:
    found = set()
    if torso.u_lo <= 0.0 <= torso.u_hi and torso.z_lo <= z <= torso.z_hi:
        found.add(torso.part)
    for part, u0, z0, u1, z1, r in capsules:
        # Most segments are nowhere near this point of the plane: reject them cheaply.
        if (u0 > r and u1 > r) or (u0 < -r and u1 < -r) or (z0 - z > r and z1 - z > r):
            continue
        if z - z0 > r and z - z1 > r:
            continue
        du, dz = u1 - u0, z1 - z0
        length2 = du * du + dz * dz
        s = 0.0 if length2 == 0.0 else max(0.0, min(1.0, (-u0 * du + (z - z0) * dz) / length2))
        pu, pz = u0 + s * du, z0 + s * dz
        if pu * pu + (z - pz) ** 2 <= r * r:
            found.add(part)
    return found
