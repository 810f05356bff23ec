"""Pod series: a pure state machine turning lights and pod touches into go/no-go results.

Like the gate engine it has no clock and does no I/O: the server passes device stamps and
host time in, so the same code runs live, in the simulator and on stored events. Odd input
(touches before the light, late events, a second onset) is recorded in `ignored`, never
raised; EngineError is kept for caller bugs. See drills/README.md, "Pod series".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from enum import Enum, StrEnum

from drills.errors import EngineError
from drills.model import Drill
from drills.pod_plan import Stimulus, plan, pod_spec
from drills.timing import Stamp, elapsed_us

__all__ = [
    "PodEvent", "PodEventKind", "PodSeries", "SeriesOutcome", "SeriesState", "SeriesSummary",
    "Stimulus", "StimulusOutcome", "StimulusResult", "plan", "summarise",
]  # fmt: skip


class SeriesState(Enum):
    """A series runs from the coach's GO until its last stimulus is settled. FINISHED can
    still be voided (a slip noticed late); nothing leaves VOID."""

    RUNNING = "running"
    FINISHED = "finished"
    VOID = "void"


ALLOWED_TRANSITIONS: dict[SeriesState, frozenset[SeriesState]] = {
    SeriesState.RUNNING: frozenset({SeriesState.FINISHED, SeriesState.VOID}),
    SeriesState.FINISHED: frozenset({SeriesState.VOID}),
    SeriesState.VOID: frozenset(),
}


class StimulusOutcome(StrEnum):
    """How one light was answered; the first touch after the light decides it."""

    HIT = "hit"  # go light, lit pod touched within the window
    MISS = "miss"  # go light, nothing touched within the window
    CORRECT_REJECTION = "correct_rejection"  # no-go light left alone for the window
    COMMISSION = "commission"  # no-go light touched
    WRONG_POD = "wrong_pod"  # a pod other than the lit one touched


class PodEventKind(StrEnum):
    ONSET = "onset"
    TOUCH = "touch"
    RELEASE = "release"


@dataclass(frozen=True)
class PodEvent:
    """An input as the series received it, kept for the audit trail in `ignored`."""

    kind: PodEventKind
    at: Stamp
    role: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class StimulusResult:
    """One settled stimulus. `response_us` is light to touch (None when nothing was
    touched); with a home release, `reaction_us` is light to leaving home and
    `movement_us` the rest of the response, so the two always add up to it."""

    index: int
    pod: str
    colour: str
    go: bool
    outcome: StimulusOutcome
    response_us: int | None
    reaction_us: int | None
    movement_us: int | None
    touched: str | None  # the role touched, None when the window ran out
    ended_mono_us: int  # touch, or light plus window: the next foreperiod runs from here


@dataclass(frozen=True)
class SeriesSummary:
    """Counts per outcome, and mean (rounded, halves up) and best of the hits' times."""

    hits: int
    misses: int
    correct_rejections: int
    commissions: int
    wrong_pods: int
    mean_response_us: int | None
    best_response_us: int | None
    mean_reaction_us: int | None
    best_reaction_us: int | None
    mean_movement_us: int | None
    best_movement_us: int | None


@dataclass(frozen=True)
class SeriesOutcome:
    state: SeriesState
    results: tuple[StimulusResult, ...]
    summary: SeriesSummary
    reason: str | None


def _mean(values: list[int]) -> int | None:
    return None if not values else (2 * sum(values) + len(values)) // (2 * len(values))


def summarise(results: tuple[StimulusResult, ...] | list[StimulusResult]) -> SeriesSummary:
    """Summary of any results (a stored series too), not only of a live one."""

    count = Counter(r.outcome for r in results)
    hits = [r for r in results if r.outcome is StimulusOutcome.HIT]
    response = [r.response_us for r in hits if r.response_us is not None]
    reaction = [r.reaction_us for r in hits if r.reaction_us is not None]
    movement = [r.movement_us for r in hits if r.movement_us is not None]
    return SeriesSummary(
        hits=len(hits),
        misses=count[StimulusOutcome.MISS],
        correct_rejections=count[StimulusOutcome.CORRECT_REJECTION],
        commissions=count[StimulusOutcome.COMMISSION],
        wrong_pods=count[StimulusOutcome.WRONG_POD],
        mean_response_us=_mean(response),
        best_response_us=min(response, default=None),
        mean_reaction_us=_mean(reaction),
        best_reaction_us=min(reaction, default=None),
        mean_movement_us=_mean(movement),
        best_movement_us=min(movement, default=None),
    )


