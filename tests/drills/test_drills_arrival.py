"""Run engine: crossings arriving out of order give the outcome of the same crossings in order."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise, permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.engine import Crossing, RunEngine, RunState
from drills.loader import load_drill_text
from drills.model import Drill
from drills.timing import Stamp
from tests.drills.engine_support import MS, THREE_GATES, S, at, pending, state

FIVE_METRE_SPLIT = (
    THREE_GATES.replace("split_10m", "split_5m")
    .replace("position_m = 10\n", "position_m = 5\n")
    .replace('to = "split_5m"\ndistance_m = 10', 'to = "split_5m"\ndistance_m = 5')
    .replace('to = "finish"\ndistance_m = 10', 'to = "finish"\ndistance_m = 15')
)


@pytest.fixture()
def five() -> Drill:
    return load_drill_text(FIVE_METRE_SPLIT, "sprint-20m.toml")


def test_finish_before_start_completes_when_start_arrives(backward: Drill) -> None:
    engine = RunEngine(backward)
    assert engine.crossing(at("finish", 3_200 * MS)) == []
    assert engine.state is RunState.ARMED
    assert engine.pending == (at("finish", 3_200 * MS),)
    [split] = engine.crossing(at("start", 1 * S))
    assert split.elapsed_us == 2_200 * MS
    assert engine.started_at == Stamp(1 * S)
    assert state(engine) is RunState.FINISHED
    assert engine.outcome().total_us == 2_200 * MS
    assert not pending(engine) and engine.ignored == []


def test_held_splits_come_back_together_in_chain_order(five: Drill) -> None:
    engine = RunEngine(five)
    assert engine.crossing(at("finish", 4 * S)) == []
    assert engine.crossing(at("split_5m", 2 * S)) == []
    assert engine.pending == (at("split_5m", 2 * S), at("finish", 4 * S))  # stamp order
    splits = engine.crossing(at("start", 1 * S))
    assert [(s.name, s.elapsed_us) for s in splits] == [
        ("start-split_5m", 1 * S),
        ("split_5m-finish", 2 * S),
    ]
    assert engine.outcome().total_us == 3 * S


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_three_roles_in_any_arrival_order(five: Drill, order: tuple[int, ...]) -> None:
    crossings = [
        Crossing("start", Stamp(10 * S, "a:1", 0, 1e6)),
        Crossing("split_5m", Stamp(11_300 * MS, "b:1", 500, 1e6)),
        Crossing("finish", Stamp(12_050 * MS, "a:1", 2_050_003, 1e6)),
    ]
    engine = RunEngine(five)
    returned = [split for i in order for split in engine.crossing(crossings[i])]
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED
    assert [s.elapsed_us for s in outcome.splits] == [1_300 * MS, 750 * MS]
    assert tuple(returned) == outcome.splits
    assert outcome.total_us == 2_050_003  # start and finish share a clock: raw ticks
    assert engine.ignored == [] and engine.pending == ()


def test_held_crossing_stamped_before_start_is_dropped(three: Drill) -> None:
    engine = RunEngine(three)
    engine.crossing(at("split_10m", 900 * MS))  # a coach walking through the split gate
    assert engine.pending == (at("split_10m", 900 * MS),)
    assert engine.crossing(at("start", 1 * S)) == []
    assert not pending(engine)
    assert engine.ignored == [
        (at("split_10m", 900 * MS), "stamped before the previous accepted crossing")
    ]
    assert engine.state is RunState.RUNNING and engine.expected_role == "split_10m"
    [split] = engine.crossing(at("split_10m", 3 * S))
    assert split.elapsed_us == 2 * S


def test_late_start_with_earlier_stamp_starts_the_run_at_its_own_stamp(five: Drill) -> None:
    engine = RunEngine(five)
    engine.crossing(at("split_5m", 6 * S))
    engine.crossing(at("split_5m", 6 * S + 30 * MS))  # its bounce, also held
    assert len(engine.pending) == 2
    assert engine.crossing(at("start", 5 * S)) == [
        engine.outcome().splits[0],
    ]
    assert engine.started_at == Stamp(5 * S)
    assert engine.outcome().splits[0].elapsed_us == 1 * S
    assert [reason for _, reason in engine.ignored] == [
        "debounce: 'split_5m' re-broken within the re-arm time"
    ]
    assert not pending(engine)


def test_bounce_arriving_before_its_arm_while_held(three: Drill) -> None:
    engine = RunEngine(three)
    engine.crossing(at("start", 0))
    engine.crossing(at("finish", 4_180 * MS))  # the leg, re-sent out of order
    engine.crossing(at("finish", 4 * S))  # the arm: earlier, so it is the one that counts
    assert engine.pending == (at("finish", 4 * S), at("finish", 4_180 * MS))
    engine.crossing(at("split_10m", 2 * S))
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED and outcome.total_us == 4 * S
    assert engine.ignored == [
        (at("finish", 4_180 * MS), "debounce: 'finish' re-broken within the re-arm time")
    ]


def test_bounce_arriving_before_its_arm_once_accepted(backward: Drill) -> None:
    # The leg's break came first and was the expected role, so it counted and its split
    # went out; the arm's earlier break is recorded, not used (first accepted wins).
    engine = RunEngine(backward)
    engine.crossing(at("start", 0))
    [split] = engine.crossing(at("finish", 2_380 * MS))
    assert engine.crossing(at("finish", 2_300 * MS)) == []
    assert engine.ignored == [(at("finish", 2_300 * MS), "earlier re-break arrived late")]
    assert engine.outcome().total_us == split.elapsed_us == 2_380 * MS  # not corrected

    engine = RunEngine(backward)
    engine.crossing(at("start", 180 * MS))  # the leg
    assert engine.crossing(at("start", 0)) == []  # the arm, late
    assert engine.ignored == [(at("start", 0), "earlier re-break arrived late")]
    assert engine.started_at == Stamp(180 * MS)
    assert engine.crossing(at("start", 180 * MS - 500 * MS - 1)) == []  # outside the window
    assert engine.ignored[-1][1] == "not expected: waiting for 'finish'"


def test_held_finish_completes_without_poll_when_start_arrives_late(
    backward: Drill,
) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("finish", 9_900 * MS))  # start gate was unplugged and re-sends late
    assert engine.poll(30 * S) is RunState.ARMED  # nothing started: nothing times out
    [split] = engine.crossing(at("start", 0))
    assert split.elapsed_us == 9_900 * MS
    assert engine.state is RunState.FINISHED


def test_held_finish_past_the_limit_times_the_run_out(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("finish", 10 * S + 1))
    assert engine.crossing(at("start", 0)) == []
    outcome = engine.outcome()
    assert outcome.state is RunState.TIMEOUT and outcome.total_us is None
    assert engine.ignored == [(at("finish", 10 * S + 1), "after the time limit")]


def test_run_over_moves_held_crossings_to_ignored(three: Drill) -> None:
    engine = RunEngine(three)
    engine.crossing(at("start", 0))
    engine.crossing(at("finish", 3 * S))
    engine.void("false start")
    assert not pending(engine)
    assert engine.ignored == [(at("finish", 3 * S), "run over (void)")]

    engine = RunEngine(three)
    engine.crossing(at("start", 0))
    engine.crossing(at("finish", 3 * S))
    assert engine.poll(9 * S) is RunState.TIMEOUT
    assert not pending(engine)
    assert engine.ignored == [(at("finish", 3 * S), "run over (timeout)")]


def _chain_drill(n_roles: int) -> Drill:
    roles = ["start", *(f"gate_{i}" for i in range(1, n_roles))]
    head = THREE_GATES[: THREE_GATES.index("[roles.start]")]
    parts = [head]
    for i, role in enumerate(roles):
        parts.append(f'[roles.{role}]\nkind = "gate"\nposition_m = {i * 5}\n')
    for a, b in pairwise(roles):
        parts.append(
            f'[[segments]]\nfrom = "{a}"\nto = "{b}"\ndistance_m = 5\nmovement = "sprint"\n'
        )
    return load_drill_text("".join(parts), "sprint-20m.toml")


CHAIN_DRILLS = {n: _chain_drill(n) for n in range(2, 6)}


@st.composite
def shuffled_runs(draw: st.DrawFn) -> tuple[Drill, list[Crossing], list[Crossing]]:
    """A drill, its crossings in stamp order, and the same crossings as they might arrive."""
    drill = CHAIN_DRILLS[draw(st.integers(min_value=2, max_value=5))]
    drill = replace(drill, time_limit_us=draw(st.sampled_from([4 * S, 30 * S])))
    t = draw(st.integers(min_value=0, max_value=2**40))
    in_order: list[Crossing] = []
    firsts: dict[int, int] = {}  # index in in_order of each role's first crossing
    bounce_of: dict[int, int] = {}  # index of a bounce -> index of its first crossing
    for position, role in enumerate(drill.roles_in_order):
        if position:
            t += draw(st.integers(min_value=drill.rearm_us + 1, max_value=3 * S))
        firsts[position] = len(in_order)
        in_order.append(at(role, t))
        if draw(st.booleans()):
            bounce = t + draw(st.integers(min_value=10 * MS, max_value=40 * MS))
            bounce_of[len(in_order)] = firsts[position]
            in_order.append(at(role, bounce))
    order = list(draw(st.permutations(range(len(in_order)))))
    for bounce, first in bounce_of.items():  # a role's first crossing arrives before its bounce
        i, j = order.index(first), order.index(bounce)
        if j < i:
            order[i], order[j] = order[j], order[i]
    return drill, in_order, [in_order[i] for i in order]


@given(shuffled_runs())
def test_arrival_order_does_not_change_the_outcome(
    run: tuple[Drill, list[Crossing], list[Crossing]],
) -> None:
    drill, in_order, arrived = run
    reference = RunEngine(drill)
    for c in in_order:
        reference.crossing(c)
    engine = RunEngine(drill)
    returned = [split for c in arrived for split in engine.crossing(c)]
    assert engine.outcome() == reference.outcome()
    assert tuple(returned) == engine.outcome().splits
    assert not pending(engine)
    accepted = len(engine.outcome().splits) + (engine.started_at is not None)
    assert accepted + len(engine.ignored) == len(arrived)  # every crossing accounted for
