"""Run engine: splits, debounce, ignored crossings, timeout, void, and the tick-based maths."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.engine import ALLOWED_TRANSITIONS, Crossing, RunEngine, RunState
from drills.errors import EngineError
from drills.loader import load_drill_text, load_library
from drills.model import Drill
from drills.timing import Stamp
from tests.drills.engine_support import MS, THREE_GATES, S, at, pending


def test_normal_run(three: Drill) -> None:
    engine = RunEngine(three)
    assert engine.outcome().state is RunState.ARMED and engine.started_at is None
    assert engine.crossing(at("start", 5 * S)) == []
    assert engine.outcome().state is RunState.RUNNING
    assert engine.started_at == Stamp(5 * S)
    [first] = engine.crossing(at("split_10m", 5 * S + 2_400 * MS))
    assert (first.name, first.from_role, first.to_role) == ("start-split_10m", "start", "split_10m")
    assert first.elapsed_us == 2_400 * MS and first.distance_m == 10
    [second] = engine.crossing(at("finish", 5 * S + 4_100 * MS))
    assert second.elapsed_us == 1_700 * MS
    assert engine.state is RunState.FINISHED
    outcome = engine.outcome()
    assert outcome.total_us == 4_100 * MS
    assert outcome.splits == (first, second)
    assert outcome.reason is None
    assert engine.ignored == []


def test_rebreak_within_rearm_is_debounced(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("start", 0))
    engine.crossing(at("start", 180 * MS))  # the trailing leg
    engine.crossing(at("start", 500 * MS))  # still within 500 ms
    assert [reason for _, reason in engine.ignored] == [
        "debounce: 'start' re-broken within the re-arm time"
    ] * 2
    assert engine.started_at == Stamp(0)
    engine.crossing(at("finish", 2_300 * MS))
    engine.crossing(at("finish", 2_450 * MS))
    assert engine.outcome().total_us == 2_300 * MS
    assert "run over" in engine.ignored[-1][1]


def test_debounce_measured_on_device_ticks() -> None:
    drill = load_library()["sprint-10m"]
    engine = RunEngine(drill)
    engine.crossing(Crossing("start", Stamp(0, "g:1", 0, 1e6)))
    # Mapped time says 600 ms later, the device clock says 300 ms: it is a re-break.
    engine.crossing(Crossing("start", Stamp(600 * MS, "g:1", 300 * MS, 1e6)))
    assert engine.ignored[0][1].startswith("debounce")


def test_unexpected_role_is_ignored(three: Drill) -> None:
    engine = RunEngine(three)
    engine.crossing(at("finish", 0))  # later in the chain: held, not dropped
    assert engine.outcome().state is RunState.ARMED
    assert engine.pending == (at("finish", 0),)
    engine.crossing(at("start", 1 * S))  # now the held finish is known to be too early
    assert not pending(engine)
    engine.crossing(at("finish", 2 * S))  # skipped the split gate: held for now
    engine.crossing(at("start", 3 * S))  # start gate again, long after the re-arm time
    engine.crossing(at("pod_left", 3 * S))  # not a role of this drill
    reasons = [reason for _, reason in engine.ignored]
    assert reasons == [
        "stamped before the previous accepted crossing",
        "not expected: waiting for 'split_10m'",
        "unknown role 'pod_left'",
    ]
    assert engine.state is RunState.RUNNING
    assert engine.expected_role == "split_10m"
    assert engine.pending == (at("finish", 2 * S),)


def test_timeout_via_poll(backward: Drill) -> None:
    engine = RunEngine(backward)
    assert engine.poll(100 * S) is RunState.ARMED  # armed runs never time out
    engine.crossing(at("start", 1 * S))
    assert engine.poll(11 * S) is RunState.RUNNING  # exactly at the limit is still running
    assert engine.poll(11 * S + 1) is RunState.TIMEOUT
    assert engine.crossing(at("finish", 11 * S + 2)) == []
    outcome = engine.outcome()
    assert outcome.state is RunState.TIMEOUT and outcome.total_us is None
    assert outcome.reason == "not finished within 10 s"


def test_late_event_stamped_after_limit_times_out(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("start", 0))
    assert engine.crossing(at("finish", 10 * S + 1)) == []
    assert engine.state is RunState.TIMEOUT
    assert engine.ignored[-1][1] == "after the time limit"


def test_void(three: Drill) -> None:
    engine = RunEngine(three)
    engine.crossing(at("start", 0))
    engine.crossing(at("split_10m", 2 * S))
    engine.void("false start")
    assert engine.crossing(at("finish", 3 * S)) == []
    outcome = engine.outcome()
    assert outcome.state is RunState.VOID
    assert outcome.reason == "false start"
    assert len(outcome.splits) == 1 and outcome.total_us is None
    with pytest.raises(EngineError):
        engine.void("again")


def test_finished_run_can_be_voided_later(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("start", 0))
    engine.crossing(at("finish", 2 * S))
    engine.void("slipped")
    assert engine.outcome().state is RunState.VOID
    assert engine.outcome().total_us is None


def test_crossings_after_finish_are_ignored(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("start", 0))
    engine.crossing(at("finish", 2 * S))
    assert engine.crossing(at("start", 5 * S)) == []
    assert engine.crossing(at("finish", 6 * S)) == []
    assert [reason for _, reason in engine.ignored] == ["run over (finished)"] * 2
    assert engine.outcome().total_us == 2 * S
    assert engine.poll(100 * S) is RunState.FINISHED


def test_crossing_stamped_before_previous_is_ignored(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(at("start", 5 * S))
    engine.crossing(at("finish", 4 * S))
    assert engine.state is RunState.RUNNING
    assert engine.ignored[-1][1] == "stamped before the previous accepted crossing"


def test_same_clock_splits_use_ticks(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(Crossing("start", Stamp(1 * S, "hub:1", 0, 32_768.0)))
    # Mapped host time drifted by a refit; the ticks say exactly 2.5 s.
    engine.crossing(Crossing("finish", Stamp(3_520 * MS, "hub:1", 81_920, 32_768.0)))
    assert engine.outcome().total_us == 2_500_000


def test_different_clocks_use_mapped_time(backward: Drill) -> None:
    engine = RunEngine(backward)
    engine.crossing(Crossing("start", Stamp(1 * S, "gate-a:1", 0, 32_768.0)))
    engine.crossing(Crossing("finish", Stamp(3_520 * MS, "gate-b:1", 81_920, 32_768.0)))
    assert engine.outcome().total_us == 2_520_000


def test_transition_table_is_enforced(backward: Drill) -> None:
    assert RunState.VOID not in ALLOWED_TRANSITIONS[RunState.VOID]
    assert all(state in ALLOWED_TRANSITIONS for state in RunState)
    engine = RunEngine(backward)
    engine.void("athlete left")
    with pytest.raises(EngineError, match="void to void"):
        engine.void("twice")


def test_zero_rearm_accepts_immediate_rebreak(three: Drill) -> None:
    drill = replace(three, rearm_us=0)
    engine = RunEngine(drill)
    engine.crossing(at("start", 0))
    assert engine.crossing(at("start", 1)) == []
    assert engine.ignored[-1][1].startswith("not expected")


@given(
    gaps=st.lists(st.integers(min_value=1, max_value=2**40), min_size=3, max_size=3),
    first=st.integers(min_value=0, max_value=2**62),
    tick_hz_est=st.floats(min_value=1_000.0, max_value=1e9, allow_nan=False),
)
def test_total_equals_sum_of_splits_on_one_clock(
    gaps: list[int], first: int, tick_hz_est: float
) -> None:
    drill = replace(
        load_drill_text(THREE_GATES, "sprint-20m.toml"), time_limit_us=2**62, rearm_us=0
    )
    roles = drill.roles_in_order
    engine = RunEngine(drill)
    ticks = first
    for i, role in enumerate(roles):
        if i:
            ticks += gaps[i - 1]
        engine.crossing(Crossing(role, Stamp(i, "hub:1", ticks, tick_hz_est)))
    outcome = engine.outcome()
    assert outcome.state is RunState.FINISHED
    assert outcome.total_us is not None
    assert abs(outcome.total_us - sum(s.elapsed_us for s in outcome.splits)) <= len(drill.segments)
