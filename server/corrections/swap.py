"""Two reps of one course exchange their crossings of one gate: the coach's answer to a flag.

On a course that takes several athletes at once, crossings carry no name; they are given first
in first out, and one that looks wrong is flagged (drills/overlap.py). When the coach says the
other runner made it, each rep takes the other's crossing of that gate (the stored crossing
row, with its chosen raw edge and the edges its rule weighed) and its splits are timed again
from its crossings' device stamps, as re-derivation does. The service stores it as one
correction per rep, old and new splits in the audit entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from sqlmodel import Session, select

from drills import Drill, Stamp
from drills.timing import elapsed_us
from server.corrections.rederive import event_stamp, stored_event
from server.db.models import Crossing, Run, Split
from server.errors import ConflictError

# The crossing row's fields that say which crossing it is (not which rep or role it is of).
SWAPPED_FIELDS = ("trigger", "at_mono_us", "device", "boot_id", "seq", "edges_json",
                  "first_break_lead_us")  # fmt: skip


@dataclass(frozen=True)
class Retimed:
    run: Run
    splits: list[tuple[Split, int]]  # each split and its new elapsed_us
    total_us: int


def _crossings(session: Session, run: Run) -> dict[str, Crossing]:
    rows = session.exec(select(Crossing).where(Crossing.run_id == run.id)).all()
    return {row.role: row for row in rows}


def _stamp(session: Session, row: Crossing) -> Stamp:
    event = stored_event(session, row.device, row.boot_id, row.seq)
    if event is None:
        raise ConflictError(f"the raw edge of a {row.role} crossing is not stored")
    return event_stamp(event)


def swap_crossings(
    session: Session, runs: tuple[Run, Run], role: str, drill: Drill, athletes: tuple[str, str]
) -> list[Retimed]:
    """Both reps timed again with each other's crossing of `role` (rows changed in place, not
    committed); ConflictError naming why it cannot be."""
    rows = [_crossings(session, run) for run in runs]
    for run, by_role, athlete in zip(runs, rows, athletes, strict=True):
        if run.state != "finished":
            raise ConflictError(f"{athlete}'s rep did not finish ({run.state}): nothing to swap")
        if role not in by_role:
            raise ConflictError(f"{athlete}'s rep has no stored crossing of {role}")
    order = [r for r in drill.roles_in_order if r in rows[0]]
    stamps = [{r: _stamp(session, by_role[r]) for r in order} for by_role in rows]
    stamps[0][role], stamps[1][role] = stamps[1][role], stamps[0][role]
    for athlete, times in zip(athletes, stamps, strict=True):
        for before, after in pairwise(order):
            if elapsed_us(times[before], times[after]) <= 0:
                raise ConflictError(
                    f"with the other's {role} crossing, {athlete} would reach {after} before "
                    f"{before}: the two cannot have swapped there"
                )
    a, b = rows[0][role], rows[1][role]
    for name in SWAPPED_FIELDS:
        value_a, value_b = getattr(a, name), getattr(b, name)
        setattr(a, name, value_b)
        setattr(b, name, value_a)
    out = []
    for run, times in zip(runs, stamps, strict=True):
        splits = session.exec(select(Split).where(Split.run_id == run.id)).all()
        new = [(s, elapsed_us(times[s.from_role], times[s.to_role])) for s in splits]
        out.append(Retimed(run, new, elapsed_us(times[order[0]], times[order[-1]])))
    return out
