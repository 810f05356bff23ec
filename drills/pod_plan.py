"""Pod series plans: which pod lights, in which colour, after how long, drawn before GO.

Kept apart from the series' state machine (drills/pods.py): a plan is drawn once from a
seeded generator, stored with the session and replayed, while the state machine only
judges what the devices report against it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from drills.errors import EngineError
from drills.model import Drill, PodStimuli, Timing


@dataclass(frozen=True)
class Stimulus:
    """One planned light: wait `foreperiod_us` after the previous stimulus ended, then light
    `pod` in `colour`. `index` is 0-based, the position in the plan."""

    index: int
    foreperiod_us: int
    pod: str
    colour: str
    go: bool


def pod_spec(drill: Drill) -> PodStimuli:
    if drill.timing is not Timing.PODS or drill.stimuli is None:
        raise EngineError(f"{drill.slug} is a {drill.timing.value} drill, not a pod drill")
    return drill.stimuli


def plan(drill: Drill, rng: random.Random) -> tuple[Stimulus, ...]:
    """Draw the whole series from `rng` (seeded, so a stored session replays exactly).

    Per stimulus, in this order: the foreperiod (uniform, whole µs, both ends included), the
    pod (never the one just lit when there is more than one, so a light always means a
    move), the colour. A series without any go light tests nothing, so if none was drawn,
    one stimulus picked by `rng` is given a go colour picked by `rng`: bounded, unlike
    drawing again, and still unpredictable for the athlete.
    """
    spec = pod_spec(drill)
    distinct = tuple(dict.fromkeys(spec.pods))
    drawn: list[tuple[int, str, str]] = []
    previous: str | None = None
    for _ in range(spec.count):
        foreperiod = rng.randint(spec.foreperiod_min_us, spec.foreperiod_max_us)
        choices = [p for p in distinct if p != previous] if len(distinct) > 1 else distinct
        pod = rng.choice(choices)
        drawn.append((foreperiod, pod, rng.choice(spec.colours)))
        previous = pod
    if drawn and not any(colour in spec.go_colours for _, _, colour in drawn):
        forced = rng.randrange(len(drawn))
        foreperiod, pod, _ = drawn[forced]
        drawn[forced] = (foreperiod, pod, rng.choice(spec.go_colours))
    return tuple(
        Stimulus(i, foreperiod, pod, colour, colour in spec.go_colours)
        for i, (foreperiod, pod, colour) in enumerate(drawn)
    )
