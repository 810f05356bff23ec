"""The run engine's core: a pure state machine turning role crossings into splits."""

from __future__ import annotations

from functools import cmp_to_key

from drills.errors import EngineError
from drills.model import Drill
from drills.run_state import (
    ALLOWED_TRANSITIONS,
    OVER,
    Crossing,
    RunOutcome,
    RunState,
    SplitResult,
    by_stamp,
)
from drills.timing import Stamp, elapsed_us

EARLIER_REBREAK = "earlier re-break arrived late"
BEFORE_PREVIOUS = "stamped before the previous accepted crossing"


class ChainEngine:
    """Times one athlete's rep of one drill along its chain of crossings (the auto start).

    No I/O and no clock of its own: the caller feeds crossings and the current time, so the
    same code runs live, in the simulator and when recomputing a rep from stored raw events.
    Odd input from the gates (bounces, wrong gate, late events) is ignored and recorded in
    `ignored`, never raised, because a flaky beam must not crash a session.

    Crossings may arrive out of stamp order (devices re-send events the host missed). A
    crossing of a role later in the chain than the expected one is held in `pending`; every
    time a crossing is accepted, the held ones are retried in stamp order, so a run completes
    the same whichever order its crossings arrived in.

    Start types other than auto live in RunEngine (drills/engine.py), which hooks in through
    `_start_specific` and `_on_over`.
    """

    def __init__(self, drill: Drill) -> None:
        self._drill = drill
        self._chain = drill.roles_in_order
        self._state = RunState.ARMED
        self._started_at: Stamp | None = None
        self._last_at: Stamp | None = None  # last accepted crossing of any role
        self._last_by_role: dict[str, Stamp] = {}
        self._splits: list[SplitResult] = []
        self._total_us: int | None = None
        self._reason: str | None = None
        self._ignored: list[tuple[Crossing, str]] = []
        self._pending: list[Crossing] = []  # held crossings, kept in stamp order
        self._split_from: Stamp | None = None  # where the next split runs from
        self._reaction_us: int | None = None  # signal starts: signal to the start crossing
        self._first_split_at: Stamp | None = None

    @property
    def drill(self) -> Drill:
        return self._drill

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def started_at(self) -> Stamp | None:
        """Stamp timing started at (start crossing, hold release, GO or cue onset).

        The caller's timeout scheduling needs it.
        """
        return self._started_at

    @property
    def ignored(self) -> list[tuple[Crossing, str]]:
        """Crossings that did not count, with why; a copy, kept for the rep's audit trail."""
        return list(self._ignored)

    @property
    def pending(self) -> tuple[Crossing, ...]:
        """Crossings held because they arrived before a crossing earlier in the chain.

        In stamp order. Empty once the rep is over: leftovers then move to `ignored`.
        """
        return tuple(sorted(self._pending, key=cmp_to_key(by_stamp)))

    def crossed(self, role: str) -> bool:
        """Whether a crossing of `role` has been accepted (a reactive target lights on it)."""
        return role in self._last_by_role

    @property
    def expected_role(self) -> str | None:
        """The role whose next crossing counts, or None once the rep is over."""
        position = self._position()
        return None if position is None else self._chain[position]

    def _position(self) -> int | None:
        """Index in `roles_in_order` of the crossing expected next, None once over."""
        if self._state in (RunState.ARMED, RunState.WAITING_CUE):
            return 0
        if self._state is RunState.RUNNING:
            return len(self._splits) + 1
        return None

    def _later_in_chain(self, role: str) -> bool:
        position = self._position()
        return position is not None and role in self._chain[position + 1 :]

    def _go(self, new: RunState) -> None:
        if new not in ALLOWED_TRANSITIONS[self._state]:
            raise EngineError(f"cannot go from {self._state.value} to {new.value}")
        self._state = new
        if new in OVER:
            # Nothing held can count any more; keep it in the audit trail, with the most
            # specific reason (a held bounce of the finish is a bounce, not a late event).
            for held in self._pending:
                reason = self._bounce(held)
                if reason is None and self._before_previous(held):
                    reason = BEFORE_PREVIOUS
                self._ignored.append((held, reason or f"run over ({new.value})"))
            self._pending.clear()
            self._on_over(new)

    def _ignore(self, c: Crossing, reason: str) -> list[SplitResult]:
        self._ignored.append((c, reason))
        return []

    def _bounce(self, c: Crossing) -> str | None:
        """Why `c` is a second break of its role's accepted crossing, or None if it is not."""
        last = self._last_by_role.get(c.role)
        if last is None:
            return None
        # Arm then leg: one pass through a beam often breaks it twice in a few hundred ms.
        since = elapsed_us(last, c.at)
        if 0 <= since <= self._drill.rearm_us:
            return f"debounce: '{c.role}' re-broken within the re-arm time"
        if -self._drill.rearm_us <= since < 0:
            # The true first break of a pass whose bounce already counted: first accepted
            # wins, nothing is corrected (a split may already have been handed out).
            return EARLIER_REBREAK
        return None

    def _before_previous(self, c: Crossing) -> bool:
        return self._last_at is not None and elapsed_us(self._last_at, c.at) < 0

    def crossing(self, c: Crossing) -> list[SplitResult]:
        """Feed one crossing; returns every split it completed, in chain order.

        Usually zero or one split; several when this crossing let held ones complete.
        For a hold start this is the "beam broken" edge; use `beam_edge` for restores too.
        """
        if self._state not in OVER and c.role in self._drill.roles:
            handled = self._start_specific(c)
            if handled is not None:
                return handled
        if self._state in OVER:
            # The arm's break of the finish arriving after the leg's already finished the rep
            # is the case coaches will ask about, so it keeps its own reason.
            late = self._bounce(c) if c.role in self._drill.roles else None
            if late != EARLIER_REBREAK:
                late = f"run over ({self._state.value})"
            return self._ignore(c, late)
        if c.role not in self._drill.roles:
            return self._ignore(c, f"unknown role '{c.role}'")
        bounce = self._bounce(c)
        if bounce is not None:
            return self._ignore(c, bounce)
        expected = self.expected_role
        if c.role != expected and not self._later_in_chain(c.role):
            return self._ignore(c, f"not expected: waiting for '{expected}'")
        if self._before_previous(c):
            return self._ignore(c, BEFORE_PREVIOUS)
        if c.role != expected:
            # A later gate heard before an earlier one: wait for the earlier one.
            self._pending.append(c)
            self._pending.sort(key=cmp_to_key(by_stamp))
            return []
        splits = self._take(c)
        splits.extend(self._retry_pending())
        return splits

    def _start_specific(self, c: Crossing) -> list[SplitResult] | None:
        """Handle `c` the way a start type needs, or None for the plain chain (auto start)."""
        del c
        return None

    def _on_over(self, new: RunState) -> None:
        """The rep just ended in `new`: a start type moves what it holds to `ignored`."""
        del new

    def _retry_pending(self) -> list[SplitResult]:
        """After an acceptance, settle held crossings in stamp order until none can move."""
        splits: list[SplitResult] = []
        progress = True
        while progress and self._pending and self._state not in OVER:
            progress = False
            expected = self.expected_role
            for index, held in enumerate(self._pending):
                reason = self._bounce(held)
                if reason is None and self._before_previous(held):
                    reason = BEFORE_PREVIOUS
                if reason is None and held.role != expected and not self._later_in_chain(held.role):
                    reason = f"not expected: waiting for '{expected}'"
                if reason is not None or held.role == expected:
                    # Settle one crossing, then rescan: what counts depends on what moved.
                    del self._pending[index]
                    if reason is not None:
                        self._ignore(held, reason)
                    else:
                        splits.extend(self._take(held))
                    progress = True
                    break
        return splits

    def _take(self, c: Crossing) -> list[SplitResult]:
        """Accept `c`, a crossing of the expected role already checked for order and bounces."""
        if self._state is RunState.ARMED:
            self._go(RunState.RUNNING)
            self._started_at = c.at
            self._accept(c)
            return []
        started, previous = self._started_at, self._split_from
        if started is None or previous is None:
            raise EngineError("running without a start crossing")  # unreachable by design
        if elapsed_us(started, c.at) > self._drill.time_limit_us:
            # The event arrived before poll() noticed, but the athlete was already over time.
            self._ignore(c, "after the time limit")
            self._time_out()
            return []
        segment = self._drill.segments[len(self._splits)]
        split = SplitResult.between(
            segment.name, segment.from_role, segment.to_role, previous, c.at, segment.distance_m
        )
        self._splits.append(split)
        if self._first_split_at is None:
            self._first_split_at = c.at
        self._accept(c)
        if len(self._splits) == len(self._drill.segments):
            self._total_us = elapsed_us(started, c.at)
            self._go(RunState.FINISHED)
        return [split]

    def _accept(self, c: Crossing, split_point: bool = True) -> None:
        """Record `c` as accepted; a reaction point is not a split point, so splits keep
        running from the signal."""
        self._last_at = c.at
        self._last_by_role[c.role] = c.at
        if split_point:
            self._split_from = c.at

    def _time_out(self) -> None:
        self._go(RunState.TIMEOUT)
        self._reason = f"not finished within {self._drill.time_limit_us / 1_000_000:g} s"

    def poll(self, now_mono_us: int) -> RunState:
        """Time out a RUNNING rep once `now - start > time_limit`; returns the state after.

        `now_mono_us` is host monotonic time. Events reach the host some milliseconds after
        they happen, so a caller polling right at the limit should allow for that latency
        before calling, or a finish stamped just inside the limit could be lost. Held
        crossings do not need a poll to complete: they are settled inside `crossing()`.
        Only RUNNING times out: a hold not yet released or a cue not yet given has no run
        time, and the server voids a rep whose cue never came.
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
        movement = None
        if self._reaction_us is not None and self._splits:
            movement = self._splits[0].elapsed_us - self._reaction_us
        return RunOutcome(
            state=self._state,
            splits=tuple(self._splits),
            total_us=self._total_us if self._state is RunState.FINISHED else None,
            reason=self._reason,
            reaction_us=self._reaction_us,
            movement_us=movement,
        )
