"""Planning a rep's random parts (cue foreperiod, lit target) from an injected generator."""

from __future__ import annotations

import random
from dataclasses import dataclass

from drills.errors import EngineError
from drills.model import Drill, StartType


@dataclass(frozen=True)
class CuePlan:
    """What the server must do for one rep: wait `foreperiod_us`, then cue; light `target`.

    `foreperiod_us` is None unless the drill has a reactive start; `target` is None unless it
    has a `target_choice`. Both come from the caller's seeded generator, so a session stored
    with its seed can be replayed with the same waits and the same lit targets.
    """

    foreperiod_us: int | None
    target: str | None


def plan_cue(drill: Drill, rng: random.Random) -> CuePlan:
    """Draw the foreperiod (uniform, whole microseconds, both ends included) and the target.

    Raises EngineError when the drill has nothing random to plan, because asking for a cue on
    an auto sprint is a caller bug, not something to paper over with a zero wait.
    """
    start = drill.start
    foreperiod: int | None = None
    if start.type is StartType.REACTIVE:
        low, high = start.foreperiod_min_us, start.foreperiod_max_us
        if low is None or high is None or low > high:
            raise EngineError(f"{drill.slug}: reactive start without a valid foreperiod")
        foreperiod = rng.randint(low, high)
    choice = drill.target_choice
    target = None if choice is None else rng.choice(choice.options)
    if foreperiod is None and target is None:
        raise EngineError(f"{drill.slug}: nothing to plan (no reactive start, no target choice)")
    return CuePlan(foreperiod_us=foreperiod, target=target)
