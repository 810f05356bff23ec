"""The run engine: a pure state machine turning role crossings into splits for one rep."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from drills.errors import EngineError
from drills.model import Drill
from drills.timing import Stamp, elapsed_us


class RunState(Enum):
    """Where one rep is. FINISHED, TIMEOUT and VOID are final apart from voiding afterwards."""

    ARMED = "armed"
    RUNNING = "running"
    FINISHED = "finished"
    TIMEOUT = "timeout"
    VOID = "void"


# Spelled out as data so every state change is checked in one place, and so a reader can see
# the whole life of a rep at a glance. A coach may void a rep after it finished or timed out
# (a slip noticed late); nothing leaves VOID.
ALLOWED_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.ARMED: frozenset({RunState.RUNNING, RunState.VOID}),
    RunState.RUNNING: frozenset({RunState.FINISHED, RunState.TIMEOUT, RunState.VOID}),
    RunState.FINISHED: frozenset({RunState.VOID}),
    RunState.TIMEOUT: frozenset({RunState.VOID}),
    RunState.VOID: frozenset(),
}

_OVER = frozenset({RunState.FINISHED, RunState.TIMEOUT, RunState.VOID})


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


@dataclass(frozen=True)
class RunOutcome:
    """What a rep produced; `total_us` is set only for a FINISHED rep."""

    state: RunState
    splits: tuple[SplitResult, ...]
    total_us: int | None
    reason: str | None


class RunEngine:
    """Times one athlete's rep of one drill.

    No I/O and no clock of its own: the caller feeds crossings and the current time, so the
    same code runs live, in the simulator and when recomputing a rep from stored raw events.
    Odd input from the gates (bounces, wrong gate, late events) is ignored and recorded in
    `ignored`, never raised, because a flaky beam must not crash a session.
    """

    def __init__(self, drill: Drill) -> None:
        self._drill = drill
        self._state = RunState.ARMED
        self._started_at: Stamp | None = None
        self._last_at: Stamp | None = None  # last accepted crossing of any role
        self._last_by_role: dict[str, Stamp] = {}
        self._splits: list[SplitResult] = []
        self._total_us: int | None = None
        self._reason: str | None = None
        self._ignored: list[tuple[Crossing, str]] = []

    @property
    def drill(self) -> Drill:
        return self._drill

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def started_at(self) -> Stamp | None:
        """Stamp of the crossing that started timing; the caller's timeout scheduling needs it."""
        return self._started_at

    @property
    def ignored(self) -> list[tuple[Crossing, str]]:
        """Crossings that did not count, with why; a copy, kept for the rep's audit trail."""
        return list(self._ignored)

    @property
    def expected_role(self) -> str | None:
        """The role whose next crossing counts, or None once the rep is over."""
        if self._state is RunState.ARMED:
            return self._drill.start_role
        if self._state is RunState.RUNNING:
            return self._drill.segments[len(self._splits)].to_role
        return None

    def _go(self, new: RunState) -> None:
        if new not in ALLOWED_TRANSITIONS[self._state]:
            raise EngineError(f"cannot go from {self._state.value} to {new.value}")
        self._state = new

    def _ignore(self, c: Crossing, reason: str) -> list[SplitResult]:
        self._ignored.append((c, reason))
        return []

    def crossing(self, c: Crossing) -> list[SplitResult]:
        """Feed one crossing; returns the splits it completed (empty if it did not count)."""
        if self._state in _OVER:
            return self._ignore(c, f"run over ({self._state.value})")
        if c.role not in self._drill.roles:
            return self._ignore(c, f"unknown role '{c.role}'")
        last = self._last_by_role.get(c.role)
        # Arm then leg: one pass through a beam often breaks it twice in a few hundred ms.
        if last is not None and elapsed_us(last, c.at) <= self._drill.rearm_us:
            return self._ignore(c, f"debounce: '{c.role}' re-broken within the re-arm time")
        expected = self.expected_role
        if c.role != expected:
            return self._ignore(c, f"not expected: waiting for '{expected}'")
        if self._last_at is not None and elapsed_us(self._last_at, c.at) < 0:
            return self._ignore(c, "stamped before the previous accepted crossing")
        if self._state is RunState.ARMED:
            self._go(RunState.RUNNING)
            self._started_at = c.at
            self._accept(c)
            return []
        started, previous = self._started_at, self._last_at
        if started is None or previous is None:
            raise EngineError("running without a start crossing")  # unreachable by design
        if elapsed_us(started, c.at) > self._drill.time_limit_us:
            # The event arrived before poll() noticed, but the athlete was already over time.
            self._time_out()
            return self._ignore(c, "after the time limit")
        segment = self._drill.segments[len(self._splits)]
        split = SplitResult(
            name=segment.name,
            from_role=segment.from_role,
            to_role=segment.to_role,
            elapsed_us=elapsed_us(previous, c.at),
            distance_m=segment.distance_m,
        )
        self._splits.append(split)
        self._accept(c)
        if len(self._splits) == len(self._drill.segments):
            self._go(RunState.FINISHED)
            self._total_us = elapsed_us(started, c.at)
        return [split]

    def _accept(self, c: Crossing) -> None:
        self._last_at = c.at
        self._last_by_role[c.role] = c.at

    def _time_out(self) -> None:
        self._go(RunState.TIMEOUT)
        self._reason = f"not finished within {self._drill.time_limit_us / 1_000_000:g} s"

    def poll(self, now_mono_us: int) -> RunState:
        """Time out a RUNNING rep once `now - start > time_limit`; returns the state after.

        `now_mono_us` is host monotonic time. Events reach the host some milliseconds after
        they happen, so a caller polling right at the limit should allow for that latency
        before calling, or a finish stamped just inside the limit could be lost.
        """
        started = self._started_at
        if (
            self._state is RunState.RUNNING
            and started is not None
            and now_mono_us - started.mono_us > self._drill.time_limit_us
        ):
            self._time_out()
        return self._state

    def void(self, reason: str) -> None:
        """Mark the rep as not counting (false start, slip, wrong athlete).

        Raises EngineError if it is already void: voiding twice is a caller bug.
        """
        self._go(RunState.VOID)
        self._reason = reason
        self._total_us = None

    def outcome(self) -> RunOutcome:
        """Snapshot of the rep; splits done so far are kept even when it did not finish."""
        return RunOutcome(
            state=self._state,
            splits=tuple(self._splits),
            total_us=self._total_us if self._state is RunState.FINISHED else None,
            reason=self._reason,
        )
