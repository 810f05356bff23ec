"""Several athletes on one course: FIFO per gate, flags for passes, the coach's swap and confirm."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drills.engine import RunEngine, RunState
from drills.errors import EngineError
from drills.loader import load_drill_text, load_library
from drills.model import Drill
from drills.overlap import Assignment, Course, Doubt, Refused, Runner, RunStatus
from drills.timing import Stamp

S = 1_000_000
SPACING_US = 1 * S

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


def at(seconds: float) -> Stamp:
    return Stamp(round(seconds * S))


@pytest.fixture(scope="module")
def sprint() -> Drill:
    """Start, 10 m, 20 m finish; 10 s time limit."""
    return load_library()["sprint-20m"]


@dataclass(frozen=True)
class Truth:
    """A simulated rep: who ran, and when they really crossed each gate (seconds)."""

    athlete: str
    times_s: dict[str, float]


def feed(course: Course, reps: list[Truth]) -> dict[int, str]:
    """Every start and crossing in time order; returns who really made each crossing."""
    events = sorted(
        (t, role, rep.athlete) for rep in reps for role, t in rep.times_s.items()
    )  # fmt: skip
    owner: dict[int, str] = {}
    for t, role, athlete in events:
        if role == "start":
            assert isinstance(course.start(athlete, at(t)), Runner)
        else:
            owner[course.crossing(role, at(t)).crossing] = athlete
    return owner


def times(course: Course, athlete: str) -> dict[str, float]:
    (run,) = [r for r in course.runs if r.runner.athlete == athlete]
    return {c.role: c.at.mono_us / S for c in run.crossings}


def wrong(course: Course, owner: dict[int, str]) -> list[Assignment]:
    return [
        a for a in course.assignments if a.runner is None or a.runner.athlete != owner[a.crossing]
    ]


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


# --- properties ------------------------------------------------------------------------------

athletes = st.lists(
    st.tuples(
        st.floats(min_value=1.0, max_value=3.0),  # seconds after the previous start (>= min)
        st.floats(min_value=3.0, max_value=10.0),  # constant speed, m/s
    ),
    min_size=2,
    max_size=6,
)


def constant_speed_reps(specs: list[tuple[float, float]]) -> list[Truth]:
    reps, start_s = [], 0.0
    for i, (gap_s, speed_mps) in enumerate(specs):
        start_s += gap_s
        reps.append(
            Truth(f"a{i}", {"start": start_s, "split_10m": start_s + 10 / speed_mps,
                            "finish": start_s + 20 / speed_mps})
        )  # fmt: skip
    return reps


def order_at(reps: list[Truth], role: str) -> list[str]:
    return [r.athlete for r in sorted(reps, key=lambda r: r.times_s[role])]


@settings(max_examples=300, deadline=None)
@given(athletes)
def test_without_overtakes_every_crossing_is_right_and_nothing_is_flagged(
    specs: list[tuple[float, float]],
) -> None:
    drill = load_library()["sprint-20m"]
    reps = constant_speed_reps(specs)
    start_order = [r.athlete for r in reps]
    assume(order_at(reps, "split_10m") == start_order == order_at(reps, "finish"))
    course = Course(drill, SPACING_US)
    owner = feed(course, reps)
    assert wrong(course, owner) == []
    assert course.flags == ()


@settings(max_examples=300, deadline=None)
@given(athletes)
def test_with_overtakes_after_10m_every_wrong_crossing_is_flagged(
    specs: list[tuple[float, float]],
) -> None:
    """The bound this holds under: constant speeds; no overtake before the first split (no
    pace exists yet); any two finish crossings more than 1 % of the slower runner's segment
    time apart (the rule needs (e^(margin/2) - 1), about 0.5 %)."""
    drill = load_library()["sprint-20m"]
    reps = constant_speed_reps(specs)
    assume(order_at(reps, "split_10m") == [r.athlete for r in reps])
    for a in reps:
        for b in reps:
            slower_s = max(
                r.times_s["finish"] - r.times_s["split_10m"] for r in (a, b)
            )  # fmt: skip
            gap_s = abs(a.times_s["finish"] - b.times_s["finish"])
            assume(a is b or gap_s > 0.01 * slower_s)
    course = Course(drill, SPACING_US)
    owner = feed(course, reps)

    assert all(a.flag is not None for a in wrong(course, owner))

    # A coach who knows the truth swaps a flag when it names the right runner and confirms it
    # otherwise; that ends with every crossing right.
    for _ in range(2 * len(reps)):
        if not course.flags:
            break
        flag = course.flags[0]
        if flag.alternative is not None and flag.alternative.athlete == owner[flag.crossing]:
            course.swap(flag)
        else:
            course.confirm(flag)
    assert course.flags == ()
    assert wrong(course, owner) == []


# --- a passed runner who pulls up ------------------------------------------------------------

# cai runs 10 m in 2.0 s, then pulls up (a hamstring) and jogs in; dan, 1.2 s behind, runs on
# at the pace everyone before ran the flying 10 m and passes her. Only cai's pace changes, so
# the spread of paces around their median fits either way; what shows the pass is that only one
# runner is off the usual pace, which eve, who ran before them, shows.
EVE = Truth("eve", {"start": -6.0, "split_10m": -4.0, "finish": -2.5})
CAI = Truth("cai", {"start": 0.0, "split_10m": 2.0, "finish": 5.5})
DAN = Truth("dan", {"start": 1.2, "split_10m": 3.2, "finish": 4.7})


def test_a_runner_passed_by_one_who_pulls_up_is_flagged(sprint: Drill) -> None:
    course = Course(sprint, SPACING_US)
    owner = feed(course, [EVE, CAI, DAN])

    _, first, second = [a for a in course.assignments if a.role == "finish"]
    assert wrong(course, owner) == [first, second]
    assert first.flag is not None and second.flag is not None
    assert first.flag.doubt is Doubt.PASS and first.flag.alternative == Runner(3, "dan")
    assert "pull up and get passed" in first.flag.reason
    course.swap(first.flag)
    assert wrong(course, owner) == [] and course.flags == ()


pulled_up = st.tuples(
    st.floats(min_value=1.0, max_value=2.0),  # start gap, s
    st.floats(min_value=4.0, max_value=7.0),  # speed to 10 m, m/s: 0.6 of the time stays human
    st.floats(min_value=1.3, max_value=3.0),  # how much slower they run the last 10 m
    st.floats(min_value=0.6, max_value=1.15),  # everyone else's last 10 m against their first
)


@settings(max_examples=300, deadline=None)
@given(pulled_up)
def test_every_pass_of_a_runner_who_pulls_up_is_flagged(
    spec: tuple[float, float, float, float],
) -> None:
    """The bound this holds under: someone ran the course before them (with nobody before,
    the spread of paces alone judges, and it cannot tell a pull-up from two runners who both
    tire), the passer changes pace as they did, and the finishes are far enough apart for the
    paces to tell: gap x (1/passer's segment - 1/passed runner's segment) above twice the
    margin (1 %). A near-tie fits either way."""
    gap_s, speed_mps, slow_factor, usual_factor = spec
    drill = load_library()["sprint-20m"]
    t10 = 10 / speed_mps

    def rep(name: str, start_s: float, factor: float) -> Truth:
        return Truth(name, {"start": start_s, "split_10m": start_s + t10,
                            "finish": start_s + t10 * (1 + factor)})  # fmt: skip

    reps = [rep("pacer", -t10 * 4, usual_factor)]
    reps += [rep("a", 0.0, slow_factor), rep("b", gap_s, usual_factor)]
    passed, passer = reps[-2:]
    assume(passer.times_s["finish"] < passed.times_s["finish"])
    gap_finish_s = passed.times_s["finish"] - passer.times_s["finish"]
    assume(gap_finish_s * (1 / (t10 * usual_factor) - 1 / (t10 * slow_factor)) > 0.02)
    course = Course(drill, SPACING_US)
    owner = feed(course, reps)
    assert wrong(course, owner) != []
    assert all(a.flag is not None for a in wrong(course, owner))


shared_change = st.tuples(
    st.lists(
        # start gap (s), speed to 10 m (m/s): at most 7, so 0.6 of the time stays human
        st.tuples(st.floats(min_value=1.0, max_value=3.0), st.floats(min_value=3.0, max_value=7.0)),
        min_size=2, max_size=6,
    ),
    st.floats(min_value=0.6, max_value=1.4),  # every runner's last 10 m against their first
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(shared_change)
def test_a_pace_change_everyone_shares_raises_no_flag(
    spec: tuple[list[tuple[float, float]], float],
) -> None:
    specs, factor = spec
    drill = load_library()["sprint-20m"]
    reps, start_s = [], 0.0
    for i, (gap_s, speed_mps) in enumerate(specs):
        start_s += gap_s
        t10 = 10 / speed_mps
        reps.append(Truth(f"a{i}", {"start": start_s, "split_10m": start_s + t10,
                                     "finish": start_s + t10 * (1 + factor)}))  # fmt: skip
    start_order = [r.athlete for r in reps]
    assume(order_at(reps, "split_10m") == start_order == order_at(reps, "finish"))
    course = Course(drill, SPACING_US)
    owner = feed(course, reps)
    assert wrong(course, owner) == []
    assert course.flags == ()
