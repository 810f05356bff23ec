"""Several athletes on one course: FIFO per gate, flags for passes, the coach's swap and confirm."""

from __future__ import annotations

import pytest

from drills.engine import RunEngine, RunState
from drills.errors import EngineError
from drills.loader import load_drill_text, load_library
from drills.model import Drill
from drills.overlap import Course, Doubt, Refused, Runner, RunStatus
from tests.drills.overlap_support import SPACING_US, S, Truth, at, feed, sprint_20m, times, wrong

FOUR_GATES = """\
format = 1
slug = "sprint-30m"
name = "Sprint 30 m"
purpose = "Test drill with two splits."
category = "linear"
direction = "forward"
time_limit_s = 10
[start]
type = "auto"
stance = "standing"
[roles.start]
kind = "gate"
position_m = 0
[roles.split_10m]
kind = "gate"
position_m = 10
[roles.split_20m]
kind = "gate"
position_m = 20
[roles.finish]
kind = "gate"
position_m = 30
[[segments]]
from = "start"
to = "split_10m"
distance_m = 10
movement = "sprint"
[[segments]]
from = "split_10m"
to = "split_20m"
distance_m = 10
movement = "sprint"
[[segments]]
from = "split_20m"
to = "finish"
distance_m = 10
movement = "sprint"
"""


@pytest.fixture(scope="module")
def sprint() -> Drill:
    return sprint_20m()


# --- first in, first out ---------------------------------------------------------------------


def test_three_athletes_overlapping_are_assigned_first_in_first_out(sprint: Drill) -> None:
    reps = [
        Truth("ana", {"start": 0.0, "split_10m": 2.0, "finish": 3.4}),
        Truth("ben", {"start": 1.2, "split_10m": 3.3, "finish": 4.8}),
        Truth("cai", {"start": 2.5, "split_10m": 4.4, "finish": 5.7}),
    ]
    course = Course(sprint, SPACING_US)
    owner = feed(course, reps)

    # They really overlap: ben and cai started before ana finished.
    assert [a.runner.athlete if a.runner else None for a in course.assignments] == [
        owner[n] for n in range(6)
    ]
    assert course.flags == ()
    for rep in reps:
        assert times(course, rep.athlete) == rep.times_s
    assert [r.status for r in course.runs] == [RunStatus.FINISHED] * 3
    assert course.on_course == ()


