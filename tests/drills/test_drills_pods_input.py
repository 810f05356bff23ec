"""Pod series fed odd input: early, repeated, late and out-of-order events."""

from __future__ import annotations

from itertools import permutations

import pytest

from drills.errors import EngineError
from drills.model import Drill
from drills.pods import PodEventKind, PodSeries, SeriesState, Stimulus, StimulusOutcome
from tests.drills.pods_support import LEFT, MS, RIGHT, WINDOW, S, at, series, small_drill, stim

# --- odd input --------------------------------------------------------------------------


def test_touch_stamped_before_the_onset_is_ignored(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    s.onset(0, at(2 * S))
    assert s.touch(LEFT, at(2 * S - 40 * MS)) is None
    event, reason = s.ignored[0]
    assert event.kind is PodEventKind.TOUCH and event.role == LEFT
    assert reason == "before the light of stimulus 0 (40 ms)"
    assert s.touch(LEFT, at(2 * S + 300 * MS)) is not None


def test_touch_heard_before_the_onset_event_is_judged_by_stamp(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    assert s.touch(LEFT, at(2 * S - 100 * MS)) is None  # anticipation, before the light
    assert s.release("home", at(2 * S + 200 * MS)) is None
    assert s.touch(LEFT, at(2 * S + 450 * MS)) is None  # the light's event is late
    assert len(s.pending) == 3 and s.state is SeriesState.RUNNING
    result = s.onset(0, at(2 * S))
    assert result is not None
    assert result.outcome is StimulusOutcome.HIT
    assert (result.reaction_us, result.movement_us) == (200 * MS, 250 * MS)
    assert [r for _, r in s.ignored] == ["before the light of stimulus 0 (100 ms)"]


def test_repeated_and_out_of_order_onsets(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT), stim(1, RIGHT))
    with pytest.raises(EngineError):
        s.onset(2, at(S))  # not in the plan
    with pytest.raises(EngineError):
        s.onset(1, at(S))  # stimulus 0 is still open
    s.onset(0, at(S))
    s.onset(0, at(S + 5 * MS))
    assert s.lit_at == at(S)
    s.touch(LEFT, at(S + 400 * MS))
    s.onset(0, at(S))  # re-sent after it was settled
    assert [r for _, r in s.ignored] == ["repeated onset: the first one counts"] * 2


def test_home_touches_and_unknown_roles_are_ignored(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    s.onset(0, at(S))
    assert s.touch("home", at(S + 100 * MS)) is None
    assert s.touch("nowhere", at(S + 100 * MS)) is None
    assert s.release(LEFT, at(S + 100 * MS)) is None
    assert [r for _, r in s.ignored] == [
        "home pod touched: not a response",
        "unknown role 'nowhere'",
        "release not timed: not the home pod 'home'",
    ]
    assert s.state is SeriesState.RUNNING


def test_release_needs_a_home_pod() -> None:
    s = PodSeries(small_drill(1), (Stimulus(0, S, "a", "green", True),))
    s.onset(0, at(S))
    s.release("a", at(S + 100 * MS))
    assert s.ignored[-1][1] == "release not timed: the drill has no home pod"


def test_release_before_the_light_and_second_release(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT))
    s.onset(0, at(S))
    s.release("home", at(S - 10 * MS))  # anticipation: no reaction point
    s.release("home", at(S + 200 * MS))
    s.release("home", at(S + 260 * MS))
    result = s.touch(LEFT, at(S + 500 * MS))
    assert result is not None and result.reaction_us == 200 * MS
    assert [r for _, r in s.ignored] == [
        "before the light of stimulus 0 (10 ms)",
        "already left home for stimulus 0",
    ]


def test_release_arriving_after_the_touch_still_gives_the_reaction(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT), stim(1, RIGHT))
    s.onset(0, at(S))
    first = s.touch(LEFT, at(S + 500 * MS))
    assert first is not None and first.reaction_us is None
    s.release("home", at(S + 210 * MS))  # the home pod's event came late
    result = s.outcome().results[0]
    assert (result.reaction_us, result.movement_us, result.response_us) == (
        210 * MS,
        290 * MS,
        500 * MS,
    )
    assert s.ignored == []


def test_touch_arriving_after_poll_is_recorded_not_counted(pod_drill: Drill) -> None:
    s = series(pod_drill, stim(0, LEFT), stim(1, RIGHT))
    s.onset(0, at(S))
    missed = s.poll(S + WINDOW + 1)
    assert missed is not None and missed.outcome is StimulusOutcome.MISS
    assert s.touch(LEFT, at(S + WINDOW - 20 * MS)) is None
    assert s.ignored[-1][1] == "arrived after stimulus 0 was settled (miss)"
    assert s.pending == ()


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_arrival_order_does_not_change_the_result(pod_drill: Drill, order: tuple[int, ...]) -> None:
    s = series(pod_drill, stim(0, LEFT))
    feeds = [
        lambda: s.onset(0, at(S)),
        lambda: s.release("home", at(S + 200 * MS)),
        lambda: s.touch(LEFT, at(S + 500 * MS)),
    ]
    for i in order:
        feeds[i]()
    (result,) = s.outcome().results
    assert result.outcome is StimulusOutcome.HIT
    assert (result.response_us, result.reaction_us, result.movement_us) == (
        500 * MS,
        200 * MS,
        300 * MS,
    )
    assert s.ignored == [] and s.state is SeriesState.FINISHED
