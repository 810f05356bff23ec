"""Coach corrections of reps: void, unvoid, reassign to another athlete, a time typed in.

Each change and its `correction` row (who, when, before and after) commit in one
transaction, so the log never misses a change nor names one that did not happen; only then
is a `correction` message pushed, and every board showing that drill reloads. A voided rep
keeps its engine state and times: the boards leave it out, the record does not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from drills.crossing import MAX_REARM_US, GateRule
from server.catalog.service import Catalog
from server.corrections.plausible import MARK_KEY, check_manual_time, mark_detail, marked_runs
from server.corrections.rederive import rederive
from server.corrections.swap import swap_crossings
from server.db.models import Athlete, Coach, Correction, Drill, Run, utc_now
from server.errors import ConflictError, InvalidInputError, NotFoundError
from server.leaderboard import summary as board_summary
from server.live.hub import LiveHub
from server.live.messages import LiveType
from server.runs.recorder import edges_json, first_break_lead_us

MAX_REASON = 200
MAX_NOTE = 500


@dataclass(frozen=True)
class RunSummary:
    """A rep as the console shows it after a correction (full names: coach routes only)."""

    run_id: int
    drill: str
    athlete_id: int
    athlete: str
    rep: int
    state: str
    total_s: float | None
    voided: bool
    manual: bool
    out_of_range: bool = False
    """A hand time outside the drill's plausible range, stored on the coach's confirmation."""


@dataclass(frozen=True)
class CorrectionEntry:
    action: str
    coach: str | None
    """The coach's name; None if the coach was removed or the change came from a script."""
    detail: dict[str, Any]
    at: datetime


def invalid(message: str) -> InvalidInputError:
    error = InvalidInputError(message, [message])
    return error


