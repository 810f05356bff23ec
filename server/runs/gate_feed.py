"""From a beam edge to the armed or running rep's engine: the role it crosses, the gate rule.

A role whose binding names a rule sends its edges through a CrossingDetector
(drills/crossing.py), which may decide a crossing only when a window closes, so it is polled
then; a role with no rule feeds its edges as they come. Crossings close to a reactive cue
wait for its onset (server/runs/reactive.py). A shared course (course_lane.py) finds its own
crossings and hands each to take_crossing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from drills import Stamp, StartType
from drills.crossing import BeamEdge, CrossingDetector, Detected, Trigger
from hardware.device import DeviceEvent
from hardware.timebase import mono_us
from server.runs import signals
from server.runs.active_run import ActiveRun
from server.runs.reactive import waits_for_onset
from server.runs.signals import Binding

if TYPE_CHECKING:
    from server.runs.coordinator import RunCoordinator


class GateFeed:
    """Feeds one coordinator's gate edges and crossings to the rep they belong to."""

    def __init__(self, coordinator: RunCoordinator) -> None:
        self.coordinator = coordinator

    def edge(self, active: ActiveRun, event: DeviceEvent, broken: bool) -> None:
        """A beam broken or restored while `active` is armed or running."""
        stamp = signals.stamp_of(event)
        role = self._beam_role(active, event, broken, stamp)
        if role is None:
            return
        binding = self.coordinator.layout[role]
        if binding.filtered:
            self._detect(active, role, binding, event, broken, stamp)
            return
        if waits_for_onset(active, stamp):
            active.held.append((role, broken, stamp, event))
            return
        self._feed_raw(active, role, broken, stamp, event)

    def _beam_role(
        self, active: ActiveRun, event: DeviceEvent, broken: bool, stamp: Stamp
    ) -> str | None:
        """The role a beam edge is a crossing of: the one bound to its input, or, where
        several roles share the input (photocells in parallel), the one the rep expects."""
        roles = [
            role for role, b in self.coordinator.layout.items()
            if b.device == event.device and event.channel in b.channels
        ]  # fmt: skip
        if len(roles) <= 1:
            return roles[0] if roles else None
        key = (event.device, event.channel)
        return active.shared.role_for(key, roles, broken, stamp, active.engine)

    def _feed_raw(
        self, active: ActiveRun, role: str, broken: bool, stamp: Stamp, event: DeviceEvent
    ) -> None:
        """An edge of a role with no rule, to the engine as it comes. A break the engine takes
        is kept as a first-break crossing, so every rep's crossings are on record with their
        edges (a hold start's break is not its crossing: the release is, and it is no break)."""
        hold = active.drill.start.type is StartType.HOLD and role == active.drill.start_role
        if not broken or hold:
            self.feed(active, role, broken, stamp, event)
            return
        edge = BeamEdge(0, True, stamp, (event.device, event.boot_id, event.seq))
        self.take_crossing(active, role, Detected(stamp, Trigger.FIRST_BREAK, edge, (edge,)), event)

    def take_crossing(
        self, active: ActiveRun, role: str, crossing: Detected, origin: DeviceEvent | None
    ) -> None:
        """Feed a crossing to the engine, and keep it with the rep only if it counts (a finish
        ends the rep inside feed, so it is in the list before); one the engine sets aside,
        such as a slow start's trailing leg after the re-arm, is in the engine's audit trail
        instead."""
        ignored = len(active.engine.ignored)
        active.crossings.append((role, crossing))
        self.feed(active, role, True, crossing.at, origin)
        if len(active.engine.ignored) > ignored and self.coordinator.holds(active):
            active.crossings.remove((role, crossing))

    def feed(
        self, active: ActiveRun, role: str, broken: bool, stamp: Stamp, event: DeviceEvent | None
    ) -> None:
        # Every edge: a hold start needs the restores; other starts ignore them.
        splits = active.engine.beam_edge(role, broken, stamp)
        self.coordinator.ledger.advance(active, splits, event)

    def flush(self, active: ActiveRun) -> None:
        """Decide every open window now, at the time limit: a finish still in its
        longest-break window was crossed before the check."""
        for role, detector in active.detectors.items():
            self._crossed(active, role, detector.flush(), None)
            if not self.coordinator.holds(active):
                return

    def _detect(
        self, active: ActiveRun, role: str, binding: Binding, event: DeviceEvent, broken: bool,
        stamp: Stamp,
    ) -> None:  # fmt: skip
        """A raw edge of a role with a rule: to its detector, and what it decides onwards."""
        detector = active.detectors.get(role)
        if detector is None:
            detector = active.detectors[role] = CrossingDetector(binding.rule(active.drill))
        beam = binding.beam_of(event.channel) or 0
        ref = (event.device, event.boot_id, event.seq)
        self._crossed(active, role, detector.edge(BeamEdge(beam, broken, stamp, ref)), event)
        self._poll_later(active, role)

    def _poll_later(self, active: ActiveRun, role: str) -> None:
        """Decide an open longest-break window when it closes, if no later edge does first:
        the split is on the boards within the window plus LATE_EDGE_US."""
        detector = active.detectors[role]
        due = detector.due_mono_us()
        if due is None:
            return
        loop = asyncio.get_running_loop()
        delay_s = max(0.0, (due - mono_us()) / 1e6)
        active.timers.append(loop.call_later(delay_s, self._poll_detector, active, role))

    def _poll_detector(self, active: ActiveRun, role: str) -> None:
        if not self.coordinator.holds(active):
            return
        found = active.detectors[role].poll(mono_us())
        if found:
            self._crossed(active, role, found, None)
        else:
            self._poll_later(active, role)

    def _crossed(
        self, active: ActiveRun, role: str, found: list[Detected], event: DeviceEvent | None
    ) -> None:
        for crossing in found:
            # The event behind the crossing, when it is the one at hand (its run link, a bib).
            ref = None if event is None else (event.device, event.boot_id, event.seq)
            origin = event if crossing.chosen.ref == ref else None
            if not self.coordinator.holds(active):
                return
            if waits_for_onset(active, crossing.at):
                active.crossings.append((role, crossing))
                active.held.append((role, True, crossing.at, origin))
                continue
            self.take_crossing(active, role, crossing, origin)
