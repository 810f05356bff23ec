"""Typed, immutable drill definitions: what a validated drill file turns into."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from drills.errors import DrillsError


class Category(StrEnum):
    """Drill families; reports group and compare drills within one family only."""

    LINEAR = "linear"
    CHANGE_OF_DIRECTION = "change-of-direction"
    REACTIVE = "reactive"
    REPEATED_SPRINT = "repeated-sprint"
    INTERVAL = "interval"
    SCREENING = "screening"


class Direction(StrEnum):
    """Overall running direction, needed to pair forward and backward twins for F:B ratios."""

    FORWARD = "forward"
    BACKWARD = "backward"
    MIXED = "mixed"


class Timing(StrEnum):
    """What produces the results, which decides which sections a file must have.

    Gate drills are a course of segments, pod drills a series of lit pods to touch, interval
    drills a clock alone; one file shape per kind keeps each kind's rules simple.
    """

    GATES = "gates"
    PODS = "pods"
    INTERVALS = "intervals"


class Movement(StrEnum):
    """Gait style of a segment.

    Backward styles are kept apart (backpedal, backward run, backward walk) because they give
    different times over the same distance and a result is only comparable within one style.
    `MIXED` is never written in a file: it marks a split made of segments of several styles.
    """

    SPRINT = "sprint"
    BACKPEDAL = "backpedal"
    BACKWARD_RUN = "backward-run"
    SHUFFLE = "shuffle"
    BACKWARD_WALK = "backward-walk"
    TURN = "turn"
    WALK = "walk"
    MIXED = "mixed"


class RoleKind(StrEnum):
    """What sort of device a role needs, so a layout can refuse to bind a gate role to a pod.

    A marker (cone, line) needs no device: it is there so the course can be drawn and walked.
    """

    GATE = "gate"
    POD = "pod"
    MARKER = "marker"


class TurnSide(StrEnum):
    """Side of a turn, from the athlete's point of view; 505 and L-drill results are per side."""

    LEFT = "left"
    RIGHT = "right"


class StartType(StrEnum):
    """How a rep starts; each type has its own parameters in `StartSpec`."""

    AUTO = "auto"  # the first break of the start role starts the clock
    HOLD = "hold"  # athlete stands in the start beam for hold_us; leaving it starts the clock
    COACH_GO = "coach-go"  # the coach's GO starts the clock
    REACTIVE = "reactive"  # a cue after a random foreperiod starts the clock


class Cue(StrEnum):
    """A signal the athlete reacts to."""

    LIGHT = "light"
    BEEP = "beep"


class BlockKind(StrEnum):
    """Interval blocks alternate effort and recovery."""

    WORK = "work"
    REST = "rest"


@dataclass(frozen=True)
class Role:
    """A named place in the layout. Devices are bound to roles per session, never in the file.

    x_m is across the lane (positive to the right looking down the lane from the start) and
    y_m along it, so 2-D courses (T-test, Illinois) can be drawn as well as straight lanes.
    """

    name: str
    kind: RoleKind
    x_m: float
    y_m: float

    @property
    def position_m(self) -> float:
        """Distance along the lane; the 1-D view that straight-lane drills were written in."""
        return self.y_m

    @property
    def needs_device(self) -> bool:
        return self.kind is not RoleKind.MARKER


@dataclass(frozen=True)
class Leg:
    """One `[[segments]]` entry exactly as the file gives it: a piece of the route.

    Kept alongside the splits so a layout sheet can draw every leg, turn side included, even
    where several legs make one timed split.
    """

    name: str
    from_role: str
    to_role: str
    distance_m: float
    movement: Movement
    turn: TurnSide | None = None
    timed: bool = True


@dataclass(frozen=True)
class Segment:
    """One timed split between two device crossings; each completed segment yields one split.

    For a straight gate drill every split is one leg of the file. Where legs end at markers
    (a turn line, a cone) the legs up to the next device form one split, because nothing can
    time the marker; `legs` keeps them.
    """

    name: str
    from_role: str
    to_role: str
    distance_m: float
    movement: Movement
    legs: tuple[Leg, ...] = ()


@dataclass(frozen=True)
class StartSpec:
    """How a rep begins; the stance is free text because coaches describe it in their words.

    Parameters not used by `type` are None. For a reactive start a break of the start role
    before the cue is a false start, and the time from cue to that break is the reaction time.
    """

    type: StartType
    stance: str
    hold_us: int | None = None
    foreperiod_min_us: int | None = None
    foreperiod_max_us: int | None = None
    cue: Cue | None = None
    cue_role: str | None = None

    @property
    def clock_starts_on_signal(self) -> bool:
        """True when the total runs from GO or the cue rather than from the first break."""
        return self.type in (StartType.COACH_GO, StartType.REACTIVE)


@dataclass(frozen=True)
class TargetChoice:
    """A reactive target: when the athlete breaks `lit_at`, one option lights at random.

    `role` is the stand-in name the last segment runs to; `Drill.resolve_target` swaps in the
    option actually lit so a plain chain of crossings can be timed.
    """

    role: str
    options: tuple[str, ...]
    lit_at: str


