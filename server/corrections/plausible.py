"""The plausible range of a drill's total time, against which a time typed in by hand is checked.

A typo in a manual time (0.5 s for 2.5 s on a 505) would become the team's best and feed false
asymmetry and change-of-direction flags, so a time outside the range is stored only when the
coach confirms it, and is then marked (the `manual` correction's detail, key MARK_KEY).

- Fastest: the drill's timed distance at the fastest a human moves, leg by leg and per
  movement: the ceilings of drills/overlap_records.py, 12.5 m/s sprinting and turning (above
  the fastest 10 m splits of 100 m races, about 12.3 m/s), 10 m/s running backward,
  backpedalling and shuffling, 4.5 m/s walking and 3.5 m/s walking backward. So a 505 (10 m of
  sprint through the turn) is never under 0.8 s, a 10 m backward sprint under 1.0 s. A pod or
  interval drill has no distance: no lower bound but more than 0.
- Slowest: the drill's time limit, where the engine times a rep out. A hand time at or over
  it is refused outright (422), as before: the gates could never have given it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from drills import Drill
from drills.model import Movement, Segment
from drills.overlap_records import SPEED_LIMITS_MPS
from server.db.models import Correction
from server.errors import ConflictError

MARK_KEY = "out_of_range"
"""In a `manual` correction's detail: the range the confirmed time was outside of."""


@dataclass(frozen=True)
class PlausibleRange:
    min_s: float
    """0 when the drill gives no lower bound (no distance)."""
    max_s: float | None
    """The time limit; None when the drill has none."""
    basis: str
    """How the range was found, in a sentence's part."""

    def describe(self) -> str:
        top = "no limit" if self.max_s is None else f"{self.max_s:g} s"
        return f"{self.min_s:.2f} s to {top} ({self.basis})"


class ImplausibleTimeError(ConflictError):
    """A manual time outside the drill's plausible range, sent without `"confirm": true`."""

    def __init__(self, message: str, total_s: float, bounds: PlausibleRange) -> None:
        super().__init__(message)
        self.total_s = total_s
        self.bounds = bounds


def _pieces(segment: Segment) -> list[tuple[Movement, float]]:
    """(movement, distance) of each timed leg of a split; the split itself without legs."""
    legs = [(leg.movement, leg.distance_m) for leg in segment.legs if leg.timed]
    if legs:
        return legs
    movement = Movement.SPRINT if segment.movement is Movement.MIXED else segment.movement
    return [(movement, segment.distance_m)]


def plausible_range(drill: Drill) -> PlausibleRange:
    limit = drill.time_limit_us / 1e6 if drill.time_limit_us > 0 else None
    if not drill.segments:
        return PlausibleRange(0.0, limit, f"a {drill.timing.value} drill has no distance")
    by_movement: dict[Movement, float] = {}
    for segment in drill.segments:
        for movement, distance in _pieces(segment):
            by_movement[movement] = by_movement.get(movement, 0.0) + distance
    fastest = sum(d / SPEED_LIMITS_MPS[m] for m, d in by_movement.items())
    basis = ", ".join(
        f"{d:g} m of {m.value} at {SPEED_LIMITS_MPS[m]:g} m/s" for m, d in by_movement.items()
    )
    return PlausibleRange(round(fastest, 3), limit, basis + ", the fastest a human moves")


def check_manual_time(drill: Drill, total_s: float, confirm: bool) -> PlausibleRange | None:
    """None when `total_s` is plausible; the range it is outside of when the coach confirmed
    it; ImplausibleTimeError (409) naming the range when not confirmed."""
    bounds = plausible_range(drill)
    if total_s >= bounds.min_s:
        return None
    if confirm:
        return bounds
    raise ImplausibleTimeError(
        f"total_s: {total_s:.3f} s is faster than anyone runs {drill.name}: the plausible range "
        f"is {bounds.describe()}. Check the time; if it is right, send it again with "
        '"confirm": true and it is stored marked as out of range.',
        total_s,
        bounds,
    )


def mark_detail(bounds: PlausibleRange) -> dict[str, object]:
    return {"min_s": bounds.min_s, "max_s": bounds.max_s, "basis": bounds.basis,
            "confirmed": True}  # fmt: skip


def is_marked(detail_json: str) -> bool:
    try:
        detail = json.loads(detail_json)
    except ValueError:
        return False
    return isinstance(detail, dict) and isinstance(detail.get(MARK_KEY), dict)


def marked_runs(session: Session, run_ids: Iterable[int]) -> set[int]:
    """Which of `run_ids` are confirmed out-of-range manual times."""
    ids = list(run_ids)
    if not ids:
        return set()
    rows = session.exec(
        select(Correction.run_id, Correction.detail_json).where(
            Correction.action == "manual",
            col(Correction.run_id).in_(ids),
            col(Correction.detail_json).contains(f'"{MARK_KEY}"'),
        )
    ).all()
    return {run_id for run_id, detail in rows if is_marked(detail)}
