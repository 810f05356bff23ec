"""The plain records a report is built from, the scope asked for, and its parsing.

Kept apart from the queries (data.py) so the writers and the API can use them without
touching the database layer.
"""

from __future__ import annotations

import gc
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from drills.model import Drill as DrillDef
from server.errors import AppError, InvalidInputError

Progress = Callable[[str, int, int], None]
"""Called as (what, done, total) while a long step runs; the CLI draws a bar from it."""


class NothingToExportError(AppError):
    """The scope holds no valid rep (no reps at all, or every rep voided or practice)."""


@dataclass(frozen=True, slots=True)
class SplitRecord:
    """One timed split: the interval from the previous crossing, not the time since the start."""

    position: int
    name: str
    elapsed_us: int
    distance_m: float
    reaction_us: int | None
    cross_device_error_us: int | None = None
    """Spans a receipt-timed device (Chronopic, Timy) and another clock: its error bound."""
    manual: bool = False
    """An end is a hand time (a timer's keypad)."""
    coarse: bool = False
    """An end was placed by host receipt time (the device's counter ran out)."""


@dataclass(frozen=True, slots=True)
class CrossingRecord:
    """How a gate role's crossing was found: the rule, and how much earlier the first break
    was (what first-break would have timed; 0 when it was the one chosen)."""

    role: str
    trigger: str
    first_break_lead_us: int


@dataclass(frozen=True, slots=True)
class RepRecord:
    """One rep as stored, flags included; `valid` says whether it may count anywhere."""

    run_id: int
    athlete_id: int
    drill: str
    rep: int
    state: str
    started_wall: datetime
    total_us: int | None
    reaction_us: int | None
    movement_us: int | None
    voided: bool
    manual: bool
    familiarisation: bool
    splits: tuple[SplitRecord, ...]
    crossings: tuple[CrossingRecord, ...] = ()
    station: str | None = None
    """The station (course) it was run on; None: the main one."""
    out_of_range: bool = False
    """A hand time outside the drill's plausible range that the coach confirmed
    (server/corrections/plausible.py): it counts, but no comparison (forward:backward,
    left/right asymmetry, COD deficit) is drawn from it."""

    @property
    def void(self) -> bool:
        """Voided by a coach, or ended void by the engine: either way it never counts."""
        return self.voided or self.state == "void"

    @property
    def false_start(self) -> bool:
        return self.state == "false_start"

    @property
    def valid(self) -> bool:
        """Finished with a time, not voided, not practice: the only reps in bests and means."""
        return (
            self.state == "finished"
            and self.total_us is not None
            and self.total_us > 0
            and not self.void
            and not self.familiarisation
        )

    @property
    def cross_device_error_us(self) -> int | None:
        """The largest error bound of its cross-device splits; None without one."""
        return max(
            (s.cross_device_error_us for s in self.splits if s.cross_device_error_us is not None),
            default=None,
        )

    @property
    def coarse(self) -> bool:
        """A split has an end placed by host receipt time."""
        return any(s.coarse for s in self.splits)

    @property
    def hand_timed(self) -> bool:
        """Typed in by the coach, or a split ends on a timer's keypad: reads faster than gates."""
        return self.manual or any(s.manual for s in self.splits)

    @property
    def day(self) -> date:
        """The date of the rep in the zone of `started_wall`: UTC as loaded, the club's zone in
        a day report (day.py); sessions, progress and date filters all use it."""
        return self.started_wall.date()


@dataclass(frozen=True, slots=True)
class AthleteInfo:
    id: int
    name: str
    team: str
    group: str | None
    sex: str | None
    birth_year: int | None
    archived: bool


@dataclass(frozen=True, slots=True)
class DrillInfo:
    """What reports need of a drill; `definition` is None when its file cannot be read."""

    slug: str
    name: str
    direction: str
    twin: str | None
    side: str | None
    split_names: tuple[str, ...]
    definition: DrillDef | None

    @property
    def distance_m(self) -> float | None:
        return self.definition.distance_m if self.definition else None


