"""What a plan session shows of itself: the progress saved with it and the `plan` message.

The progress is saved after every change, so a restart resumes after the last recorded rep in
the coach's queue order; the message is what the console and station pages follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drills import RunOutcome
from server.catalog.service import Catalog
from server.live.messages import LiveType
from server.plans.definition import Step
from server.plans.store import SessionState

# How many athletes after the next one the progress lists, for the run view's queue.
QUEUE_SHOWN = 8


def rep_entry(
    step: Step, run_id: int | None, state: str, outcome: RunOutcome | None
) -> dict[str, Any]:
    """One step's line in `done`: a rep as it ended, or a step skipped (no outcome)."""
    return {
        "step": step.index, "block": step.block, "drill": step.drill,
        "athlete": step.athlete, "block_rep": step.block_rep,
        "familiarisation": step.familiarisation, "run_id": run_id, "state": state,
        "splits": {s.name: s.elapsed_us / 1e6 for s in outcome.splits} if outcome else {},
        "total_s": None if outcome is None or outcome.total_us is None
        else outcome.total_us / 1e6,
    }  # fmt: skip


def progress(
    steps: list[Step], index: int, phase: str, countdown_end: datetime | None,
    reason: str | None, done: list[dict[str, Any]], catalog: Catalog,
) -> dict[str, Any]:  # fmt: skip
    """The session as saved: the queue from step `index` on, and every step done."""
    nxt = steps[index] if index < len(steps) else None
    return {
        "phase": phase, "index": index, "total": len(steps),
        "order": [step.index for step in steps],
        "queue": [
            {"athlete": s.athlete, "drill": s.drill, "block": s.block,
             "block_rep": s.block_rep}
            for s in steps[index + 1 : index + 1 + QUEUE_SHOWN]
        ],
        "next": None if nxt is None else {
            "athlete": nxt.athlete, "drill": nxt.drill, "block": nxt.block,
            "block_rep": nxt.block_rep, "familiarisation": nxt.familiarisation,
            "waits_for_go": _waits_for_go(catalog, nxt.drill),
        },
        "countdown_end_wall": None if countdown_end is None else countdown_end.isoformat(),
        "reason": reason, "done": done,
    }  # fmt: skip


def _waits_for_go(catalog: Catalog, slug: str) -> bool:
    """For the console's START button; a drill gone from the library (a stored session
    after an upgrade) simply does not wait, as progress must always be readable."""
    drill = catalog.drills.get(slug)
    return drill is not None and drill.waits_for_go


def plan_message(
    session_id: int, plan: str, state: SessionState, shown: dict[str, Any]
) -> dict[str, Any]:
    """The live `plan` message for a session's progress `shown`: `done` is how many steps
    are behind (their lines stay in the saved progress, out of every page's feed)."""
    return {
        "type": LiveType.PLAN, "session_id": session_id, "plan": plan,
        "state": state.value, "phase": shown["phase"], "next": shown["next"],
        "countdown_end_wall": shown["countdown_end_wall"], "done": shown["index"],
        "total": shown["total"], "reason": shown["reason"],
    }  # fmt: skip
