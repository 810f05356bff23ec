"""Several athletes on one course, by property: every wrong crossing is flagged, no right one."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drills.loader import load_library
from drills.model import Drill
from drills.overlap import Course, Doubt, Runner
from tests.drills.overlap_support import SPACING_US, Truth, feed, sprint_20m, wrong


@pytest.fixture(scope="module")
def sprint() -> Drill:
    return sprint_20m()


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
