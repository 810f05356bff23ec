"""What a rep is and what it produces: states, the allowed transitions, crossings, results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from drills.timing import Stamp, cross_device_error_us, elapsed_us, placed_by_receipt


class RunState(Enum):
    """Where one rep is. FINISHED, TIMEOUT, FALSE_START and VOID are over; all but VOID can
    still be voided afterwards."""

    ARMED = "armed"
    WAITING_CUE = "waiting_cue"  # reactive start: armed and the cue is planned, not yet given
    RUNNING = "running"
    FINISHED = "finished"
    TIMEOUT = "timeout"
    FALSE_START = "false_start"  # reactive start: the start role broken before the cue
    VOID = "void"


# Spelled out as data so every state change is checked in one place, and so a reader can see
# the whole life of a rep at a glance. A coach may void a rep after it finished or timed out
# (a slip noticed late); nothing leaves VOID.
# RUNNING -> FALSE_START exists because the cue onset and a start crossing come from
# different devices: a break stamped before the onset may arrive after it.
ALLOWED_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.ARMED: frozenset({RunState.RUNNING, RunState.WAITING_CUE, RunState.VOID}),
    RunState.WAITING_CUE: frozenset({RunState.RUNNING, RunState.FALSE_START, RunState.VOID}),
    RunState.RUNNING: frozenset(
        {RunState.FINISHED, RunState.TIMEOUT, RunState.FALSE_START, RunState.VOID}
    ),
    RunState.FINISHED: frozenset({RunState.VOID}),
    RunState.TIMEOUT: frozenset({RunState.VOID}),
    RunState.FALSE_START: frozenset({RunState.VOID}),
    RunState.VOID: frozenset(),
}

OVER = frozenset({RunState.FINISHED, RunState.TIMEOUT, RunState.FALSE_START, RunState.VOID})


@dataclass(frozen=True)
class Crossing:
    """A role was crossed (beam broken, pod touched) at a device-stamped time."""

    role: str
    at: Stamp


@dataclass(frozen=True)
class SplitResult:
    """One completed segment: its own elapsed time, not cumulative from the start."""

    name: str
    from_role: str
    to_role: str
    elapsed_us: int
    distance_m: float
    # Marks a coach and a sports scientist need to read the number right (drills.timing.Stamp).
    cross_device_error_us: int | None = None  # spans a receipt-mapped clock: its error bound
    manual: bool = False  # an end is a hand time
    coarse: bool = False  # rests on a host receipt time (drills.timing.placed_by_receipt)

    @classmethod
    def between(
        cls, name: str, from_role: str, to_role: str, a: Stamp, b: Stamp, distance_m: float
    ) -> SplitResult:
        """The split from stamp a to stamp b, with the marks its two ends give it."""
        return cls(
            name=name, from_role=from_role, to_role=to_role, elapsed_us=elapsed_us(a, b),
            distance_m=distance_m, cross_device_error_us=cross_device_error_us(a, b),
            manual=a.manual or b.manual, coarse=placed_by_receipt(a, b),
        )  # fmt: skip


@dataclass(frozen=True)
class RunOutcome:
    """What a rep produced; `total_us` is set only for a FINISHED rep.

    For coach-go and reactive starts `reaction_us` is signal (GO, cue onset) to the start
    role's crossing and `movement_us` the rest of the first split, kept apart because they
    measure different things (deciding vs moving). Both None when not measured.
    """

    state: RunState
    splits: tuple[SplitResult, ...]
    total_us: int | None
    reason: str | None
    reaction_us: int | None = None
    movement_us: int | None = None


def by_stamp(a: Crossing, b: Crossing) -> int:
    """cmp for `cmp_to_key`: stamps compared exactly as splits are computed (ticks or mono)."""
    diff = elapsed_us(a.at, b.at)  # > 0 when b is later than a
    return (diff < 0) - (diff > 0)