def test_a_crossing_with_nobody_due_goes_to_nobody(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    course.start("ana", at(0))
    course.crossing("split_10m", at(2))
    stray = course.crossing("split_10m", at(2.8))  # a coach walking through
    assert stray.runner is None
    assert stray.reason == "nobody on the course is due at split_10m"
    assert course.crossing("start", at(3)).runner is None
    assert course.crossing("turn_line", at(3)).runner is None


# --- a pass ----------------------------------------------------------------------------------

# ana is slow, ben fast; ben starts 1 s later and overtakes ana between 10 m and the finish.
# Both speed up after 10 m, as sprinters do, by different amounts.
ANA = Truth("ana", {"start": 0.0, "split_10m": 2.4, "finish": 4.4})
BEN = Truth("ben", {"start": 1.0, "split_10m": 2.7, "finish": 3.9})


def test_a_pass_is_flagged_on_both_crossings(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    owner = feed(course, [ANA, BEN])

    first, second = [a for a in course.assignments if a.role == "finish"]
    # FIFO gives ben's finish to ana (she crossed 10 m first) and hers to ben ...
    assert (first.runner, second.runner) == (Runner(1, "ana"), Runner(2, "ben"))
    assert wrong(course, owner) == [first, second]
    # ... and says so, naming the other runner.
    assert first.flag is not None and second.flag is not None
    assert first.flag.doubt is Doubt.PASS
    assert first.flag.alternative == Runner(2, "ben")
    assert first.flag.other_crossing == second.crossing
    assert second.flag.alternative == Runner(1, "ana")
    assert "ben (#2) fits this crossing better than ana (#1)" in first.flag.reason
    assert course.flags == (first.flag, second.flag)


@pytest.mark.parametrize("which", [0, 1], ids=["earlier-crossing", "later-crossing"])
def test_swap_gives_each_runner_their_own_times(sprint: Drill, which: int) -> None:
    course = Course(sprint, SPACING_US)
    owner = feed(course, [ANA, BEN])
    flag = course.flags[which]

    changed = course.swap(flag)

    assert {a.crossing for a in changed} == {flag.crossing, flag.other_crossing}
    assert wrong(course, owner) == []
    assert course.flags == ()
    assert times(course, "ana") == ANA.times_s
    assert times(course, "ben") == BEN.times_s
    assert course.assignments[flag.crossing].decided
    # The runs are ready for the run engine, which now times each athlete right.
    totals = {}
    for run in course.runs:
        engine = RunEngine(sprint)
        for c in run.crossings:
            engine.crossing(c)
        assert engine.state is RunState.FINISHED
        totals[run.runner.athlete] = engine.outcome().total_us
    assert totals == {"ana": 4_400_000, "ben": 2_900_000}


def test_confirm_keeps_the_assignment_and_clears_the_pair(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    feed(course, [ANA, BEN])
    flag = course.flags[0]

    course.confirm(flag)

    assert course.flags == ()  # its partner has nobody left to exchange with
    assert times(course, "ana")["finish"] == 3.9
    assert times(course, "ben")["finish"] == 4.4
    assert course.assignments[flag.crossing].decided
    with pytest.raises(EngineError, match="not open"):
        course.swap(flag)  # already ruled on


def test_no_flag_when_the_faster_athlete_does_not_catch_up(sprint: Drill) -> None:
    late_ben = Truth("ben", {"start": 2.0, "split_10m": 3.7, "finish": 4.9})
    course = Course(sprint, SPACING_US)
    owner = feed(course, [ANA, late_ben])
    assert wrong(course, owner) == []
    assert course.flags == ()


def test_swap_at_a_middle_gate_carries_on_to_later_gates() -> None:
    drill = load_drill_text(FOUR_GATES, "sprint-30m.toml")
    # ben passes ana between 10 and 20 m and stays ahead.
    ana = Truth("ana", {"start": 0, "split_10m": 2.4, "split_20m": 4.4, "finish": 6.4})
    ben = Truth("ben", {"start": 1, "split_10m": 2.7, "split_20m": 3.9, "finish": 5.1})
    course = Course(drill, SPACING_US)
    owner = feed(course, [ana, ben])
    assert len(wrong(course, owner)) == 4  # FIFO keeps ana ahead at 20 m and at the finish
    flagged = {f.crossing for f in course.flags}
    assert {a.crossing for a in wrong(course, owner) if a.role == "split_20m"} <= flagged

    course.swap(next(f for f in course.flags if f.role == "split_20m"))

    # The finish is recomputed in the new order without a second decision.
    assert wrong(course, owner) == []
    assert times(course, "ana") == ana.times_s
    assert times(course, "ben") == ben.times_s


# --- implausible speed, a missed gate --------------------------------------------------------


def test_a_crossing_too_soon_for_a_human_is_flagged(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    course.start("ana", at(0))
    course.start("ben", at(1.5))
    course.crossing("split_10m", at(2.0))
    stray = course.crossing("finish", at(2.5))  # 10 m in 0.5 s: 20 m/s
    assert stray.runner == Runner(1, "ana")
    assert stray.flag is not None and stray.flag.doubt is Doubt.TOO_FAST
    assert "20.0 m/s, above the 12.5 m/s bound" in stray.flag.reason
    assert stray.flag.alternative == Runner(2, "ben")


def test_backward_running_has_a_lower_bound() -> None:
    backward = load_library()["backward-sprint-20m"]
    course = Course(backward, SPACING_US)
    course.start("ana", at(0))
    course.crossing("split_10m", at(2.5))
    fast = course.crossing("finish", at(3.4))  # 11.1 m/s: a sprint, not a backward run
    assert fast.flag is not None and fast.flag.doubt is Doubt.TOO_FAST
    assert "above the 10 m/s bound" in fast.flag.reason
    assert fast.flag.alternative is None
    with pytest.raises(EngineError, match="no other runner"):
        course.swap(fast.flag)


def test_a_runner_given_a_crossing_past_a_gate_they_missed_is_flagged(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    course.start("ana", at(0))
    finish = course.crossing("finish", at(3.5))  # the 10 m beam missed her
    assert finish.runner == Runner(1, "ana")
    assert finish.flag is not None and finish.flag.doubt is Doubt.MISSED_GATE
    assert "no crossing of split_10m" in finish.flag.reason


# --- time limit ------------------------------------------------------------------------------


def test_a_timed_out_rep_frees_its_slot(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    course.start("ana", at(0))
    course.crossing("split_10m", at(2.0))  # then ana pulls up and walks off
    course.start("ben", at(2.0))
    course.crossing("split_10m", at(4.0))

    assert course.expire(9_900_000) == ()  # host time, not yet past ana's 10 s
    assert course.expire(10_100_000) == (Runner(1, "ana"),)
    assert course.on_course == (Runner(2, "ben"),)

    finish = course.crossing("finish", at(11.0))
    assert finish.runner == Runner(2, "ben")
    assert [r.status for r in course.runs] == [RunStatus.TIMED_OUT, RunStatus.FINISHED]
    assert times(course, "ana") == {"start": 0.0, "split_10m": 2.0}


def test_a_crossing_stamped_past_the_limit_times_out_without_expire(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    course.start("ana", at(0))
    course.crossing("split_10m", at(2.0))
    course.start("ben", at(2.0))
    course.crossing("split_10m", at(4.0))
    assert course.crossing("finish", at(10.5)).runner == Runner(2, "ben")
    assert [r.status for r in course.runs] == [RunStatus.TIMED_OUT, RunStatus.FINISHED]


def test_expire_takes_a_stamp_too(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    course.start("ana", at(0))
    assert course.expire(at(10.0)) == ()  # exactly at the limit: still running
    assert course.expire(at(10.000001)) == (Runner(1, "ana"),)


# --- starts ----------------------------------------------------------------------------------


def test_a_start_too_soon_is_refused_with_a_reason(sprint: Drill) -> None:
    course = Course(sprint, int(1.5 * S))
    assert course.start("ana", at(0)) == Runner(1, "ana")

    refused = course.start("ben", at(0.4))

    assert isinstance(refused, Refused)
    assert refused.reason == "ben: 0.40 s after the previous start (ana (#1)); the minimum is 1.5 s"
    assert course.refused == (refused,)
    assert course.on_course == (Runner(1, "ana"),)
    # Crossings never go to a refused start.
    assert course.crossing("split_10m", at(1.9)).runner == Runner(1, "ana")
    early = course.start("cai", at(-0.5))
    assert isinstance(early, Refused) and "stamped 0.50 s before the previous start" in early.reason
    assert course.start("ben", at(1.5)) == Runner(2, "ben")  # exactly the minimum is fine


def test_drills_the_rule_cannot_run_are_refused() -> None:
    library = load_library()
    with pytest.raises(EngineError, match="more than once"):
        Course(library["t-test"], SPACING_US)
    with pytest.raises(EngineError, match="reactive target"):
        Course(library["reactive-y-agility"], SPACING_US)
    with pytest.raises(EngineError, match="not a course"):
        Course(library["pod-reaction"], SPACING_US)