@dataclass(frozen=True)
class PodStimuli:
    """A pod drill's series of lit pods; each touch gives reaction and movement time.

    With a `home` pod the athlete rests a hand or foot on it: cue to leaving home is the
    reaction time, leaving home to the touch the movement time. Without one, only cue to
    touch is known. A no-go colour is answered correctly by not touching within `window_us`.
    """

    count: int
    pods: tuple[str, ...]
    colours: tuple[str, ...]
    go_colours: tuple[str, ...]
    foreperiod_min_us: int
    foreperiod_max_us: int
    window_us: int
    home: str | None = None

    @property
    def no_go_colours(self) -> tuple[str, ...]:
        return tuple(c for c in self.colours if c not in self.go_colours)

    @property
    def splits_reaction_and_movement(self) -> bool:
        return self.home is not None


@dataclass(frozen=True)
class IntervalBlock:
    """One work or rest block of an interval drill; a beep marks its start unless cue is None."""

    name: str
    kind: BlockKind
    duration_us: int
    movement: Movement | None = None
    cue: Cue | None = Cue.BEEP


@dataclass(frozen=True)
class Drill:
    """A validated drill.

    Times are integer microseconds like everywhere else in the code, so nothing downstream
    has to remember whether a number was seconds. `roles` is a plain dict for convenience;
    treat it as read-only (it is left out of the hash so a Drill can still key a dict).

    `segments` are the timed splits, the chain of device crossings the run engine follows;
    `route` is every leg the athlete runs, timed or not. For a straight gate drill they match
    one to one. Pod and interval drills have no segments.
    """

    slug: str
    name: str
    purpose: str
    category: Category
    direction: Direction
    twin: str | None
    source: str | None
    time_limit_us: int
    rearm_us: int
    start: StartSpec
    roles: dict[str, Role] = field(hash=False)
    segments: tuple[Segment, ...]
    timing: Timing = Timing.GATES
    mirror: str | None = None
    reps: int = 1
    rest_us: int = 0
    familiarisation_reps: int = 0
    route: tuple[Leg, ...] = ()
    target_choice: TargetChoice | None = None
    stimuli: PodStimuli | None = None
    blocks: tuple[IntervalBlock, ...] = ()

    @property
    def start_role(self) -> str:
        """The role whose first break starts the chain (the first split's `from`)."""
        if not self.segments:
            raise DrillsError(f"{self.slug} is a {self.timing.value} drill: it has no start role")
        return self.segments[0].from_role

    @property
    def roles_in_order(self) -> tuple[str, ...]:
        """Device crossings in the order they must happen, start included.

        A role appears once per pass: a shuttle through one gate lists it every time the
        athlete goes through. Markers never appear (nothing reports them). Empty for pod and
        interval drills.
        """
        if not self.segments:
            return ()
        return (self.start_role, *(s.to_role for s in self.segments))

    @property
    def distance_m(self) -> float:
        """Total timed distance, used for average speed in reports (run-in not included)."""
        return sum(s.distance_m for s in self.segments)

    @property
    def waits_for_go(self) -> bool:
        """Whether a rep waits for the coach's GO (the console's START). An interval drill
        runs on its own clock from the moment its session reaches it, whatever its start."""
        return self.start.type is StartType.COACH_GO and self.timing is not Timing.INTERVALS

    @property
    def counted_reps(self) -> int:
        """Reps that count toward bests: the familiarisation reps come first and do not."""
        return self.reps - self.familiarisation_reps

    def is_familiarisation(self, rep: int) -> bool:
        """Whether rep number `rep` (1-based) is a practice rep left out of bests."""
        return 1 <= rep <= self.familiarisation_reps

    @property
    def device_roles(self) -> tuple[str, ...]:
        """Roles a session must bind to a gate or pod, in file order."""
        return tuple(name for name, role in self.roles.items() if role.needs_device)

    def resolve_target(self, option: str) -> Drill:
        """This drill with the reactive target replaced by the lit `option`.

        The engine follows a fixed chain of roles, so a reactive-target rep is timed with the
        resolved drill once the light has been chosen.
        """
        choice = self.target_choice
        if choice is None:
            raise DrillsError(f"{self.slug} has no reactive target")
        if option not in choice.options:
            known = ", ".join(choice.options)
            raise DrillsError(f"{self.slug}: '{option}' is not a target (targets: {known})")

        def swap(role: str) -> str:
            return option if role == choice.role else role

        segments = tuple(
            replace(
                s,
                from_role=swap(s.from_role),
                to_role=swap(s.to_role),
                legs=tuple(
                    replace(leg, from_role=swap(leg.from_role), to_role=swap(leg.to_role))
                    for leg in s.legs
                ),
            )
            for s in self.segments
        )
        route = tuple(
            replace(leg, from_role=swap(leg.from_role), to_role=swap(leg.to_role))
            for leg in self.route
        )
        return replace(self, segments=segments, route=route, target_choice=None)
