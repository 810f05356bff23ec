"""Virtual athletes: when does a simulated body cross each line, running forward or backward?

Speed follows the usual sprint model v(t) = v_max (1 - exp(-t / tau)), so position is
x(t) = v_max (t - tau (1 - exp(-t / tau))). Backward running is slower (about a quarter
slower in adolescent athletes, Uthoff et al. 2018), so each athlete has both top speeds.
Knowing nothing of drills, this answers only: given these distances, when is each reached?
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Where the torso starts, behind the first beam: a standing start just behind the line.
START_BEHIND_M = 0.3
# How long the body keeps a beam broken, as a distance travelled past it.
BODY_DEPTH_M = 0.35

FIRST_NAMES = (
    "Ada", "Bram", "Chloe", "Dario", "Esme", "Femi", "Greta", "Hugo", "Ines", "Jonas",
    "Kaia", "Luca", "Mina", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tove",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Barros", "Costa", "Dubois", "Eklund", "Fischer", "Garcia", "Horvat",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov",
)  # fmt: skip


@dataclass(frozen=True)
class VirtualAthlete:
    name: str
    forward_top_mps: float
    backward_top_mps: float
    accel_tau_s: float
    reaction_s: float
    rep_cv: float = 0.02

    def crossing_times_s(
        self, distances_m: Sequence[float], backward: bool, rng: random.Random
    ) -> list[float]:
        """Seconds after the first movement at which the torso passes each distance.

        Distances are measured from the first line; the athlete starts START_BEHIND_M behind
        it. Each rep draws a slightly different top speed (rep_cv), as real reps differ.
        """
        top = self.backward_top_mps if backward else self.forward_top_mps
        top *= max(0.8, 1.0 + rng.gauss(0.0, self.rep_cv))
        return [_time_to_reach(d + START_BEHIND_M, top, self.accel_tau_s) for d in distances_m]

    def beam_clear_s(self, speed_at_line_mps: float) -> float:
        """How long a beam stays broken while the body passes through it."""
        return BODY_DEPTH_M / max(speed_at_line_mps, 0.5)

    def speed_at(self, t_s: float, backward: bool) -> float:
        top = self.backward_top_mps if backward else self.forward_top_mps
        return top * (1.0 - math.exp(-t_s / self.accel_tau_s))


def _position(t: float, top: float, tau: float) -> float:
    return top * (t - tau * (1.0 - math.exp(-t / tau)))


def _time_to_reach(distance_m: float, top: float, tau: float) -> float:
    """Invert x(t) by bisection: x is monotonic, and 60 halvings reach far below a microsecond."""
    if distance_m <= 0:
        return 0.0
    lo, hi = 0.0, distance_m / top + tau + 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _position(mid, top, tau) < distance_m:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def make_team(count: int, rng: random.Random) -> list[VirtualAthlete]:
    """A squad with believable spread: 10 m forward in ~1.8-2.2 s, backward ~25 % slower."""
    names: list[str] = []
    firsts = list(FIRST_NAMES)
    rng.shuffle(firsts)
    for i in range(count):
        names.append(f"{firsts[i % len(firsts)]} {rng.choice(LAST_NAMES)}")
    team = []
    for name in names:
        forward = rng.uniform(7.2, 8.6)
        team.append(
            VirtualAthlete(
                name=name,
                forward_top_mps=forward,
                backward_top_mps=forward * rng.uniform(0.64, 0.74),
                accel_tau_s=rng.uniform(0.85, 1.15),
                reaction_s=rng.uniform(0.16, 0.26),
            )
        )
    return team


# Rep-to-rep spread of a reaction time (coefficient of variation), and the range a human
# answer to a light falls in: faster is anticipation, slower is inattention.
REACTION_CV = 0.12
REACTION_RANGE_S = (0.12, 0.45)


def reaction_time_s(athlete: VirtualAthlete, rng: random.Random) -> float:
    """One rep's reaction to a light: the athlete's typical time with rep-to-rep variation."""
    lo, hi = REACTION_RANGE_S
    return min(hi, max(lo, athlete.reaction_s * (1.0 + rng.gauss(0.0, REACTION_CV))))


def touch_policy(athlete: VirtualAthlete, rng: random.Random) -> Callable[[object], float]:
    """A pod's `touch_after`: the athlete touches each lit pod after a drawn reaction time."""
    return lambda _onset: reaction_time_s(athlete, rng)