@dataclass(frozen=True)
class Scope:
    """What was asked for: a team (None = every team) and an inclusive UTC date range."""

    team: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    athlete_id: int | None = None
    """One athlete only (the athlete history API); None for the whole team."""
    zone: str | None = None
    """The time zone whose days the dates are (a day report); None: UTC days."""

    def describe(self) -> str:
        who = f"team {self.team}" if self.team else "all teams"
        if self.athlete_id is not None:
            who = f"athlete {self.athlete_id}"
        if self.zone is None:
            return f"{who} {describe_range(self.date_from, self.date_to)}"
        if self.date_from is not None and self.date_from == self.date_to:
            return f"{who} on {self.date_from} ({self.zone})"
        return f"{who} {describe_range(self.date_from, self.date_to)} ({self.zone})"


@dataclass
class ReportData:
    scope: Scope
    teams: tuple[str, ...]
    athletes: dict[int, AthleteInfo]
    """Every athlete of the teams in scope, reps or not, ordered by team then name."""
    drills: dict[str, DrillInfo]
    """Drills with at least one rep in scope, ordered by name."""
    reps: list[RepRecord] = field(default_factory=list)
    """Ordered by athlete (as `athletes`), drill slug, start time."""

    @property
    def valid_reps(self) -> list[RepRecord]:
        return [r for r in self.reps if r.valid]

    @property
    def first_day(self) -> date | None:
        return min((r.day for r in self.reps), default=None)

    @property
    def last_day(self) -> date | None:
        return max((r.day for r in self.reps), default=None)

    def empty_reason(self) -> str | None:
        """Why nothing in scope counts, in a sentence a coach understands; None if some rep does."""
        if not self.reps:
            return f"{self.scope.describe()}: no reps"
        if not any(r.valid for r in self.reps):
            return (
                f"{self.scope.describe()}: no valid reps (all {len(self.reps)} are voided, "
                "practice, false starts or unfinished)"
            )
        return None

    def require_valid_reps(self) -> None:
        """Raise NothingToExportError, saying why, when no rep in scope counts."""
        reason = self.empty_reason()
        if reason is not None:
            raise NothingToExportError(f"{reason}; nothing to export")


def best_reps(reps: Iterable[RepRecord]) -> dict[tuple[int, str], RepRecord]:
    """(athlete id, drill) → the athlete's fastest valid rep on it.

    On a tie, the rep with a cross-device or coarse split, so a best is never shown cleaner
    than it is. One pass; a rep's splits are looked at only for a tie with the best.
    """
    best: dict[tuple[int, str], RepRecord] = {}
    for rep in reps:
        if not rep.valid or rep.total_us is None:
            continue
        key = (rep.athlete_id, rep.drill)
        held = best.get(key)
        if (
            held is None
            or held.total_us is None
            or rep.total_us < held.total_us
            or (
                rep.total_us == held.total_us
                and held.cross_device_error_us is None
                and not held.coarse
            )
        ):
            best[key] = rep
    return best


def sort_key(text: str) -> str:
    """Alphabetical order as people expect it: accents and case ignored (Åsa near Anna)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def describe_range(date_from: date | None, date_to: date | None) -> str:
    if date_from and date_to:
        return f"between {date_from} and {date_to}"
    if date_from:
        return f"from {date_from}"
    if date_to:
        return f"up to {date_to}"
    return "over all dates"


def parse_day(text: str | None, what: str) -> date | None:
    """A YYYY-MM-DD date (UTC day), or None for an empty value."""
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{what} must be a date as YYYY-MM-DD, got {text!r}") from None


def make_scope(team: str | None, date_from: str | None, date_to: str | None) -> Scope:
    """Validate the user's filters; a range that ends before it starts is refused."""
    start, end = parse_day(date_from, "from"), parse_day(date_to, "to")
    if start and end and end < start:
        raise InvalidInputError(f"the range ends ({end}) before it starts ({start})")
    return Scope(team or None, start, end)


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Collect no garbage while a report builds its ~170,000 small objects.

    They hold no reference cycles, yet every few hundred allocations the collector walks all
    of them: 40 % of a season's load time. Re-entrant and thread-safe (two exports at once
    in the server): collection resumes when the last one leaves, if it was on before.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()
