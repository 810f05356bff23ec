"""hardware/sim/athlete.py: believable forward and backward sprint times, with ground truth."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.sim.athlete import VirtualAthlete, make_team

seeds = st.integers(0, 2**32 - 1)


def one_athlete(seed: int) -> VirtualAthlete:
    return make_team(1, random.Random(seed))[0]


@given(
    seeds,
    st.booleans(),
    st.floats(0.0, 5.0),
    st.lists(st.floats(0.01, 10.0), min_size=1, max_size=8),
)
def test_crossing_times_increase_with_distance(
    seed: int, backward: bool, first_m: float, gaps_m: list[float]
) -> None:
    distances = list(itertools.accumulate(gaps_m, initial=first_m))
    times = one_athlete(seed).crossing_times_s(distances, backward, random.Random(seed))
    assert len(times) == len(distances)
    assert times[0] > 0
    assert all(a < b for a, b in itertools.pairwise(times))


@given(seeds, st.floats(1.0, 40.0))
def test_backward_is_slower_than_forward(seed: int, distance_m: float) -> None:
    athlete = one_athlete(seed)
    # The same rep-to-rep draw for both directions, so only the direction differs.
    (forward,) = athlete.crossing_times_s([distance_m], False, random.Random(seed))
    (backward,) = athlete.crossing_times_s([distance_m], True, random.Random(seed))
    assert backward > forward
    assert athlete.backward_top_mps < athlete.forward_top_mps


@pytest.mark.parametrize("seed", range(5))
def test_team_10_m_times_are_realistic(seed: int) -> None:
    rng = random.Random(seed)
    team = make_team(30, rng)
    assert len(team) == 30
    for athlete in team:
        for _ in range(5):
            (forward,) = athlete.crossing_times_s([10.0], False, rng)
            (backward,) = athlete.crossing_times_s([10.0], True, rng)
            assert 1.6 <= forward <= 2.6, (athlete, forward)
            assert 2.0 <= backward <= 3.4, (athlete, backward)


def test_splits_at_5_and_10_m_are_consistent() -> None:
    athlete = one_athlete(3)
    t0, t5, t10 = athlete.crossing_times_s([0.0, 5.0, 10.0], False, random.Random(1))
    # Accelerating: the second 5 m are faster than the first 5 m.
    assert t10 - t5 < t5 - t0


def test_beam_clear_time_and_speed() -> None:
    athlete = one_athlete(4)
    assert athlete.speed_at(0.0, backward=False) == 0.0
    assert athlete.speed_at(5.0, backward=True) < athlete.speed_at(5.0, backward=False)
    assert athlete.beam_clear_s(7.0) < athlete.beam_clear_s(3.0)
    assert athlete.beam_clear_s(0.0) == athlete.beam_clear_s(0.5)  # floor at 0.5 m/s
