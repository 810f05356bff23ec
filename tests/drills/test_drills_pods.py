"""Pod series: seeded plans, go/no-go outcomes, reaction and movement, summary."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drills.errors import EngineError
from drills.loader import load_library
from drills.model import Drill
from drills.pods import (
    ALLOWED_TRANSITIONS,
    PodEventKind,
    PodSeries,
    SeriesState,
    Stimulus,
    StimulusOutcome,
    StimulusResult,
    plan,
    summarise,
)
from tests.drills.pods_support import (
    FRONT_L,
    LEFT,
    MS,
    RIGHT,
    WINDOW,
    S,
    at,
    series,
    small_drill,
    stim,
)

# --- planning ---------------------------------------------------------------------------


def test_seeded_plan_replays_identically(pod_drill: Drill) -> None:
    first = plan(pod_drill, random.Random(2024))
    assert first == plan(pod_drill, random.Random(2024))
    assert first != plan(pod_drill, random.Random(2025))
    assert len(first) == 20
    assert [s.index for s in first] == list(range(20))


def test_plan_respects_the_drill(pod_drill: Drill) -> None:
    stimuli = plan(pod_drill, random.Random(5))
    spec = pod_drill.stimuli
    assert spec is not None
    for s in stimuli:
        assert spec.foreperiod_min_us <= s.foreperiod_us <= spec.foreperiod_max_us
        assert s.pod in spec.pods and s.pod != "home"
        assert s.colour in ("green", "red")
        assert s.go is (s.colour == "green")
    assert all(a.pod != b.pod for a, b in pairwise(stimuli))
    assert any(s.go for s in stimuli)
    PodSeries(pod_drill, stimuli)  # a plan always fits its drill


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 6))
def test_every_plan_has_a_go_light_and_no_repeated_pod(seed: int, count: int) -> None:
    stimuli = plan(small_drill(count), random.Random(seed))
    assert len(stimuli) == count
    assert any(s.go for s in stimuli)  # green is 1 colour in 4: the rule is exercised
    assert all(a.pod != b.pod for a, b in pairwise(stimuli))
    assert all(500 * MS <= s.foreperiod_us <= S for s in stimuli)


def test_one_pod_may_light_twice_in_a_row() -> None:
    stimuli = plan(small_drill(4, pods='["a"]'), random.Random(1))
    assert {s.pod for s in stimuli} == {"a"}


def test_plan_and_series_refuse_other_drills(pod_drill: Drill) -> None:
    sprint = load_library()["sprint-10m"]
    with pytest.raises(EngineError):
        plan(sprint, random.Random(1))
    with pytest.raises(EngineError):
        PodSeries(sprint, (stim(0, LEFT),))
    with pytest.raises(EngineError):
        PodSeries(pod_drill, ())
    with pytest.raises(EngineError):
        PodSeries(pod_drill, (stim(1, LEFT),))  # indices must be 0, 1, ...
    with pytest.raises(EngineError):
        PodSeries(pod_drill, (stim(0, "home"),))  # home never lights
    with pytest.raises(EngineError):
        PodSeries(pod_drill, (Stimulus(0, S, LEFT, "red", True),))  # red is no-go


def test_transition_table() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(SeriesState)
    assert ALLOWED_TRANSITIONS[SeriesState.VOID] == frozenset()


# --- outcomes ---------------------------------------------------------------------------


def test_hit_with_home_release_splits_reaction_and_movement(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    assert s.current == stim(0, LEFT)
    assert s.onset(0, at(10 * S, "left", 0)) is None
    assert s.release("home", at(10 * S + 230 * MS)) is None
    # Onset and touch on one pod clock: ticks give the response (412 ms, not mono's 415 ms).
    result = s.touch(LEFT, at(10 * S + 415 * MS, "left", 412 * MS))
    assert result == StimulusResult(
        index=0,
        pod=LEFT,
        colour="green",
        go=True,
        outcome=StimulusOutcome.HIT,
        response_us=412 * MS,
        reaction_us=230 * MS,
        movement_us=182 * MS,
        touched=LEFT,
        ended_mono_us=10 * S + 415 * MS,
    )
    reaction, movement = result.reaction_us, result.movement_us
    assert reaction is not None and movement is not None
    assert reaction + movement == result.response_us
    assert s.state is SeriesState.FINISHED and s.current is None


def test_touch_only_pods_give_the_response_time_alone(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    s.onset(0, at(S))
    result = s.touch(LEFT, at(S + 380 * MS))
    assert result is not None
    assert (result.response_us, result.reaction_us, result.movement_us) == (380 * MS, None, None)


def test_no_go_left_alone_is_a_correct_rejection_after_the_window(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, RIGHT, "red"), stim(1, LEFT))
    s.onset(0, at(S))
    assert s.poll(S + WINDOW) is None  # the window includes its last microsecond
    result = s.poll(S + WINDOW + 1)
    assert result is not None
    assert result.outcome is StimulusOutcome.CORRECT_REJECTION and not result.go
    assert result.response_us is None and result.touched is None
    assert result.ended_mono_us == S + WINDOW
    assert s.state is SeriesState.RUNNING and s.current == stim(1, LEFT)


def test_no_go_touched_is_a_commission(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, RIGHT, "red"))
    s.onset(0, at(S))
    result = s.touch(RIGHT, at(S + 300 * MS))
    assert result is not None
    assert result.outcome is StimulusOutcome.COMMISSION
    assert result.response_us == 300 * MS


def test_go_not_touched_is_a_miss_via_poll(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    assert s.poll(100 * S) is None  # nothing lit yet: nothing to expire
    s.onset(0, at(S))
    assert s.poll(S + S) is None
    result = s.poll(S + WINDOW + 5 * MS)
    assert result is not None and result.outcome is StimulusOutcome.MISS
    assert s.state is SeriesState.FINISHED


def test_touch_stamped_past_the_window_settles_it_without_poll(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT), stim(1, RIGHT))
    s.onset(0, at(S))
    result = s.touch(LEFT, at(S + WINDOW + 10 * MS))
    assert result is not None and result.outcome is StimulusOutcome.MISS
    # The touch may answer the next light, so it waits for that onset to be judged.
    assert [e.kind for e in s.pending] == [PodEventKind.TOUCH]
    s.onset(1, at(4 * S))
    assert s.ignored[-1][1] == "before the light of stimulus 1 (1490 ms)"


def test_touching_another_pod_is_wrong_pod(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    s.onset(0, at(S))
    result = s.touch(RIGHT, at(S + 350 * MS))
    assert result is not None
    assert result.outcome is StimulusOutcome.WRONG_POD
    assert result.touched == RIGHT and result.response_us == 350 * MS
    # The first touch decides: the lit pod touched afterwards changes nothing.
    assert s.touch(LEFT, at(S + 360 * MS)) is None
    assert s.outcome().results == (result,)
    assert "series over" in s.ignored[-1][1]


# --- summary and void -------------------------------------------------------------------


def run_five(pod_drill: Drill) -> PodSeries:
    """hit, commission, hit, correct rejection, miss; with hand-picked times."""
    s = series(
        pod_drill,
        stim(0, LEFT),
        stim(1, RIGHT, "red"),
        stim(2, FRONT_L),
        stim(3, LEFT, "red"),
        stim(4, RIGHT),
    )
    s.onset(0, at(10 * S))
    s.release("home", at(10 * S + 250 * MS))
    s.touch(LEFT, at(10 * S + 600 * MS))  # response 600, reaction 250, movement 350
    s.onset(1, at(12 * S))
    s.touch(RIGHT, at(12 * S + 300 * MS))  # commission, not in the hit means
    s.onset(2, at(14 * S))
    s.release("home", at(14 * S + 201 * MS))
    s.touch(FRONT_L, at(14 * S + 501 * MS))  # response 501, reaction 201, movement 300
    s.onset(3, at(16 * S))
    s.poll(16 * S + WINDOW + 1)
    s.onset(4, at(19 * S))
    s.poll(19 * S + WINDOW + 1)
    return s


def test_summary_numbers(pod_drill: Drill) -> None:
    s = run_five(pod_drill)
    out = s.outcome()
    assert out.state is SeriesState.FINISHED and out.reason is None
    assert [r.outcome for r in out.results] == [
        StimulusOutcome.HIT,
        StimulusOutcome.COMMISSION,
        StimulusOutcome.HIT,
        StimulusOutcome.CORRECT_REJECTION,
        StimulusOutcome.MISS,
    ]
    summary = out.summary
    assert (summary.hits, summary.misses, summary.commissions) == (2, 1, 1)
    assert (summary.correct_rejections, summary.wrong_pods) == (1, 0)
    assert summary.mean_response_us == 550_500  # (600 000 + 501 000) / 2
    assert summary.best_response_us == 501 * MS
    assert summary.mean_reaction_us == 225_500  # (250 000 + 201 000) / 2
    assert summary.best_reaction_us == 201 * MS
    assert summary.mean_movement_us == 325 * MS  # (350 000 + 300 000) / 2
    assert summary.best_movement_us == 300 * MS
    assert summarise(out.results) == summary


def test_summary_rounds_the_mean_half_up_and_is_empty_without_hits() -> None:
    def hit(response: int) -> StimulusResult:
        return StimulusResult(
            0, "a", "green", True, StimulusOutcome.HIT, response, None, None, "a", 0
        )

    assert summarise([hit(1), hit(2)]).mean_response_us == 2  # 1.5 -> 2
    assert summarise([hit(1), hit(1), hit(2)]).mean_response_us == 1  # 1.33 -> 1
    empty = summarise([])
    assert empty.hits == 0 and empty.mean_response_us is None and empty.best_response_us is None


def test_void_keeps_results_and_ignores_what_follows(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT), stim(1, RIGHT))
    s.onset(0, at(S))
    s.touch(LEFT, at(S + 400 * MS))
    s.touch(RIGHT, at(3 * S))  # held, waiting for the next light
    s.void("athlete slipped")
    out = s.outcome()
    assert out.state is SeriesState.VOID and out.reason == "athlete slipped"
    assert len(out.results) == 1 and s.pending == () and s.current is None
    assert s.ignored[-1][1] == "series over (void)"
    assert s.touch(RIGHT, at(4 * S)) is None
    assert s.onset(1, at(4 * S)) is None
    assert s.poll(10 * S) is None
    assert s.ignored[-1][1] == "series over (void)"
    with pytest.raises(EngineError):
        s.void("again")


def test_a_finished_series_can_still_be_voided(pod_drill: Drill) -> None:
    s = run_five(pod_drill)
    s.void("wrong athlete")
    assert s.state is SeriesState.VOID
