"""Interval drills: the block schedule and a pure state machine the server drives with time.

No clock and no I/O: every call takes the host-monotonic `now`, so the same code runs live,
in the simulator and in tests. Durations are real microseconds; a simulator's time scale is
the caller's business (it scales the `now` it passes), never the engine's. See
drills/README.md, "Interval sessions".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, StrEnum

from drills.errors import EngineError
from drills.model import BlockKind, Cue, Drill, Movement, Timing
from drills.timing import Stamp


@dataclass(frozen=True)
class BlockSlot:
    """One block of one round at its place on the host-monotonic clock.

    `index` is the 0-based position in the whole session, `round` counts from 1 (as coaches
    say "round 3 of 6") and `block_index` is the 0-based position in `Drill.blocks`.
    """

    index: int
    round: int
    block_index: int
    name: str
    kind: BlockKind
    start_mono_us: int
    end_mono_us: int
    cue: Cue | None
    movement: Movement | None

    @property
    def duration_us(self) -> int:
        return self.end_mono_us - self.start_mono_us


def _check(drill: Drill) -> None:
    if drill.timing is not Timing.INTERVALS or not drill.blocks:
        raise EngineError(f"{drill.slug} is a {drill.timing.value} drill, not an interval drill")


def duration_us(drill: Drill) -> int:
    """The whole session without pauses: every block, `reps` times."""
    _check(drill)
    return drill.reps * sum(b.duration_us for b in drill.blocks)


def schedule(drill: Drill, start_mono_us: int) -> tuple[BlockSlot, ...]:
    """Every block of every round, back to back from `start_mono_us`."""
    _check(drill)
    slots: list[BlockSlot] = []
    at = start_mono_us
    for rnd in range(1, drill.reps + 1):
        for i, block in enumerate(drill.blocks):
            end = at + block.duration_us
            slots.append(
                BlockSlot(
                    len(slots), rnd, i, block.name, block.kind, at, end, block.cue, block.movement
                )
            )
            at = end
    return tuple(slots)


class IntervalState(Enum):
    """FINISHED: the last block ran out (or was skipped); STOPPED: ended early by the coach."""

    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"


ALLOWED_TRANSITIONS: dict[IntervalState, frozenset[IntervalState]] = {
    IntervalState.RUNNING: frozenset(
        {IntervalState.PAUSED, IntervalState.FINISHED, IntervalState.STOPPED}
    ),
    # Skipping the last block while paused ends the session.
    IntervalState.PAUSED: frozenset(
        {IntervalState.RUNNING, IntervalState.FINISHED, IntervalState.STOPPED}
    ),
    IntervalState.FINISHED: frozenset(),
    IntervalState.STOPPED: frozenset(),
}


class SlotStatus(StrEnum):
    PENDING = "pending"  # not begun (yet, or ever if the session ended first)
    RUNNING = "running"  # begun and not over (the session may be paused in it)
    DONE = "done"  # ran to its end
    SKIPPED = "skipped"  # ended early by skip_block (zero long if skipped before it began)
    CUT = "cut"  # the session was stopped during it


@dataclass(frozen=True)
class Position:
    """Where the session is: the slot as now scheduled and the time left in it.

    Before the session's start, or after a skip while paused, the slot has not begun and
    `remaining_us` is its full length.
    """

    slot: BlockSlot
    remaining_us: int
    paused: bool


@dataclass(frozen=True)
class CueOnset:
    """A beep the device reported for a slot, kept for the audit trail in `ignored`."""

    slot_index: int
    at: Stamp


@dataclass(frozen=True)
class SlotRecord:
    """What happened to one slot. `slot` is as first scheduled; `started_mono_us` and
    `ended_mono_us` are host times after pauses and skips; `cue_at` is the device's stamp
    of the beep, when it reported one, which is when the athlete heard the block begin."""

    slot: BlockSlot
    status: SlotStatus
    started_mono_us: int | None
    ended_mono_us: int | None
    paused_us: int
    cue_at: Stamp | None

    @property
    def actual_start_mono_us(self) -> int | None:
        """Device-stamped start where known, else the host schedule's."""
        return self.cue_at.mono_us if self.cue_at is not None else self.started_mono_us


@dataclass(frozen=True)
class IntervalOutcome:
    """`rounds_completed` counts rounds gone through (each block ran out or was skipped);
    `work_blocks_completed` only work blocks that ran to their end; `work_us` is time spent
    in work blocks, pauses excluded, partial blocks included."""

    state: IntervalState
    slots: tuple[SlotRecord, ...]
    rounds_completed: int
    work_blocks_completed: int
    work_us: int


