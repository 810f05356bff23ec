"""The forward:backward ratio, backward time ÷ forward time: the one place it is computed.

Boards (server/leaderboard/ratio.py) and reports (server/reports/) pair an athlete's
forward and backward bests through `pair_forward_backward`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from drills.metrics._inputs import positive
from drills.metrics.reps import RepTime
from drills.model import Direction


def forward_backward_ratio(forward_s: float, backward_s: float) -> float:
    """Backward time / forward time over the same distance, start and day.

    Above 1 means backward is slower (the usual case, by about a quarter in adolescents).
    Only comparable between drills that differ in direction alone.
    """
    return positive(backward_s, "backward time") / positive(forward_s, "forward time")


@dataclass(frozen=True)
class DirectionalRep:
    """One rep of a forward or backward drill, tagged with what pairs it with its twin."""

    athlete: str
    day: date
    distance_m: float
    direction: Direction
    rep: RepTime


@dataclass(frozen=True)
class ForwardBackward:
    """The paired bests of one athlete on one day over one distance, and their ratio."""

    athlete: str
    day: date
    distance_m: float
    forward_best_s: float
    backward_best_s: float
    ratio: float


def pair_forward_backward(reps: Iterable[DirectionalRep]) -> list[ForwardBackward]:
    """Ratio of bests for every (athlete, day, distance) that has both directions.

    Invalid reps are left out here, so a voided or practice rep can never become a best.
    Groups with only one direction are skipped (a normal case: the backward run was not
    done that day). Distances are matched to the millimetre. Mixed-direction drills have
    no forward:backward meaning and raise ValueError. Sorted by athlete, day, distance.
    """
    bests: dict[tuple[str, date, float], dict[Direction, float]] = {}
    for item in reps:
        if item.direction is Direction.MIXED:
            raise ValueError(
                f"pair_forward_backward: a mixed-direction rep ({item.athlete}, {item.day}) "
                "has no forward or backward twin"
            )
        if not item.rep.valid:
            continue
        key = (item.athlete, item.day, round(item.distance_m, 3))
        by_direction = bests.setdefault(key, {})
        time_s = positive(item.rep.total_s, "rep time")
        previous = by_direction.get(item.direction)
        by_direction[item.direction] = time_s if previous is None else min(previous, time_s)
    out: list[ForwardBackward] = []
    for (athlete, day, distance), by_direction in sorted(bests.items()):
        forward = by_direction.get(Direction.FORWARD)
        backward = by_direction.get(Direction.BACKWARD)
        if forward is None or backward is None:
            continue
        out.append(
            ForwardBackward(
                athlete=athlete,
                day=day,
                distance_m=distance,
                forward_best_s=forward,
                backward_best_s=backward,
                ratio=forward_backward_ratio(forward, backward),
            )
        )
    return out
