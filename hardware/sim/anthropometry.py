"""An athlete's dimensions: stature and segment proportions, sampled from published tables.

The body model (hardware/sim/body.py) and its kinematics (hardware/sim/gait.py) both read a
Body; it lives apart so that neither has to import the other for it. Sources are in
docs/BODY-MODEL.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Sex = Literal["female", "male"]

# Heights and segment lengths as fractions of stature (Drillis & Contini 1966, in Winter,
# Biomechanics and Motor Control of Human Movement, 4th ed., Figure 4.1).
WINTER = {
    "shoulder_h": 0.818, "hip_h": 0.530, "ankle_h": 0.039, "upper_arm": 0.186,
    "forearm": 0.146, "hand": 0.108, "thigh": 0.245, "shank": 0.246, "foot": 0.152,
    "foot_width": 0.055,
}  # fmt: skip
# ANSUR II (Gordon et al. 2014) means in cm: stature, chest depth, hip breadth, biacromial
# breadth, crotch height; and stature SD. Women's crotch height is taken at the men's ratio.
ANSUR = {
    "male": {"stature": 175.6, "sd": 6.9, "chest_depth": 25.4, "hip_breadth": 34.6,
             "biacromial": 41.6, "crotch": 84.6},
    "female": {"stature": 162.8, "sd": 6.4, "chest_depth": 24.7, "hip_breadth": 35.4,
               "biacromial": 36.5, "crotch": 162.8 * 84.6 / 175.6},
}  # fmt: skip
# Spread of each measure around its proportion (coefficient of variation): ANSUR II SD over
# mean for depths and breadths, 2 % for Winter's lengths (assumed).
SPREAD = {"chest_depth": 0.10, "hip_breadth": 0.07, "biacromial": 0.046, "length": 0.02}
# Half-thickness of each segment as a fraction of stature: ANSUR circumferences / 2 pi,
# averaged along the segment and rounded (assumed).
RADII = {"thigh": 0.045, "shank": 0.028, "upper_arm": 0.025, "forearm": 0.021,
         "hand": 0.014, "foot": 0.02, "head": 0.05}  # fmt: skip


@dataclass(frozen=True)
class Body:
    """One athlete's dimensions, in metres."""

    stature_m: float
    sex: Sex
    shoulder_h_m: float  # acromion height, standing
    hip_h_m: float  # greater trochanter height: the hip joint
    crotch_h_m: float  # the torso's lowest point
    ankle_h_m: float
    upper_arm_m: float
    forearm_m: float
    hand_m: float
    thigh_m: float
    shank_m: float
    foot_m: float
    foot_width_m: float
    torso_depth_m: float  # chest depth: the torso's extent forward and backward
    hip_breadth_m: float  # the torso's extent sideways
    shoulder_breadth_m: float  # biacromial: between the shoulder joints
    hip_joint_spacing_m: float  # between the hip joints: half the hip breadth (assumed)
    thigh_r_m: float
    shank_r_m: float
    upper_arm_r_m: float
    forearm_r_m: float
    hand_r_m: float
    foot_r_m: float
    head_r_m: float

    @classmethod
    def of_stature(cls, stature_m: float, sex: Sex = "male") -> Body:
        """The average proportions at this stature."""
        return cls._build(stature_m, sex, lambda _kind: 1.0)

    @classmethod
    def sample(cls, rng: random.Random, sex: Sex | None = None) -> Body:
        """A random athlete: stature from ANSUR II, proportions spread around the means."""
        chosen: Sex = sex if sex is not None else rng.choice(("female", "male"))
        a = ANSUR[chosen]

        def z() -> float:  # a standard normal draw, cut at 2.5 SD: no freak bodies
            return max(-2.5, min(2.5, rng.gauss(0.0, 1.0)))

        stature = (a["stature"] + z() * a["sd"]) / 100.0
        return cls._build(stature, chosen, lambda kind: 1.0 + z() * SPREAD[kind])

    @classmethod
    def _build(cls, stature: float, sex: Sex, spread: Callable[[str], float]) -> Body:
        a = ANSUR[sex]

        def length(key: str) -> float:
            return WINTER[key] * stature * spread("length")

        def ansur(key: str) -> float:
            return a[key] / a["stature"] * stature * spread(key)

        hip_breadth = ansur("hip_breadth")
        return cls(
            stature_m=stature,
            sex=sex,
            shoulder_h_m=length("shoulder_h"),
            hip_h_m=length("hip_h"),
            crotch_h_m=a["crotch"] / a["stature"] * stature * spread("length"),
            ankle_h_m=length("ankle_h"),
            upper_arm_m=length("upper_arm"),
            forearm_m=length("forearm"),
            hand_m=length("hand"),
            thigh_m=length("thigh"),
            shank_m=length("shank"),
            foot_m=length("foot"),
            foot_width_m=length("foot_width"),
            torso_depth_m=ansur("chest_depth"),
            hip_breadth_m=hip_breadth,
            shoulder_breadth_m=ansur("biacromial"),
            hip_joint_spacing_m=hip_breadth / 2.0,
            thigh_r_m=RADII["thigh"] * stature,
            shank_r_m=RADII["shank"] * stature,
            upper_arm_r_m=RADII["upper_arm"] * stature,
            forearm_r_m=RADII["forearm"] * stature,
            hand_r_m=RADII["hand"] * stature,
            foot_r_m=RADII["foot"] * stature,
            head_r_m=RADII["head"] * stature,
        )