class PodSeries:
    """Times one athlete's series of lit pods.

    One stimulus is open at a time: the server lights stimulus `current.index` only after
    the previous one was settled (returned by `touch`, `release` or `poll`). Touches and
    releases heard while no light is known yet are held in `pending` and judged by stamp
    when the onset comes, because the light's event may reach the host after the touch.
    """

    def __init__(self, drill: Drill, stimuli: tuple[Stimulus, ...]) -> None:
        spec = pod_spec(drill)
        if not stimuli:
            raise EngineError(f"{drill.slug}: a series needs at least one stimulus")
        for i, s in enumerate(stimuli):
            if s.index != i or s.pod not in spec.pods or s.colour not in spec.colours:
                raise EngineError(f"{drill.slug}: stimulus {i} does not fit the drill: {s}")
            if s.go != (s.colour in spec.go_colours):
                raise EngineError(f"{drill.slug}: stimulus {i}: go does not match {s.colour}")
        self._drill = drill
        self._spec = spec
        self._plan = stimuli
        self._state = SeriesState.RUNNING
        self._reason: str | None = None
        self._results: list[StimulusResult] = []
        self._windows: list[tuple[Stamp, Stamp | None]] = []  # settled: (onset, touch)
        self._onset: Stamp | None = None  # of the open stimulus
        self._left_home: Stamp | None = None  # of the open stimulus
        self._pending: list[PodEvent] = []
        self._ignored: list[tuple[PodEvent, str]] = []

    @property
    def drill(self) -> Drill:
        return self._drill

    @property
    def plan(self) -> tuple[Stimulus, ...]:
        return self._plan

    @property
    def state(self) -> SeriesState:
        return self._state

    @property
    def current(self) -> Stimulus | None:
        """The stimulus to light next or lit now; None once the series is over."""
        if self._state is not SeriesState.RUNNING:
            return None
        return self._plan[len(self._results)]

    @property
    def lit_at(self) -> Stamp | None:
        """Onset of the open stimulus, None while waiting for it."""
        return self._onset

    @property
    def results(self) -> tuple[StimulusResult, ...]:
        return tuple(self._results)

    @property
    def pending(self) -> tuple[PodEvent, ...]:
        return tuple(self._pending)

    @property
    def ignored(self) -> list[tuple[PodEvent, str]]:
        """Inputs that did not count, with why; a copy, for the series' audit trail."""
        return list(self._ignored)

    def _go(self, new: SeriesState) -> None:
        if new not in ALLOWED_TRANSITIONS[self._state]:
            raise EngineError(f"cannot go from {self._state.value} to {new.value}")
        self._state = new
        for held in self._pending:
            self._ignored.append((held, f"series over ({new.value})"))
        self._pending.clear()

    def _ignore(self, event: PodEvent, reason: str) -> StimulusResult | None:
        self._ignored.append((event, reason))
        return None  # settles nothing; returned so callers can `return self._ignore(...)`

    def onset(self, index: int, at: Stamp) -> StimulusResult | None:
        """Stimulus `index` lit at `at` (the LIGHT_ON event's stamp); first onset wins.

        Held touches and releases are then judged by stamp, which may settle the stimulus.
        Raises EngineError for an index outside the plan or a light ahead of the open
        stimulus: the server must wait until the previous one is settled.
        """
        if not 0 <= index < len(self._plan):
            raise EngineError(f"no stimulus {index} (the plan has {len(self._plan)})")
        event = PodEvent(PodEventKind.ONSET, at, index=index)
        if self._state is not SeriesState.RUNNING:
            return self._ignore(event, f"series over ({self._state.value})")
        open_index = len(self._results)
        if index < open_index or (index == open_index and self._onset is not None):
            return self._ignore(event, "repeated onset: the first one counts")
        if index > open_index:
            raise EngineError(f"stimulus {index} lit while stimulus {open_index} is still open")
        self._onset = at
        held = sorted(self._pending, key=lambda e: e.at.mono_us)
        self._pending.clear()
        settled = [self._feed(e) for e in held]  # at most one stimulus is open: one result
        return next((r for r in settled if r is not None), None)

    def touch(self, role: str, at: Stamp) -> StimulusResult | None:
        """A pod was touched; returns the stimulus this settled, if any."""
        return self._feed(PodEvent(PodEventKind.TOUCH, at, role=role))

    def release(self, role: str, at: Stamp) -> StimulusResult | None:
        """The hand left `role`; only leaving the home pod is timed (the reaction point).
        Touch-only pods never call this: reaction and movement then stay None."""
        return self._feed(PodEvent(PodEventKind.RELEASE, at, role=role))

    def _feed(self, event: PodEvent) -> StimulusResult | None:
        role, at = event.role, event.at
        if self._state is SeriesState.VOID:
            return self._ignore(event, "series over (void)")
        if role not in self._drill.roles:
            return self._ignore(event, f"unknown role '{role}'")
        home = self._spec.home
        if event.kind is PodEventKind.RELEASE and role != home:
            why = "the drill has no home pod" if home is None else f"not the home pod '{home}'"
            return self._ignore(event, f"release not timed: {why}")
        if event.kind is PodEventKind.TOUCH and role == home:
            return self._ignore(event, "home pod touched: not a response")
        if self._late(event):
            return None
        if self._state is SeriesState.FINISHED:
            return self._ignore(event, "series over (finished)")
        onset = self._onset
        if onset is None:
            self._pending.append(event)  # judged by stamp once the light is known
            return None
        since = elapsed_us(onset, at)
        index = len(self._results)
        if since < 0:
            return self._ignore(
                event, f"before the light of stimulus {index} ({-since / 1000:.0f} ms)"
            )
        if since > self._spec.window_us:
            # The stamp proves the window ran out; the event may belong to the next light.
            result = self._expire()
            self._feed(event)
            return result
        if event.kind is PodEventKind.RELEASE:
            if self._left_home is not None:
                self._ignore(event, f"already left home for stimulus {index}")
            else:
                self._left_home = at
            return None
        stimulus = self._plan[index]
        if role != stimulus.pod:
            return self._settle(StimulusOutcome.WRONG_POD, event)
        hit = StimulusOutcome.HIT if stimulus.go else StimulusOutcome.COMMISSION
        return self._settle(hit, event)

    def _late(self, event: PodEvent) -> bool:
        """Handle an event stamped inside an already settled stimulus: a late release fills
        in that stimulus's reaction time; anything else is recorded, nothing is corrected
        (the result was handed out and the next foreperiod may be running)."""
        for k in reversed(range(len(self._windows))):
            onset, touched = self._windows[k]
            since = elapsed_us(onset, event.at)
            if touched is None and not 0 <= since <= self._spec.window_us:
                continue
            if touched is not None and (since < 0 or elapsed_us(event.at, touched) < 0):
                continue
            result = self._results[k]
            if event.kind is PodEventKind.TOUCH:
                self._ignore(event, f"arrived after stimulus {k} was settled ({result.outcome})")
            elif touched is None:
                self._ignore(event, f"left home during stimulus {k}, which had no touch")
            elif result.reaction_us is not None or result.response_us is None:
                self._ignore(event, f"already left home for stimulus {k}")
            else:
                reaction = elapsed_us(onset, event.at)
                self._results[k] = replace(
                    result, reaction_us=reaction, movement_us=result.response_us - reaction
                )
            return True
        return False

    def _settle(self, outcome: StimulusOutcome, touch: PodEvent | None) -> StimulusResult:
        onset = self._onset
        if onset is None:
            raise EngineError("settling a stimulus that was never lit")  # unreachable
        stimulus = self._plan[len(self._results)]
        response = reaction = movement = None
        ended = onset.mono_us + self._spec.window_us
        if touch is not None:
            response = elapsed_us(onset, touch.at)
            ended = touch.at.mono_us
            left = self._left_home
            if left is not None and elapsed_us(left, touch.at) >= 0:
                reaction = elapsed_us(onset, left)
                movement = response - reaction  # so the parts add up to the response
        touched = None if touch is None else touch.role
        s = stimulus
        result = StimulusResult(
            s.index, s.pod, s.colour, s.go, outcome, response, reaction, movement, touched, ended
        )
        self._results.append(result)
        self._windows.append((onset, None if touch is None else touch.at))
        self._onset = self._left_home = None
        if len(self._results) == len(self._plan):
            self._go(SeriesState.FINISHED)
        return result

    def _expire(self) -> StimulusResult:
        go = self._plan[len(self._results)].go
        outcome = StimulusOutcome.MISS if go else StimulusOutcome.CORRECT_REJECTION
        return self._settle(outcome, None)

    def poll(self, now_mono_us: int) -> StimulusResult | None:
        """Settle the lit stimulus once `now - onset > window` (host time). Allow for USB
        latency before polling at the window's end: a touch stamped inside the window that
        arrives after the poll is only recorded, not counted."""
        onset = self._onset
        if onset is not None and now_mono_us - onset.mono_us > self._spec.window_us:
            return self._expire()
        return None

    def void(self, reason: str) -> None:
        """Mark the series as not counting. Raises EngineError if it is already void."""
        self._go(SeriesState.VOID)
        self._reason = reason
        self._onset = self._left_home = None

    def outcome(self) -> SeriesOutcome:
        """Snapshot; the stimuli settled so far are kept even when the series was voided."""
        results = tuple(self._results)
        return SeriesOutcome(self._state, results, summarise(results), self._reason)
