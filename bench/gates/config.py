"""What the gates benchmark sweeps and the targets it judges: drill kinds, beam heights, rules.

Every other module of bench/gates/ reads these, so a height or a target changes in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Final

from drills.crossing import DEFAULT_REARM_US, DEFAULT_WINDOW_US, GateRule, Trigger
from hardware.sim.body import DUAL_BEAM_HEIGHTS_M
from hardware.sim.gait import Direction

# Drill kinds: the body's direction of travel and the speeds at the gate, drawn uniformly.
KINDS: Final[dict[str, tuple[Direction, tuple[float, float]]]] = {
    "backward": ("backward", (2.0, 6.0)),  # backward runs: 10-20 m, backpedals
    "lateral": ("lateral", (1.5, 4.0)),  # side shuffles
    "forward": ("forward", (3.0, 9.0)),  # sprints, from the first gate to flying ones
    "retro-walk": ("backward", (0.6, 1.5)),  # backward walking (rehabilitation, warm-ups)
}
# The kinds issue 14 sets targets for, and the targets (p95 of |error|, ms); the dual-beam
# target holds for both two-beam rules.
TARGET_KINDS: Final = ("backward", "lateral")
RUNNING_KINDS: Final = ("backward", "lateral", "forward")
LONGEST_P95_TARGET_MS: Final = 5.0
DUAL_P95_TARGET_MS: Final = 2.0
# Rule -> (the sweep it is in, its p95 target in ms).
TARGET_RULES: Final = {
    "longest_break": ("single", LONGEST_P95_TARGET_MS),
    "dual_beam": ("dual", DUAL_P95_TARGET_MS),
    "dual_longest": ("dual", DUAL_P95_TARGET_MS),
}
TWO_BEAM_RULES: Final = ("dual_beam", "dual_longest")
# The swept beam heights; every pair of them 0.1-0.5 m apart is a two-beam pair.
HEIGHTS_M: Final = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)
PAIR_SPACING_M: Final = (0.1, 0.5)
# The heights published practice uses (hardware/sim/body.py's defaults before they moved to
# 0.9 m and 0.9 + 1.1 m), kept in the sweep for comparison: (top, bottom) for the pair.
PUBLISHED_SINGLE_M: Final = 1.0
PUBLISHED_PAIR_M: Final = (1.2, 0.8)


def _pairs() -> tuple[tuple[float, float], ...]:
    """(top, bottom) pairs from HEIGHTS_M, PAIR_SPACING_M apart."""
    low, high = PAIR_SPACING_M
    return tuple(
        (top, bottom)
        for bottom, top in combinations(HEIGHTS_M, 2)
        if low - 1e-9 <= top - bottom <= high + 1e-9
    )


PAIRS_M: Final = _pairs()
DEFAULT_PAIR_M: Final = (max(DUAL_BEAM_HEIGHTS_M), min(DUAL_BEAM_HEIGHTS_M))


@dataclass(frozen=True)
class GatesConfig:
    """What one run simulates (defaults: the figures in docs/BENCHMARKS.md)."""

    crossings: int = 1000  # per drill kind
    window_ms: int = DEFAULT_WINDOW_US // 1000
    rearm_ms: int = DEFAULT_REARM_US // 1000
    workers: int = 0  # processes for the crossings; 0: one per CPU
    live_lanes: int = 4  # simulated hubs at once, each a lane of its own
    live_reps: int = 5  # reps per lane
    seed: int = 1

    def check(self) -> None:
        if self.crossings < 1 or self.workers < 0 or self.live_lanes < 0 or self.live_reps < 0:
            raise ValueError("need crossings >= 1 and workers, lanes, reps >= 0")
        GateRule(Trigger.LONGEST_BREAK, self.window_ms * 1000, self.rearm_ms * 1000)
