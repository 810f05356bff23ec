"""The gate rules on hand-made edge sequences: first-break, longest-break, dual-beam, re-arm."""

from __future__ import annotations

import pytest

from drills import Stamp
from drills.crossing import (
    LATE_EDGE_US,
    MAX_DROPPED,
    BeamEdge,
    CrossingDetector,
    GateRule,
    Trigger,
)

CLOCK = "gate-1:1"
MS = 1_000


def at(ms: float) -> Stamp:
    us = round(ms * MS)
    return Stamp(mono_us=us, clock=CLOCK, ticks=us, tick_hz_est=1e6)


def brk(ms: float, beam: int = 0) -> BeamEdge:
    return BeamEdge(beam, True, at(ms), ("gate-1", 1, round(ms)))


def clr(ms: float, beam: int = 0) -> BeamEdge:
    return BeamEdge(beam, False, at(ms))


def feed(det: CrossingDetector, edges: list[BeamEdge], then_ms: float | None = None) -> list[int]:
    out = []
    for e in edges:
        out += det.edge(e)
    if then_ms is not None:
        out += det.poll(round(then_ms * MS))
    return [round(d.at.mono_us / MS) for d in out]


# A backward pass: a heel cuts the beam 60 ms before the torso, a trailing hand after it.
BACKWARD_PASS = [brk(1000), clr(1012), brk(1060), clr(1105), brk(1130), clr(1141)]


def test_first_break_takes_the_heel() -> None:
    assert feed(CrossingDetector(GateRule()), BACKWARD_PASS) == [1000]


def test_longest_break_takes_the_torso_once_the_window_closes() -> None:
    det = CrossingDetector(GateRule(Trigger.LONGEST_BREAK, window_us=250 * MS))
    assert feed(det, BACKWARD_PASS) == []  # still deciding
    assert det.due_mono_us() == 1_250_000 + LATE_EDGE_US
    assert det.poll(1_250_000) == []  # edges may still be on their way
    [found] = det.poll(1_250_000 + LATE_EDGE_US)
    assert found.at.mono_us == 1_060_000 and found.trigger is Trigger.LONGEST_BREAK
    assert found.chosen.ref == ("gate-1", 1, 1060)
    assert len(found.edges) == len(BACKWARD_PASS)


def test_longest_break_is_decided_by_a_later_edge_without_waiting() -> None:
    det = CrossingDetector(GateRule(Trigger.LONGEST_BREAK, window_us=250 * MS, rearm_us=0))
    # The next pass's first edge, after the window, settles the first pass at once.
    assert feed(det, [*BACKWARD_PASS, brk(3000)]) == [1060]


def test_a_break_still_open_when_the_window_ends_counts_to_its_end() -> None:
    det = CrossingDetector(GateRule(Trigger.LONGEST_BREAK, window_us=100 * MS))
    # A walker: the hand 40 ms, then the torso from 1080 ms on, still in the beam at 1100.
    assert feed(det, [brk(1000), clr(1040), brk(1080)], then_ms=2000) == [1000]
    det = CrossingDetector(GateRule(Trigger.LONGEST_BREAK, window_us=300 * MS))
    assert feed(det, [brk(1000), clr(1040), brk(1080)], then_ms=2000) == [1080]


def test_dual_beam_is_the_first_instant_both_are_broken() -> None:
    det = CrossingDetector(GateRule(Trigger.DUAL_BEAM))
    edges = [
        brk(1000, beam=1),  # a foot on the bottom beam
        clr(1020, beam=1),
        brk(1030, beam=0),  # a hand on the top beam: the foot has gone
        clr(1045, beam=0),
        brk(1070, beam=0),  # the torso, top
        brk(1072, beam=1),  # and bottom: both at once
        clr(1150, beam=0),
        clr(1155, beam=1),
    ]
    [found] = [d for e in edges for d in det.edge(e)]
    assert found.at.mono_us == 1_072_000 and {e.beam for e in found.edges} == {0, 1}


