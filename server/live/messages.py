"""The live feed's message types: the one catalogue of what a page can be told.

Each member's value is the `type` string on the wire, which pages, the catch-up history and
saved exports already hold, so a value never changes; a new kind of message is a new member.
web/static/js/live-types.js is the pages' copy, kept equal by tests/server/test_live_types.py.
"""

from __future__ import annotations

from enum import StrEnum


class LiveType(StrEnum):
    """A StrEnum, so a member is its wire string to json, msgspec and `==` alike."""

    CORRECTION = "correction"  # a coach changed a stored rep (server/corrections)
    CROSSING_UNASSIGNED = "crossing_unassigned"  # a shared course's crossing fits no runner
    CUE = "cue"  # a reactive rep's target was lit
    DEVICE = "device"  # test mode: an input changed, for the wiring check
    FLAG = "flag"  # a shared course's crossing given to a runner is in doubt
    HELLO = "hello"  # the first message on a socket: epoch and seq for catch-up
    INTERVAL = "interval"  # an interval session's block begins
    PLAN = "plan"  # a plan session's progress changed
    RUN = "run"  # a rep ended (finished, timed out, voided)
    SPLIT = "split"  # a split was stored
    START_REFUSED = "start_refused"  # a shared course refused a start crossing
    STIMULUS = "stimulus"  # a pod series' light was answered or missed
