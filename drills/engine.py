"""The run engine: a pure state machine turning role crossings into splits for one rep."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from functools import cmp_to_key

from drills import cues
from drills.cues import CuePlan
from drills.errors import EngineError
from drills.model import Drill, StartType
from drills.timing import Stamp, elapsed_us


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

_OVER = frozenset({RunState.FINISHED, RunState.TIMEOUT, RunState.FALSE_START, RunState.VOID})
_SIGNAL_STARTS = frozenset({StartType.COACH_GO, StartType.REACTIVE})

_EARLIER_REBREAK = "earlier re-break arrived late"
_BEFORE_PREVIOUS = "stamped before the previous accepted crossing"


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


def _by_stamp(a: Crossing, b: Crossing) -> int:
    """cmp for `cmp_to_key`: stamps compared exactly as splits are computed (ticks or mono)."""
    diff = elapsed_us(a.at, b.at)  # > 0 when b is later than a
    return (diff < 0) - (diff > 0)


class RunEngine:
    """Times one athlete's rep of one drill.

    No I/O and no clock of its own: the caller feeds crossings and the current time, so the
    same code runs live, in the simulator and when recomputing a rep from stored raw events.
    Odd input from the gates (bounces, wrong gate, late events) is ignored and recorded in
    `ignored`, never raised, because a flaky beam must not crash a session.

    Crossings may arrive out of stamp order (devices re-send events the host missed). A
    crossing of a role later in the chain than the expected one is held in `pending`; every
    time a crossing is accepted, the held ones are retried in stamp order, so a run completes
    the same whichever order its crossings arrived in.
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
        # Start types other than auto (see drills/README.md, "Run engine").
        self._split_from: Stamp | None = None  # where the next split runs from
        self._hold_since: Stamp | None = None  # hold start: the start beam broken since then
        self._edges_seen = False  # beam_edge() called: the caller reports restores too
        self._before_go: list[Crossing] = []  # coach-go: crossings heard before GO
        self._plan: CuePlan | None = None
        self._onset: Stamp | None = None  # reactive: when the cue was actually given
        self._false_start: Crossing | None = None
        self._reaction_us: int | None = None
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

        In stamp order. Empty once the rep is over: leftovers then move to `ignored`. For a
        coach-go start it also holds the crossings heard before GO, judged when GO comes.
        """
        return tuple(sorted((*self._before_go, *self._pending), key=cmp_to_key(_by_stamp)))

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
        if new in _OVER:
            # Nothing held can count any more; keep it in the audit trail, with the most
            # specific reason (a held bounce of the finish is a bounce, not a late event).
            for held in self._pending:
                reason = self._bounce(held)
                if reason is None and self._before_previous(held):
                    reason = _BEFORE_PREVIOUS
                self._ignored.append((held, reason or f"run over ({new.value})"))
            self._pending.clear()
            for early in self._before_go:
                self._ignored.append((early, f"before GO (run over: {new.value})"))
            self._before_go.clear()

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
            return _EARLIER_REBREAK
        return None

    def _before_previous(self, c: Crossing) -> bool:
        return self._last_at is not None and elapsed_us(self._last_at, c.at) < 0

    def crossing(self, c: Crossing) -> list[SplitResult]:
        """Feed one crossing; returns every split it completed, in chain order.

        Usually zero or one split; several when this crossing let held ones complete.
        For a hold start this is the "beam broken" edge; use `beam_edge` for restores too.
        """
        if self._state not in _OVER and c.role in self._drill.roles:
            handled = self._start_specific(c)
            if handled is not None:
                return handled
        if self._state in _OVER:
            # The arm's break of the finish arriving after the leg's already finished the rep
            # is the case coaches will ask about, so it keeps its own reason.
            late = self._bounce(c) if c.role in self._drill.roles else None
            if late != _EARLIER_REBREAK:
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
            return self._ignore(c, _BEFORE_PREVIOUS)
        if c.role != expected:
            # A later gate heard before an earlier one: wait for the earlier one.
            self._pending.append(c)
            self._pending.sort(key=cmp_to_key(_by_stamp))
            return []
        splits = self._take(c)
        splits.extend(self._retry_pending())
        return splits

    def beam_edge(self, role: str, broken: bool, at: Stamp) -> list[SplitResult]:
        """Feed every edge of a beam: `broken` True is a crossing, False the beam restored.

        Only a hold start needs restores (leaving the start beam starts the clock), so for
        every other case a restore is dropped without a trace: it is not a crossing. The hold
        rule applies once this is called: a caller feeding `crossing()` alone (break-only
        gates, stored reps) cannot report a hold and gets the auto behaviour instead.
        """
        self._edges_seen = True
        if broken:
            return self.crossing(Crossing(role, at))
        if (
            self._drill.start.type is StartType.HOLD
            and self._state is RunState.ARMED
            and role == self._drill.start_role
        ):
            return self._hold_release(Crossing(role, at))
        return []

    def go(self, at: Stamp) -> list[SplitResult]:
        """Coach-go start: the clock starts at `at`, the GO tap mapped to host time.

        Crossings heard before the call are replayed: those stamped before GO are ignored
        ("before GO"), later ones count, since the tap may reach the host after the gates'
        events. Raises EngineError for another start type or when not armed (caller bugs).
        """
        if self._drill.start.type is not StartType.COACH_GO:
            raise EngineError(
                f"{self._drill.slug} starts '{self._drill.start.type.value}', not on GO"
            )
        self._go(RunState.RUNNING)
        self._started_at = self._last_at = self._split_from = at
        heard = sorted(self._before_go, key=cmp_to_key(_by_stamp))
        self._before_go.clear()
        splits: list[SplitResult] = []
        for c in heard:
            splits.extend(self.crossing(c))
        return splits

    def plan_cue(self, rng: random.Random) -> CuePlan:
        """Draw this rep's foreperiod and lit target from `rng` (seeded: replayable).

        A reactive start moves ARMED -> WAITING_CUE. With a target choice the engine swaps
        in the chosen target (`Drill.resolve_target`), so `drill` and `roles_in_order` follow
        the lit gate from here on. Only while armed and only once per rep: a second plan
        would silently change what the athlete was shown.
        """
        if self._plan is not None:
            raise EngineError("the cue is already planned for this rep")
        if self._state is not RunState.ARMED:
            raise EngineError(f"plan the cue while armed, not {self._state.value}")
        plan = cues.plan_cue(self._drill, rng)
        if plan.target is not None:
            self._drill = self._drill.resolve_target(plan.target)
            self._chain = self._drill.roles_in_order
        self._plan = plan
        if plan.foreperiod_us is not None:
            self._go(RunState.WAITING_CUE)
        return plan

    def cue_onset(self, at: Stamp) -> list[SplitResult]:
        """Reactive start: the cue was given at `at` (the LIGHT_ON/BEEP event's stamp).

        WAITING_CUE -> RUNNING with the clock at the onset. A repeated onset (re-sent event)
        is dropped, first one wins; an onset after a false start only makes the reason say
        how early the athlete went. Raises EngineError when no cue was planned.
        """
        if self._drill.start.type is not StartType.REACTIVE:
            raise EngineError(f"{self._drill.slug} has no reactive start")
        if self._onset is not None or self._state is RunState.VOID:
            return []
        if self._state is RunState.FALSE_START:
            self._onset = at
            self._reason = self._false_start_reason()
            return []
        if self._state is not RunState.WAITING_CUE:
            raise EngineError(f"cue onset while {self._state.value}: plan the cue first")
        if not self._drill.start.clock_starts_on_signal:
            # StartSpec makes this True for every reactive start; fail loudly if that changes.
            raise EngineError("a reactive start timed from the start crossing is not supported")
        self._onset = at
        self._go(RunState.RUNNING)
        self._started_at = self._last_at = self._split_from = at
        return []

    @property
    def cue_plan(self) -> CuePlan | None:
        return self._plan

    @property
    def cue_onset_at(self) -> Stamp | None:
        return self._onset

    @property
    def holding_since(self) -> Stamp | None:
        """Hold start: when the athlete broke the start beam, so the UI can count down."""
        return self._hold_since

    def _start_specific(self, c: Crossing) -> list[SplitResult] | None:
        """Handle `c` (a known role, rep not over) the way the start type needs, or return
        None to let the plain chain logic (the auto behaviour) take it."""
        kind = self._drill.start.type
        if kind is StartType.HOLD:
            if (
                self._edges_seen
                and self._state is RunState.ARMED
                and c.role == self._drill.start_role
            ):
                return self._hold_break(c)
            return None
        if kind is StartType.COACH_GO:
            if self._state is RunState.ARMED:
                self._before_go.append(c)  # judged when GO arrives
                return []
            return self._after_signal(c, "before GO")
        if kind is StartType.REACTIVE:
            if self._state is RunState.ARMED:
                return self._ignore(c, "before the cue was planned")
            if self._state is RunState.WAITING_CUE:
                if c.role == self._drill.start_role:
                    self._declare_false_start(c)
                    return []
                return self._ignore(c, "before the cue")
            return self._after_signal(c, "before the cue")
        return None

    def _after_signal(self, c: Crossing, early: str) -> list[SplitResult] | None:
        """Running after GO or the cue: the start role's first crossing is a reaction point,
        not a split (splits run from the signal); anything stamped before the signal is early.
        """
        signal = self._started_at
        if signal is None:
            raise EngineError("running without a signal")  # unreachable by design
        start_role = self._drill.start_role
        if elapsed_us(signal, c.at) < 0:
            if self._drill.start.type is StartType.REACTIVE and c.role == start_role:
                self._declare_false_start(c)
                return []
            return self._ignore(c, early)
        if c.role != start_role or self._reaction_us is not None:
            return None
        first = self._first_split_at
        if first is None:
            if self._before_previous(c):
                return None
            self._reaction_us = elapsed_us(signal, c.at)
            self._accept(c, split_point=False)
            return self._retry_pending()
        if elapsed_us(c.at, first) > 0:
            # Arrived after the first split was handed out but happened before it: the
            # reaction time can still be told; the splits do not depend on it.
            self._reaction_us = elapsed_us(signal, c.at)
            return self._ignore(c, "start crossing arrived late: reaction time kept, no split")
        return None

    def _declare_false_start(self, c: Crossing) -> None:
        self._false_start = c
        self._go(RunState.FALSE_START)
        self._reason = self._false_start_reason()
        self._total_us = None

    def _false_start_reason(self) -> str:
        c = self._false_start
        if c is None:
            raise EngineError("no false start recorded")  # unreachable by design
        onset = self._onset
        if onset is None:
            return f"false start: '{c.role}' broken before the cue"
        early_ms = elapsed_us(c.at, onset) / 1000
        return f"false start: '{c.role}' broken {early_ms:.0f} ms before the cue"

    def _hold_break(self, c: Crossing) -> list[SplitResult]:
        """The start beam broken while armed: the hold begins (or restarts, if a restore was
        lost, because a continuous hold cannot be proven across the gap)."""
        since = self._hold_since
        if since is not None and elapsed_us(since, c.at) <= 0:
            return self._ignore(c, "hold: beam already broken since this stamp")
        self._hold_since = c.at
        return []

    def _hold_release(self, c: Crossing) -> list[SplitResult]:
        """The start beam restored while armed: a full hold starts the clock, a short one
        resets the hold (fidgeting is not a false start)."""
        since = self._hold_since
        if since is None:
            return self._ignore(c, "hold: beam restored without a break")
        held = elapsed_us(since, c.at)
        if held < 0:
            return self._ignore(c, "hold: restore stamped before the break")
        self._hold_since = None
        needed = self._drill.start.hold_us or 0
        if held < needed:
            return self._ignore(
                c, f"hold too short ({held / 1000:.0f} ms of {needed / 1000:.0f} ms): hold reset"
            )
        self._go(RunState.RUNNING)
        self._started_at = c.at
        self._accept(c)
        return self._retry_pending()

    def _retry_pending(self) -> list[SplitResult]:
        """After an acceptance, settle held crossings in stamp order until none can move."""
        splits: list[SplitResult] = []
        progress = True
        while progress and self._pending and self._state not in _OVER:
            progress = False
            expected = self.expected_role
            for index, held in enumerate(self._pending):
                reason = self._bounce(held)
                if reason is None and self._before_previous(held):
                    reason = _BEFORE_PREVIOUS
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
        split = SplitResult(
            name=segment.name,
            from_role=segment.from_role,
            to_role=segment.to_role,
            elapsed_us=elapsed_us(previous, c.at),
            distance_m=segment.distance_m,
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