# A backward pass on two beams: the elbow, held behind the back, reaches the top beam 25 ms
# before the back and stays in it until the torso arrives (one long break that begins with
# the elbow); a hand cuts the bottom beam, then the torso arrives there at 1060.
ELBOW_ON_TOP = [
    brk(1035, beam=0),  # elbow, then torso, top: one merged break
    brk(1040, beam=1),  # hand, bottom
    clr(1052, beam=1),
    brk(1060, beam=1),  # torso, bottom
    clr(1150, beam=1),
    clr(1160, beam=0),
]


def test_dual_beam_takes_the_elbow_and_the_hand_together() -> None:
    det = CrossingDetector(GateRule(Trigger.DUAL_BEAM))
    assert feed(det, ELBOW_ON_TOP) == [1040]


def test_dual_longest_takes_the_later_of_each_beams_longest_break() -> None:
    det = CrossingDetector(GateRule(Trigger.DUAL_LONGEST, window_us=250 * MS))
    assert feed(det, ELBOW_ON_TOP) == []  # waits for the window, as longest-break does
    assert det.due_mono_us() == 1_285_000 + LATE_EDGE_US
    [found] = det.poll(1_285_000 + LATE_EDGE_US)
    assert found.at.mono_us == 1_060_000 and found.chosen.beam == 1
    assert found.trigger is Trigger.DUAL_LONGEST and len(found.edges) == len(ELBOW_ON_TOP)


def test_dual_longest_needs_both_beams() -> None:
    det = CrossingDetector(GateRule(Trigger.DUAL_LONGEST, window_us=100 * MS))
    # A hand above a short athlete's torso cuts only the top beam: no crossing.
    assert feed(det, [brk(1000, beam=0), clr(1030, beam=0)], then_ms=2000) == []
    # A clearing of one beam never ends the other beam's open break.
    edges = [brk(3000, beam=0), brk(3010, beam=1), clr(3020, beam=1), brk(3030, beam=1)]
    assert feed(det, [*edges, clr(3080, beam=1), clr(3090, beam=0)], then_ms=4000) == [3030]


def test_rearm_keeps_a_trailing_arm_from_being_the_next_crossing() -> None:
    det = CrossingDetector(GateRule(rearm_us=500 * MS))
    # A shuttle through one gate: out at 1000, the arm at 1200, back through at 3000.
    assert feed(det, [brk(1000), clr(1100), brk(1200), clr(1220), brk(3000)]) == [1000, 3000]


def test_rearm_keeps_what_it_dropped_for_asking_later() -> None:
    """A trailing arm and a second body both fall inside the re-arm; the detector keeps
    them (with how long each lasted) so a course can ask who the second one was."""
    det = CrossingDetector(GateRule(rearm_us=500 * MS))
    edges = [brk(1000), clr(1100), brk(1150), clr(1165), brk(1300), clr(1380), brk(1450)]
    assert feed(det, edges) == [1000]
    dropped = [(round(s.mono_us / MS), None if n is None else n // MS)
               for s, n in det.dropped_breaks()]  # fmt: skip
    assert dropped == [(1150, 15), (1300, 80), (1450, None)]
    for ms in range(2000, 2000 + 40 * 600, 600):  # bounded: the newest are kept
        feed(det, [brk(ms), clr(ms + 50), brk(ms + 100), clr(ms + 120)])
    assert len(det.dropped_breaks()) == MAX_DROPPED


def test_rule_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="window"):
        GateRule(Trigger.LONGEST_BREAK, window_us=5 * MS)
    with pytest.raises(ValueError, match="re-arm"):
        GateRule(rearm_us=-1)
    assert GateRule(Trigger.DUAL_BEAM).beams == 2 and GateRule().beams == 1
    assert GateRule(Trigger.DUAL_LONGEST).beams == 2 and Trigger.DUAL_LONGEST.windowed
