"""The run engine: the chain of crossings (drills/chain.py) plus the start types."""

from __future__ import annotations

import random
from functools import cmp_to_key

from drills import cues
from drills.chain import ChainEngine
from drills.cues import CuePlan
from drills.errors import EngineError
from drills.model import Drill, StartType
from drills.run_state import (
    ALLOWED_TRANSITIONS,
    Crossing,
    RunOutcome,
    RunState,
    SplitResult,
    by_stamp,
)
from drills.timing import Stamp, elapsed_us

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Crossing",
    "RunEngine",
    "RunOutcome",
    "RunState",
    "SplitResult",
]


class RunEngine(ChainEngine):
    """The run engine with every start type: auto (the chain alone), hold, coach GO and
    reactive. See drills/README.md, "Run engine", for the rules; ChainEngine for the chain.
    """

    def __init__(self, drill: Drill) -> None:
        super().__init__(drill)
        self._hold_since: Stamp | None = None  # hold start: the start beam broken since then
        self._edges_seen = False  # beam_edge() called: the caller reports restores too
        self._before_go: list[Crossing] = []  # coach-go: crossings heard before GO
        self._plan: CuePlan | None = None
        self._onset: Stamp | None = None  # reactive: when the cue was actually given
        self._false_start: Crossing | None = None

    @property
    def pending(self) -> tuple[Crossing, ...]:
        """Crossings held because they arrived before a crossing earlier in the chain, and,
        for a coach-go start, those heard before GO (judged when GO comes). In stamp order."""
        return tuple(sorted((*self._before_go, *self._pending), key=cmp_to_key(by_stamp)))

    def _on_over(self, new: RunState) -> None:
        for early in self._before_go:
            self._ignored.append((early, f"before GO (run over: {new.value})"))
        self._before_go.clear()

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
        heard = sorted(self._before_go, key=cmp_to_key(by_stamp))
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