class IntervalSession:
    """One interval session on the host clock.

    The schedule is shifted as the coach pauses and skips: resuming moves the rest of the
    schedule later by the pause, skipping moves it earlier so the next block begins at
    once. `slots` is always the schedule as it now stands, for the server to time its
    beeps. A `now` older than one already seen is taken as the latest one (calls from
    different tasks may carry slightly stale times); time never runs backwards here.
    """

    def __init__(self, drill: Drill, start_mono_us: int) -> None:
        planned = schedule(drill, start_mono_us)
        self._drill = drill
        self._planned = planned
        self._starts = [s.start_mono_us for s in planned]
        self._ends = [s.end_mono_us for s in planned]
        self._paused_us = [0] * len(planned)
        self._status: list[SlotStatus | None] = [None] * len(planned)  # set once a slot ends
        self._cue_at: list[Stamp | None] = [None] * len(planned)
        self._index = 0  # the current slot
        self._state = IntervalState.RUNNING
        self._now: int | None = None  # latest now seen; None before the first call
        self._paused_at: int | None = None
        self._interrupted = False  # the pause came while the current slot had begun
        self._ignored: list[tuple[CueOnset, str]] = []

    @property
    def drill(self) -> Drill:
        return self._drill

    @property
    def state(self) -> IntervalState:
        return self._state

    @property
    def slots(self) -> tuple[BlockSlot, ...]:
        return tuple(
            replace(s, start_mono_us=self._starts[i], end_mono_us=self._ends[i])
            for i, s in enumerate(self._planned)
        )

    @property
    def ignored(self) -> list[tuple[CueOnset, str]]:
        return list(self._ignored)

    def _go(self, new: IntervalState) -> None:
        if new not in ALLOWED_TRANSITIONS[self._state]:
            raise EngineError(f"cannot go from {self._state.value} to {new.value}")
        self._state = new

    def _advance(self, now_mono_us: int) -> int:
        """Catch up with `now`: close every slot that ran out. Returns the effective now."""
        now = self._now = now_mono_us if self._now is None else max(now_mono_us, self._now)
        if self._state is IntervalState.RUNNING:
            while self._index < len(self._ends) and now >= self._ends[self._index]:
                self._status[self._index] = SlotStatus.DONE
                self._index += 1
            if self._index == len(self._ends):
                self._go(IntervalState.FINISHED)
        return now

    def _begun(self) -> bool:
        """Whether the current slot has begun: while paused, only if the pause came in it (a
        slot reached by skipping during a pause begins on resume)."""
        if self._paused_at is not None:
            return self._interrupted
        return self._now is not None and self._starts[self._index] <= self._now

    def _shift(self, first: int, delta: int) -> None:
        for i in range(first, len(self._starts)):
            self._starts[i] += delta
            self._ends[i] += delta

    def current(self, now_mono_us: int) -> Position | None:
        """The current slot and the time left in it; None once finished or stopped."""
        now = self._advance(now_mono_us)
        if self._state not in (IntervalState.RUNNING, IntervalState.PAUSED):
            return None
        at = now if self._paused_at is None else self._paused_at
        i = self._index
        start, end = self._starts[i], self._ends[i]
        remaining = end - max(at, start)
        slot = replace(self._planned[i], start_mono_us=start, end_mono_us=end)
        return Position(slot, remaining, self._state is IntervalState.PAUSED)

    def pause(self, now_mono_us: int) -> None:
        """Freeze the clock. Raises EngineError unless running (pausing twice, or after the
        end: a server racing the end should check `state` first)."""
        now = self._advance(now_mono_us)
        self._go(IntervalState.PAUSED)
        self._paused_at = now
        self._interrupted = self._starts[self._index] <= now

    def resume(self, now_mono_us: int) -> None:
        """Run on; the rest of the schedule moves later by the pause length. A slot the pause
        interrupted keeps its start and gets the pause added to its end and `paused_us`."""
        paused_at = self._paused_at
        if self._state is not IntervalState.PAUSED or paused_at is None:
            raise EngineError(f"cannot resume: {self._state.value}, not paused")
        now = self._advance(now_mono_us)
        delta = now - paused_at
        i = self._index
        if self._interrupted:
            self._ends[i] += delta
            self._paused_us[i] += delta
            self._shift(i + 1, delta)
        else:
            self._shift(i, delta)
        self._paused_at = None
        self._interrupted = False
        self._go(IntervalState.RUNNING)
        self._advance(now)

    def skip_block(self, now_mono_us: int) -> None:
        """End the current block now and begin the next one at once (while paused, the next
        one begins on resume). Skipping the last block finishes the session."""
        now = self._advance(now_mono_us)
        if self._state not in (IntervalState.RUNNING, IntervalState.PAUSED):
            raise EngineError(f"cannot skip: session {self._state.value}")
        at = now if self._paused_at is None else self._paused_at
        i = self._index
        cut = max(at, self._starts[i])
        self._shift(i + 1, cut - self._ends[i])
        self._ends[i] = cut
        self._status[i] = SlotStatus.SKIPPED
        self._index += 1
        self._interrupted = False
        if self._index == len(self._ends):
            self._paused_at = None
            self._go(IntervalState.FINISHED)

    def stop(self, now_mono_us: int) -> IntervalOutcome:
        """End the session early (while paused: at the pause). Raises EngineError once it is
        already over."""
        now = self._advance(now_mono_us)
        if self._state not in (IntervalState.RUNNING, IntervalState.PAUSED):
            raise EngineError(f"cannot stop: session {self._state.value}")
        at = now if self._paused_at is None else self._paused_at
        i = self._index
        if self._begun():
            self._ends[i] = at
            self._status[i] = SlotStatus.CUT
        self._paused_at = None
        self._go(IntervalState.STOPPED)
        return self.outcome()

    def cue_onset(self, slot_index: int, at: Stamp) -> None:
        """Record the device's stamp of the beep that began slot `slot_index`; first wins.

        Only recorded: the host schedule still decides when blocks end, so a late beep
        report cannot move a block that is already running. Raises EngineError for an index
        outside the schedule.
        """
        if not 0 <= slot_index < len(self._planned):
            raise EngineError(f"no slot {slot_index} (the schedule has {len(self._planned)})")
        onset = CueOnset(slot_index, at)
        over = self._state in (IntervalState.FINISHED, IntervalState.STOPPED)
        if self._planned[slot_index].cue is None:
            self._ignored.append((onset, "this block has no cue"))
        elif self._cue_at[slot_index] is not None:
            self._ignored.append((onset, "repeated onset: the first one counts"))
        elif over and self._status[slot_index] is None:
            self._ignored.append((onset, f"block never began (session {self._state.value})"))
        else:
            self._cue_at[slot_index] = at

    def _record(self, i: int) -> SlotRecord:
        status = self._status[i]
        live = self._state in (IntervalState.RUNNING, IntervalState.PAUSED)
        begun = live and i == self._index and self._begun()
        if status is None:
            status = SlotStatus.RUNNING if begun else SlotStatus.PENDING
        reached = status is not SlotStatus.PENDING
        return SlotRecord(
            slot=self._planned[i],
            status=status,
            started_mono_us=self._starts[i] if reached else None,
            ended_mono_us=self._ends[i] if reached and status is not SlotStatus.RUNNING else None,
            paused_us=self._paused_us[i],
            cue_at=self._cue_at[i],
        )

    def outcome(self, now_mono_us: int | None = None) -> IntervalOutcome:
        """Snapshot, after catching up with `now` when given (else the latest now seen)."""
        if now_mono_us is not None:
            self._advance(now_mono_us)
        at = self._now if self._paused_at is None else self._paused_at
        records = tuple(self._record(i) for i in range(len(self._planned)))
        work_us = 0
        for r in records:
            end = at if r.ended_mono_us is None else r.ended_mono_us  # a running one: so far
            if r.slot.kind is BlockKind.WORK and r.started_mono_us is not None and end is not None:
                work_us += end - r.started_mono_us - r.paused_us
        per_round = len(self._drill.blocks)
        gone = [r.status in (SlotStatus.DONE, SlotStatus.SKIPPED) for r in records]
        rounds = sum(all(gone[k : k + per_round]) for k in range(0, len(gone), per_round))
        return IntervalOutcome(
            state=self._state,
            slots=records,
            rounds_completed=rounds,
            work_blocks_completed=sum(
                r.slot.kind is BlockKind.WORK and r.status is SlotStatus.DONE for r in records
            ),
            work_us=work_us,
        )
