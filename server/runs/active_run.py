"""One gate rep under way: its engine and everything the coordinator keeps until it ends.

Kept apart from the coordinator so the parts that feed, cue and close a rep (gate_feed,
reactive, rep_ledger, course_lane) share one plain record, not the coordinator's internals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from drills import Drill, RunEngine, RunOutcome, Stamp
from drills.crossing import CrossingDetector, Detected
from hardware.device import DeviceEvent
from server.runs.shared_input import SharedInputs


@dataclass
class ActiveRun:
    """A gate rep from arming until it ends; `closed` once its ending has been handled."""

    drill: Drill
    drill_id: int
    athlete_id: int
    athlete: str
    rep: int
    engine: RunEngine
    done: asyncio.Future[RunOutcome]
    familiarisation: bool = False
    plan_session_id: int | None = None
    run_id: int | None = None
    splits_recorded: int = 0
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    cue_at_mono_us: int | None = None  # reactive start: when the cue was asked for
    held: list[tuple[str, bool, Stamp, DeviceEvent | None]] = field(default_factory=list)
    target_lit: bool = False
    shared: SharedInputs = field(default_factory=SharedInputs)
    # Roles whose binding names a rule: their detector, and every crossing found, in order.
    detectors: dict[str, CrossingDetector] = field(default_factory=dict)
    crossings: list[tuple[str, Detected]] = field(default_factory=list)
    # Resolved when the athlete crosses the start on a course that takes several at once
    # (the station may arm the next one), or when the rep ends without starting.
    started: asyncio.Future[None] | None = None
    # A rep of the demo's squad: voided to make way for any other (a coach's session).
    guest: bool = False
    closed: bool = False

    @property
    def context(self) -> dict[str, object]:
        # A practice rep says so on the feed: the TV does not present it as a new result.
        return {"drill": self.drill.slug, "athlete": self.athlete, "rep": self.rep,
                "familiarisation": self.familiarisation}  # fmt: skip

    def last_crossing(self, role: str) -> Detected | None:
        """The crossing a split to `role` ends on, stored with the split for the coach."""
        return next((d for r, d in reversed(self.crossings) if r == role), None)
