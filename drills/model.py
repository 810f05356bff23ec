"""Typed, immutable drill definitions: what a validated drill file turns into."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    """Drill families; reports group and compare drills within one family only."""

    LINEAR = "linear"
    CHANGE_OF_DIRECTION = "change-of-direction"
    REACTIVE = "reactive"
    INTERVAL = "interval"
    SCREENING = "screening"


class Direction(StrEnum):
    """Overall running direction, needed to pair forward and backward twins for F:B ratios."""

    FORWARD = "forward"
    BACKWARD = "backward"
    MIXED = "mixed"


class Movement(StrEnum):
    """Gait style of a segment.

    Backward styles are kept apart (backpedal, backward run, backward walk) because they give
    different times over the same distance and a result is only comparable within one style.
    """

    SPRINT = "sprint"
    BACKPEDAL = "backpedal"
    BACKWARD_RUN = "backward-run"
    SHUFFLE = "shuffle"
    BACKWARD_WALK = "backward-walk"
    TURN = "turn"
    WALK = "walk"


class RoleKind(StrEnum):
    """What sort of device a role needs, so a layout can refuse to bind a gate role to a pod."""

    GATE = "gate"
    POD = "pod"


class StartType(StrEnum):
    """How timing starts. Format 1 only knows `auto`; see the README for the planned ones."""

    AUTO = "auto"


@dataclass(frozen=True)
class Role:
    """A named place in the layout. Devices are bound to roles per session, never in the file."""

    name: str
    kind: RoleKind
    position_m: float


@dataclass(frozen=True)
class Segment:
    """One timed leg between two roles; each completed segment yields one split."""

    name: str
    from_role: str
    to_role: str
    distance_m: float
    movement: Movement


@dataclass(frozen=True)
class StartSpec:
    """How a rep begins; the stance is free text because coaches describe it in their words."""

    type: StartType
    stance: str


@dataclass(frozen=True)
class Drill:
    """A validated drill.

    Times are integer microseconds like everywhere else in the code, so nothing downstream
    has to remember whether a number was seconds. `roles` is a plain dict for convenience;
    treat it as read-only (it is left out of the hash so a Drill can still key a dict).
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

    @property
    def start_role(self) -> str:
        """The role whose first break starts the clock (the chain's first `from`)."""
        return self.segments[0].from_role

    @property
    def roles_in_order(self) -> tuple[str, ...]:
        """Roles in the order the athlete must cross them; a role may appear more than once."""
        return (self.start_role, *(s.to_role for s in self.segments))

    @property
    def distance_m(self) -> float:
        """Total timed distance, used for average speed in reports."""
        return sum(s.distance_m for s in self.segments)