class CorrectionService:
    def __init__(self, engine: Engine, live: LiveHub, catalog: Catalog) -> None:
        self.engine = engine
        self.live = live
        self.catalog = catalog

    def void(self, run_id: int, reason: str, coach_id: int | None) -> RunSummary:
        reason = " ".join(reason.split())
        if not reason:
            raise invalid("reason: say why the rep is voided")
        if len(reason) > MAX_REASON:
            raise invalid(f"reason: at most {MAX_REASON} characters")
        with Session(self.engine) as session:
            run = self._editable(session, run_id)
            if run.voided:
                raise ConflictError(f"run {run_id} is already voided")
            run.voided = True
            detail = {"reason": reason, "before": {"voided": False}, "after": {"voided": True}}
            return self._commit(session, run, "void", detail, coach_id)

    def unvoid(self, run_id: int, coach_id: int | None) -> RunSummary:
        with Session(self.engine) as session:
            run = self._editable(session, run_id)
            if not run.voided:
                raise ConflictError(f"run {run_id} is not voided")
            run.voided = False
            detail = {"before": {"voided": True}, "after": {"voided": False}}
            return self._commit(session, run, "unvoid", detail, coach_id)

    def reassign(self, run_id: int, athlete_id: int, coach_id: int | None) -> RunSummary:
        with Session(self.engine) as session:
            run = self._editable(session, run_id)
            target = session.get(Athlete, athlete_id)
            if target is None:
                raise NotFoundError(f"no athlete {athlete_id}")
            if target.archived:
                raise ConflictError(f"{target.name} is archived; restore them first")
            if run.athlete_id == athlete_id:
                raise ConflictError(f"run {run_id} is already {target.name}'s")
            was = session.get(Athlete, run.athlete_id)
            detail = {
                "before": {"athlete_id": run.athlete_id, "athlete": was.name if was else None},
                "after": {"athlete_id": athlete_id, "athlete": target.name},
            }
            run.athlete_id = athlete_id
            return self._commit(session, run, "reassign", detail, coach_id)

    def manual(
        self, drill_slug: str, athlete_id: int, total_s: float, note: str, coach_id: int | None,
        *, confirm: bool = False,
    ) -> RunSummary:  # fmt: skip
        """A rep timed by hand (a gate failed): counts on the drill's board, marked manual,
        with no splits, so it never appears on a segment board. A time outside the drill's
        plausible range (server/corrections/plausible.py) is refused with 409 unless
        `confirm`; confirmed, its correction row keeps the range it was outside of."""
        note = " ".join(note.split())
        if len(note) > MAX_NOTE:
            raise invalid(f"note: at most {MAX_NOTE} characters")
        if not math.isfinite(total_s) or total_s <= 0:
            raise invalid("total_s: must be more than 0")
        definition = self.catalog.drills.get(drill_slug)
        limit_us = None if definition is None else definition.time_limit_us
        total_us = round(total_s * 1_000_000)
        if limit_us is not None and total_us >= limit_us:
            raise invalid(f"total_s: must be under the drill's time limit, {limit_us / 1e6:g} s")
        outside = None if definition is None else check_manual_time(definition, total_s, confirm)
        with Session(self.engine) as session:
            drill = session.exec(select(Drill).where(Drill.slug == drill_slug)).first()
            if drill is None or drill.id is None:
                raise NotFoundError(f"no drill {drill_slug!r}")
            athlete = session.get(Athlete, athlete_id)
            if athlete is None:
                raise NotFoundError(f"no athlete {athlete_id}")
            if athlete.archived:
                raise ConflictError(f"{athlete.name} is archived; restore them first")
            done = session.exec(
                select(func.count())
                .select_from(Run)
                .where(Run.drill_id == drill.id, Run.athlete_id == athlete_id)
            ).one()
            now = utc_now()
            run = Run(
                drill_id=drill.id, athlete_id=athlete_id, rep=int(done) + 1, state="finished",
                total_us=total_us, started_wall=now, finished_wall=now, manual=True,
            )  # fmt: skip
            session.add(run)
            session.flush()  # the id, for the correction row in the same transaction
            detail: dict[str, Any] = {
                "note": note,
                "after": {"drill": drill_slug, "athlete_id": athlete_id, "total_us": total_us},
            }
            if outside is not None:
                detail[MARK_KEY] = mark_detail(outside)
            return self._commit(session, run, "manual", detail, coach_id)

    def rederive(
        self, run_id: int, rule: GateRule, coach_id: int | None, *, drill_rearm: bool = False
    ) -> RunSummary:
        """Time a finished rep again with another gate rule, from its stored raw edges; the old
        and new splits go in the audit entry (server/corrections/rederive.py). With
        `drill_rearm`, the rule re-arms after the drill's own `rearm_s`, as a live rep does."""
        with Session(self.engine) as session:
            run = self._editable(session, run_id)
            drill_row = session.get(Drill, run.drill_id)
            drill = None if drill_row is None else self.catalog.drills.get(drill_row.slug)
            if drill is None:
                raise NotFoundError(f"the drill of run {run_id} is no longer in the library")
            if drill_rearm:
                rule = replace(rule, rearm_us=min(drill.rearm_us, MAX_REARM_US))
            result = rederive(session, run_id, drill, rule)
            before = {
                "total_us": run.total_us,
                "splits": {split.name: split.elapsed_us for split, _ in result.splits},
                "crossings": {row.role: row.trigger for row, _ in result.crossings},
            }
            for split, elapsed in result.splits:
                split.elapsed_us = elapsed
                session.add(split)
            for row, found in result.crossings:
                device, boot_id, seq = found.chosen.ref or (row.device, row.boot_id, row.seq)
                row.trigger, row.device, row.boot_id, row.seq = (
                    found.trigger.value,
                    device,
                    boot_id,
                    seq,
                )
                row.at_mono_us = found.at.mono_us
                row.edges_json = edges_json(found)
                row.first_break_lead_us = first_break_lead_us(found)
                session.add(row)
            run.total_us = result.total_us
            after = {
                "total_us": run.total_us,
                "splits": {split.name: elapsed for split, elapsed in result.splits},
                "crossings": {row.role: row.trigger for row, _ in result.crossings},
            }
            detail = {
                "rule": {"trigger": rule.trigger.value, "window_ms": rule.window_us // 1000,
                         "rearm_ms": rule.rearm_us // 1000},
                "before": before, "after": after,
            }  # fmt: skip
            return self._commit(session, run, "rederive", detail, coach_id)

    def swap_crossings(
        self, run_ids: tuple[int, int], role: str, coach_id: int | None
    ) -> list[RunSummary]:
        """Two reps of one course exchange their crossings of `role` (a flagged pass), each
        timed again; one correction per rep, old and new splits in its audit entry."""
        with Session(self.engine) as session:
            runs = (self._editable(session, run_ids[0]), self._editable(session, run_ids[1]))
            if runs[0].drill_id != runs[1].drill_id or run_ids[0] == run_ids[1]:
                raise ConflictError("only two reps of the same drill can swap a crossing")
            drill_row = session.get(Drill, runs[0].drill_id)
            drill = None if drill_row is None else self.catalog.drills.get(drill_row.slug)
            if drill is None:
                raise NotFoundError(f"the drill of run {run_ids[0]} is no longer in the library")
            names = tuple(_athlete_name(session, run) for run in runs)
            retimed = swap_crossings(session, runs, role, drill, (names[0], names[1]))
            details = []
            for item, other in zip(retimed, reversed(names), strict=True):
                before = {"total_us": item.run.total_us,
                          "splits": {s.name: s.elapsed_us for s, _ in item.splits}}  # fmt: skip
                for split, elapsed in item.splits:
                    split.elapsed_us = elapsed
                    session.add(split)
                item.run.total_us = item.total_us
                after = {"total_us": item.total_us,
                         "splits": {s.name: e for s, e in item.splits}}  # fmt: skip
                details.append({"role": role, "with": other, "before": before, "after": after})
            # One transaction: the audit entries and both boards with the swap.
            summaries = [
                self._commit(session, item.run, "swap-crossing", detail, coach_id, commit=False)
                for item, detail in zip(retimed, details, strict=True)
            ]
            session.commit()
            for summary in summaries:
                self._announce(summary, "swap-crossing")
            return [_summary(session, item.run) for item in retimed]

    def log(self, run_id: int) -> list[CorrectionEntry]:
        with Session(self.engine) as session:
            if session.get(Run, run_id) is None:
                raise NotFoundError(f"no run {run_id}")
            rows = session.exec(
                select(Correction, Coach.name)
                .join(Coach, col(Coach.id) == col(Correction.coach_id), isouter=True)
                .where(Correction.run_id == run_id)
                .order_by(col(Correction.id))
            ).all()
        return [
            CorrectionEntry(c.action, coach, json.loads(c.detail_json), c.created_wall)
            for c, coach in rows
        ]

    @staticmethod
    def _editable(session: Session, run_id: int) -> Run:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id}")
        if run.state == "running":
            # The coordinator still holds it and will write its outcome; void it there.
            raise ConflictError(f"run {run_id} is still running; correct it once it has ended")
        return run

    def _commit(
        self, session: Session, run: Run, action: str, detail: dict[str, Any],
        coach_id: int | None, *, commit: bool = True,
    ) -> RunSummary:  # fmt: skip
        assert run.id is not None
        session.add(run)
        # The boards of every athlete this touched, in the same transaction.
        pairs = [(run.drill_id, run.athlete_id)]
        before = detail.get("before", {}).get("athlete_id")
        if isinstance(before, int):
            pairs.append((run.drill_id, before))
        board_summary.refresh(session, pairs)
        session.add(
            Correction(
                run_id=run.id, coach_id=coach_id, action=action,
                detail_json=json.dumps(detail, separators=(",", ":")),
            )
        )  # fmt: skip
        if not commit:
            session.flush()
            return _summary(session, run)
        session.commit()
        summary = _summary(session, run)
        self._announce(summary, action)
        return summary

    def _announce(self, summary: RunSummary, action: str) -> None:
        self.live.publish(
            {"type": LiveType.CORRECTION, "run_id": summary.run_id, "action": action,
             "drill": summary.drill}
        )  # fmt: skip


def _summary(session: Session, run: Run) -> RunSummary:
    assert run.id is not None
    drill = session.get(Drill, run.drill_id)
    athlete = session.get(Athlete, run.athlete_id)
    return RunSummary(
        run_id=run.id, drill=drill.slug if drill else "", athlete_id=run.athlete_id,
        athlete=athlete.name if athlete else "", rep=run.rep, state=run.state,
        total_s=None if run.total_us is None else run.total_us / 1e6, voided=run.voided,
        manual=run.manual, out_of_range=run.manual and run.id in marked_runs(session, [run.id]),
    )  # fmt: skip


def _athlete_name(session: Session, run: Run) -> str:
    athlete = session.get(Athlete, run.athlete_id)
    return f"athlete {run.athlete_id}" if athlete is None else athlete.name
