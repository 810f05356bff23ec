"""Gait kinematics for the body model: where each body part is, in the plane a beam sees.

Coordinates: u along the direction of travel (metres, the gate plane at u = 0), z up from
the ground. `pose` places the torso's leading surface at u = speed x (t - truth), so the
torso reaches the plane exactly at the truth instant. Forward and backward passes are drawn
in the sagittal plane, lateral ones in the frontal plane. Pure: the only randomness is the
per-pass variation that `gait_for` draws from the generator it is given. Every figure is
sourced or marked as assumed in docs/BODY-MODEL.md.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from hardware.sim.anthropometry import Body

Direction = Literal["forward", "backward", "lateral"]

# Walk-to-run transition speeds; a pass slower than this walks (forward and backward).
FORWARD_RUN_FROM_MPS = 2.0
BACKWARD_RUN_FROM_MPS = 1.7
# Backward running: higher step frequency and shorter contact than forward at the same
# speed (Cavagna et al. 2012; Arata 2000). The sizes of both factors are assumed.
BACKWARD_STEP_RATE_FACTOR = 1.15
BACKWARD_CONTACT_FACTOR = 0.9
# Backward running uses smaller hip and knee ranges (Arata 2000); the size is assumed.
BACKWARD_RANGE_FACTOR = 0.8
# Running step rate (steps/s) against speed (m/s), interpolated: about 2.6-3 steps/s
# when jogging and 4-4.5 at sprint speed (Hunter et al. 2004; Weyand et al. 2000).
RUN_STEP_RATE = ((2.0, 2.6), (4.0, 2.9), (6.0, 3.4), (9.0, 4.4))
# Running hips sit this much below standing height, and the heel lifts this much (ankle
# height gained) by toe-off: assumed, so the stance knee bends ~20 degrees at touchdown
# and ~45 at mid-stance.
RUN_SIT_M = 0.06
HEEL_LIFT_RUN_M = 0.12
HEEL_LIFT_WALK_M = 0.08
# A shuffle is done in an athletic stance: hips lowered by this share of stature (assumed).
SHUFFLE_CROUCH = 0.05
# Share of the swing at which the thigh is most flexed, and the knee most bent (assumed).
THIGH_PEAK_AT = 0.75
KNEE_PEAK_AT = 0.35
# A running hand is a loose fist: the share of the hand's length beyond the wrist (assumed).
FIST_SHARE = 0.6


@dataclass(frozen=True)
class Gait:
    """How one pass moves: drawn once per pass by `gait_for`."""

    direction: Direction
    speed_mps: float
    running: bool
    stride_hz: float  # full cycles (two steps) per second
    duty: float  # share of a leg's cycle spent on the ground
    contact_m: float  # how far the hips travel over a planted foot
    touchdown_share: float  # share of contact_m by which the foot lands ahead of the hip
    thigh_max_deg: float  # most thigh flexion in swing, from the vertical
    knee_max_deg: float  # most knee flexion in swing
    shoulder_mean_deg: float
    shoulder_amp_deg: float
    elbow_mean_deg: float
    elbow_amp_deg: float
    bounce_m: float  # vertical travel of the hips, peak to peak
    crouch_m: float  # hips held this far below standing height
    phase0: float  # the right (or lead) leg's phase at the truth instant; 0 = touchdown
    # Thigh angle and knee flexion (radians) at touchdown and at toe-off, where the swing
    # starts and ends; filled in by `gait_for` from the stance geometry.
    touchdown_angles: tuple[float, float] = (0.0, 0.0)
    toe_off_angles: tuple[float, float] = (0.0, 0.0)


class Capsule(NamedTuple):
    """A limb segment: the points within `radius` of the line from (u0, z0) to (u1, z1)."""

    part: str
    u0: float
    z0: float
    u1: float
    z1: float
    radius: float


class Box(NamedTuple):
    """The torso: an upright block, its leading surface at u_hi."""

    part: str
    u_lo: float
    u_hi: float
    z_lo: float
    z_hi: float


def _lerp_table(table: tuple[tuple[float, float], ...], x: float) -> float:
    if x <= table[0][0]:
        return table[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(table):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return table[-1][1]


def gait_for(body: Body, direction: Direction, speed_mps: float, rng: random.Random) -> Gait:
    """The gait of one pass at this speed, with a random phase and trial-to-trial spread."""

    def jitter(cv: float) -> float:
        return max(0.5, 1.0 + rng.gauss(0.0, cv))

    v = speed_mps
    leg = body.thigh_m + body.shank_m
    if direction == "lateral":
        # Side shuffle: cycle rate, stance share, crouch, arm carriage and bounce are all
        # assumed (no measured figures found). shoulder_* here is the arms' abduction.
        return Gait(
            direction=direction,
            speed_mps=v,
            running=True,
            stride_hz=(1.6 + 0.5 * v) * jitter(0.05),
            duty=0.65,
            contact_m=0.0,
            touchdown_share=0.0,
            thigh_max_deg=0.0,
            knee_max_deg=0.0,
            shoulder_mean_deg=10.0 + rng.gauss(0.0, 4.0),
            shoulder_amp_deg=8.0 * jitter(0.2),
            elbow_mean_deg=90.0,
            elbow_amp_deg=0.0,
            bounce_m=0.03,
            crouch_m=SHUFFLE_CROUCH * body.stature_m,
            phase0=rng.random(),
        )
    backward = direction == "backward"
    running = v >= (BACKWARD_RUN_FROM_MPS if backward else FORWARD_RUN_FROM_MPS)
    if running:
        step_hz = _lerp_table(RUN_STEP_RATE, v) * (BACKWARD_STEP_RATE_FACTOR if backward else 1)
        stride_hz = step_hz / 2 * jitter(0.04)
        # Contact length 0.9 leg lengths at all running speeds (assumed): ~0.22 s on the
        # ground at 3.5 m/s and ~0.09 s at 9 m/s, near the ~0.1 s Weyand et al. 2000 report
        # at top speed.
        contact = 0.9 * leg * (BACKWARD_CONTACT_FACTOR if backward else 1.0)
        duty = min(0.45, max(0.2, contact * stride_hz / v))
        contact = duty * v / stride_hz
        touchdown, thigh_max, knee_max = 0.35, min(75.0, 20.0 + 6.0 * v), min(130.0, 45 + 11 * v)
        shoulder_amp, shoulder_mean = min(70.0, 25.0 + 5.0 * v), 0.0
        elbow_mean, elbow_amp = 90.0, 0.4 * shoulder_amp
        bounce = 0.08 if v < 6 else 0.06
        crouch = RUN_SIT_M
    else:
        # Walking cadence ~1.85 steps/s at 1.3 m/s, stance 60 % of the cycle (Perry).
        stride_hz = (1.0 + 0.65 * v) / 2 * jitter(0.04)
        duty = 0.6
        contact = duty * v / stride_hz
        touchdown, thigh_max, knee_max = 0.5, 20.0 + 6.0 * v, 45.0 + 11.0 * v
        shoulder_amp, shoulder_mean = 15.0, -5.0  # a 30-degree arc (Perry)
        elbow_mean, elbow_amp = 20.0, 10.0  # straight-arm walking (assumed angles)
        bounce = 0.04
        crouch = 0.0
    if backward:
        # Smaller ranges going backward; the arms are assumed to shrink like the legs.
        thigh_max *= BACKWARD_RANGE_FACTOR
        knee_max *= BACKWARD_RANGE_FACTOR
        shoulder_amp *= BACKWARD_RANGE_FACTOR
    gait = Gait(
        direction=direction,
        speed_mps=v,
        running=running,
        stride_hz=stride_hz,
        duty=duty,
        contact_m=contact,
        touchdown_share=touchdown,
        thigh_max_deg=thigh_max * jitter(0.08),
        knee_max_deg=knee_max * jitter(0.08),
        shoulder_mean_deg=shoulder_mean + rng.gauss(0.0, 5.0),
        shoulder_amp_deg=shoulder_amp * jitter(0.1),
        elbow_mean_deg=elbow_mean + rng.gauss(0.0, 8.0),
        elbow_amp_deg=elbow_amp,
        bounce_m=bounce,
        crouch_m=crouch,
        phase0=rng.random(),
    )
    return replace(
        gait,
        touchdown_angles=_stance_angles(body, gait, 0.0),
        toe_off_angles=_stance_angles(body, gait, gait.duty),
    )


def _blend(a: float, peak: float, b: float, s: float, s_peak: float) -> float:
    """From a to peak (reached at s_peak) then to b, with smooth cosine ramps; s in [0, 1]."""
    if s < s_peak:
        return a + (peak - a) * (1.0 - math.cos(math.pi * s / s_peak)) / 2.0
    x = (s - s_peak) / (1.0 - s_peak)
    return peak + (b - peak) * (1.0 - math.cos(math.pi * x)) / 2.0


def _ik(thigh: float, shank: float, du: float, dz: float) -> tuple[float, float]:
    """Thigh angle from the downward vertical and knee flexion (radians) that put the ankle
    at (du, dz) from the hip, knee bent forward; an out-of-reach ankle straightens the leg."""
    d = min(max(math.hypot(du, dz), abs(thigh - shank) + 1e-9), thigh + shank - 1e-9)
    knee = math.acos(
        max(-1.0, min(1.0, (d * d - thigh * thigh - shank * shank) / (2 * thigh * shank)))
    )
    line = math.atan2(du, -dz)
    return line + math.atan2(shank * math.sin(knee), thigh + shank * math.cos(knee)), knee


def _hip_offset(g: Gait, q: float) -> float:
    """Vertical hip offset: lowest at mid-stance when running, highest when walking."""
    wave = math.cos(2.0 * math.pi * (2.0 * q - g.duty))
    return (-1.0 if g.running else 1.0) * g.bounce_m / 2.0 * wave - g.crouch_m


def _stance_angles(body: Body, g: Gait, q: float) -> tuple[float, float]:
    """The planted foot: the hips pass over it while the heel lifts towards toe-off."""
    s = q / g.duty
    hip_z = body.hip_h_m + _hip_offset(g, q)
    ankle_z = body.ankle_h_m + (HEEL_LIFT_RUN_M if g.running else HEEL_LIFT_WALK_M) * s * s
    return _ik(body.thigh_m, body.shank_m, g.contact_m * (g.touchdown_share - s), ankle_z - hip_z)


def _leg(body: Body, g: Gait, q: float) -> tuple[float, float]:
    """Thigh angle and knee flexion (radians) at leg phase q (0 = touchdown)."""
    if q < g.duty:
        return _stance_angles(body, g, q)
    td_thigh, td_knee = g.touchdown_angles
    to_thigh, to_knee = g.toe_off_angles
    s = (q - g.duty) / (1.0 - g.duty)
    thigh_max = max(math.radians(g.thigh_max_deg), td_thigh + 0.03)
    knee_max = max(math.radians(g.knee_max_deg), to_knee, td_knee)
    return (
        _blend(to_thigh, thigh_max, td_thigh, s, THIGH_PEAK_AT),
        _blend(to_knee, knee_max, td_knee, s, KNEE_PEAK_AT),
    )


_SEGMENTS = ("thigh", "shank", "foot", "upper_arm", "forearm", "hand")
_RIGHT, _LEFT, _LEAD, _TRAIL = (
    tuple(f"{side}_{segment}" for segment in _SEGMENTS)
    for side in ("right", "left", "lead", "trail")
)


def pose(body: Body, g: Gait, t_rel_s: float) -> tuple[Box, list[Capsule]]:
    """Where the torso and every limb segment are, t_rel_s seconds after the truth instant."""
    if g.direction == "lateral":
        return _lateral_pose(body, g, t_rel_s)
    # Backward gait is forward gait played in reverse (Lee et al. 2013; Mehdizadeh et al.
    # 2015): phase runs backward in time and the anatomical front faces away from travel.
    sign = -1.0 if g.direction == "backward" else 1.0
    q_right = (g.phase0 + sign * g.stride_hz * t_rel_s) % 1.0
    front = g.speed_mps * t_rel_s
    dz = _hip_offset(g, q_right)
    torso = Box("torso", front - body.torso_depth_m, front,
                body.crotch_h_m + dz, body.shoulder_h_m + dz)  # fmt: skip
    mid = front - body.torso_depth_m / 2.0  # hip and shoulder joints at mid-depth (assumed)
    caps = [Capsule("head", mid, body.shoulder_h_m + dz + body.head_r_m,
                    mid, body.stature_m + dz - body.head_r_m, body.head_r_m)]  # fmt: skip
    hip_z, shoulder_z = body.hip_h_m + dz, body.shoulder_h_m + dz
    hand_len = body.hand_m * (FIST_SHARE if g.running else 1.0)
    sin, cos = math.sin, math.cos
    arm_back_at = g.duty + THIGH_PEAK_AT * (1.0 - g.duty)
    for names, q in ((_RIGHT, q_right), (_LEFT, (q_right + 0.5) % 1.0)):
        thigh_a, knee_a = _leg(body, g, q)
        shank_a = thigh_a - knee_a
        knee_u, knee_z = body.thigh_m * sin(thigh_a), hip_z - body.thigh_m * cos(thigh_a)
        ankle_u = knee_u + body.shank_m * sin(shank_a)
        ankle_z = knee_z - body.shank_m * cos(shank_a)
        # The foot is at right angles to the shank, its sole half an ankle height below;
        # the ankle sits a quarter of the foot's length from the heel.
        drop, toe_u, toe_z = body.ankle_h_m / 2.0, cos(shank_a), sin(shank_a)
        sole_u, sole_z = ankle_u + drop * sin(shank_a), ankle_z - drop * cos(shank_a)
        back, ahead = 0.25 * body.foot_m, 0.75 * body.foot_m
        # The arm swings against its own thigh: most extended when that thigh is most flexed.
        swing = -cos(2.0 * math.pi * (q - arm_back_at))
        shoulder_a = math.radians(g.shoulder_mean_deg + g.shoulder_amp_deg * swing)
        forearm_a = shoulder_a + math.radians(g.elbow_mean_deg + g.elbow_amp_deg * swing)
        elbow_u = body.upper_arm_m * sin(shoulder_a)
        elbow_z = shoulder_z - body.upper_arm_m * cos(shoulder_a)
        wrist_u = elbow_u + body.forearm_m * sin(forearm_a)
        wrist_z = elbow_z - body.forearm_m * cos(forearm_a)
        hand_u, hand_z = wrist_u + hand_len * sin(forearm_a), wrist_z - hand_len * cos(forearm_a)
        caps += (
            Capsule(names[0], mid, hip_z, mid + sign * knee_u, knee_z, body.thigh_r_m),
            Capsule(names[1], mid + sign * knee_u, knee_z, mid + sign * ankle_u, ankle_z,
                    body.shank_r_m),
            Capsule(names[2], mid + sign * (sole_u - back * toe_u), sole_z - back * toe_z,
                    mid + sign * (sole_u + ahead * toe_u), sole_z + ahead * toe_z, body.foot_r_m),
            Capsule(names[3], mid, shoulder_z, mid + sign * elbow_u, elbow_z, body.upper_arm_r_m),
            Capsule(names[4], mid + sign * elbow_u, elbow_z, mid + sign * wrist_u, wrist_z,
                    body.forearm_r_m),
            Capsule(names[5], mid + sign * wrist_u, wrist_z, mid + sign * hand_u, hand_z,
                    body.hand_r_m),
        )  # fmt: skip
    return torso, caps


def _lateral_pose(body: Body, g: Gait, t_rel_s: float) -> tuple[Box, list[Capsule]]:
    """Side shuffle in the frontal plane; +u is the lead side. Feet never cross."""
    q_lead = (g.phase0 + g.stride_hz * t_rel_s) % 1.0
    front = g.speed_mps * t_rel_s
    dz = _hip_offset(g, q_lead)
    width = body.hip_breadth_m
    torso = Box("torso", front - width, front, body.crotch_h_m + dz, body.shoulder_h_m + dz)
    mid = front - width / 2.0
    caps = [Capsule("head", mid, body.shoulder_h_m + dz + body.head_r_m,
                    mid, body.stature_m + dz - body.head_r_m, body.head_r_m)]  # fmt: skip
    cycle_m = g.speed_mps / g.stride_hz  # each foot moves this far per cycle
    swing = 1.0 - g.duty
    # Mean stance width: the hip joints' spacing plus half a cycle, so that the feet close
    # to hip width apart but never cross (assumed).
    half_width = (body.hip_joint_spacing_m + 0.5 * cycle_m) / 2.0
    hip_z, shoulder_z = body.hip_h_m + dz, body.shoulder_h_m + dz
    leg_share = body.thigh_m / (body.thigh_m + body.shank_m)
    for side, side_sign, q in (("lead", 1.0, q_lead), ("trail", -1.0, (q_lead + 0.5) % 1.0)):
        if q < swing:  # the foot moves a cycle's length sideways, lifted off the ground
            placed = (1.0 - math.cos(math.pi * q / swing)) / 2.0
            lift = 0.06 * math.sin(math.pi * q / swing)
        else:
            placed, lift = 1.0, 0.0
        # Relative to the body, which moves on steadily: the mean offset is half the width.
        foot_u = side_sign * half_width + cycle_m * (placed - q - 0.5 + swing / 2.0)
        ankle = (mid + foot_u, body.ankle_h_m + lift)
        hip = (mid + side_sign * body.hip_joint_spacing_m / 2.0, hip_z)
        # Knees bend forward, out of this plane, so in projection they sit on the hip-ankle line.
        knee = (hip[0] + leg_share * (ankle[0] - hip[0]), hip[1] + leg_share * (ankle[1] - hip[1]))
        foot_half = body.foot_width_m / 2.0
        abduct = math.radians(g.shoulder_mean_deg + g.shoulder_amp_deg * math.sin(2 * math.pi * q))
        shoulder = (mid + side_sign * body.shoulder_breadth_m / 2.0, shoulder_z)
        elbow = (shoulder[0] + side_sign * body.upper_arm_m * math.sin(abduct),
                 shoulder[1] - body.upper_arm_m * math.cos(abduct))  # fmt: skip
        # Elbows bent, forearms pointing ahead and a little down: short seen from the side.
        wrist = (elbow[0] + side_sign * 0.15 * body.forearm_m, elbow[1] - 0.5 * body.forearm_m)
        hand = (wrist[0] + side_sign * 0.1 * body.hand_m, wrist[1] - 0.3 * body.hand_m)
        foot_z = ankle[1] - body.ankle_h_m / 2.0
        segments = (
            (hip, knee, body.thigh_r_m),
            (knee, ankle, body.shank_r_m),
            ((ankle[0] - foot_half, foot_z), (ankle[0] + foot_half, foot_z), body.foot_r_m),
            (shoulder, elbow, body.upper_arm_r_m),
            (elbow, wrist, body.forearm_r_m),
            (wrist, hand, body.hand_r_m),
        )
        names = _LEAD if side == "lead" else _TRAIL
        for name, ((u0, z0), (u1, z1), r) in zip(names, segments, strict=True):
            caps.append(Capsule(name, u0, z0, u1, z1, r))
    return torso, caps


def reach_m(body: Body, g: Gait) -> float:
    """A bound on how far any part reaches ahead of the torso or behind it.

    Hips and shoulders sit inside the torso's outline (or, sideways, within a few cm of
    it), so no limb reaches further than its length plus a margin; a shuffling foot is
    placed up to half a stance width plus a cycle away.
    """
    limbs = body.thigh_m + body.shank_m + body.foot_m
    if g.direction == "lateral":
        cycle = g.speed_mps / g.stride_hz
        limbs = max(limbs, body.hip_joint_spacing_m + 0.5 * cycle + 0.1 + cycle)
    return max(limbs, body.upper_arm_m + body.forearm_m + body.hand_m) + 0.05
