"""Report metrics against values worked out by hand (the working is in each test)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.metrics import (
    ASYMMETRY_FLAG_PCT,
    ChangeDirection,
    DirectionalRep,
    RepTime,
    Side,
    asymmetry,
    baseline_change,
    best,
    cod_deficit,
    cv_pct,
    fatigue_index_pct,
    forward_backward_ratio,
    mean,
    pair_forward_backward,
    rsa_summary,
    smallest_worthwhile_change,
    sprint_decrement_pct,
    summarise_reps,
    t_score,
    typical_error,
    valid_reps,
    valid_times,
    z_score,
)
from drills.model import Direction

# Realistic drill times: 1 to 30 s at millisecond resolution.
times = st.integers(min_value=1_000, max_value=30_000).map(lambda ms: ms / 1000)
rep_sets = st.lists(times, min_size=2, max_size=12)


# --- reps, best, mean, CV --------------------------------------------------------------------

MIXED_REPS = [
    RepTime(3.90, void=True),
    RepTime(4.00, familiarisation=True),
    RepTime(3.80, false_start=True),
    RepTime(4.20),
    RepTime(4.40),
]


def test_only_valid_reps_count() -> None:
    assert valid_times(MIXED_REPS) == [4.20, 4.40]
    assert [r.valid for r in MIXED_REPS] == [False, False, False, True, True]
    assert len(valid_reps(MIXED_REPS)) == 2


def test_summary_ignores_voided_practice_and_false_start_reps() -> None:
    summary = summarise_reps(MIXED_REPS)
    assert summary is not None
    # The invalid reps are all faster than 4.20: any leak would lower the best.
    assert summary.n == 2
    assert summary.best_s == pytest.approx(4.20)
    assert summary.mean_s == pytest.approx(4.30)


def test_cv_hand_worked() -> None:
    # 4.0, 4.2, 4.4: mean 4.2, sample SD sqrt((0.04 + 0 + 0.04) / 2) = 0.2, CV = 20/4.2 %.
    assert cv_pct([4.0, 4.2, 4.4]) == pytest.approx(100 * 0.2 / 4.2)
    assert cv_pct([4.0, 4.2, 4.4]) == pytest.approx(4.7619, abs=1e-4)


def test_cv_of_one_rep_is_none_not_an_error() -> None:
    assert cv_pct([4.0]) is None
    summary = summarise_reps([RepTime(4.0), RepTime(3.0, void=True)])
    assert summary is not None and summary.cv_pct is None and summary.n == 1


def test_all_reps_voided_gives_no_summary() -> None:
    assert summarise_reps([RepTime(4.0, void=True)]) is None
    assert summarise_reps([]) is None


def test_best_and_mean() -> None:
    assert best([4.3, 4.1, 4.2]) == 4.1
    assert mean([4.3, 4.1, 4.2]) == pytest.approx(4.2)


@pytest.mark.parametrize("func", [best, mean, cv_pct])
def test_empty_or_bad_times_raise(func: Callable[[list[float]], object]) -> None:
    with pytest.raises(ValueError, match="no times"):
        func([])
    with pytest.raises(ValueError, match="positive"):
        func([4.0, 0.0])
    with pytest.raises(ValueError, match="positive"):
        func([4.0, -1.0])


# --- COD deficit -----------------------------------------------------------------------------


def test_cod_deficit_from_the_issue() -> None:
    assert cod_deficit(2.40, 1.80) == pytest.approx(0.60)


def test_cod_deficit_refuses_a_zero_time() -> None:
    with pytest.raises(ValueError, match="10 m sprint"):
        cod_deficit(2.40, 0.0)


# --- asymmetry -------------------------------------------------------------------------------


def test_asymmetry_at_exactly_ten_percent_is_flagged() -> None:
    # 100 x (2.20 - 2.00) / 2.00 = 10 %: the threshold itself flags.
    a = asymmetry(2.00, 2.20)
    assert a.pct == pytest.approx(10.0)
    assert a.flagged
    assert a.worse is Side.RIGHT


def test_asymmetry_at_ten_percent_survives_float_noise() -> None:
    # 100 x (1.98 - 1.80) / 1.80 is 10 % on paper but 9.999999999999996 in binary floats.
    raw_pct = 100 * (1.98 - 1.80) / 1.80
    assert raw_pct < ASYMMETRY_FLAG_PCT
    assert asymmetry(1.98, 1.80).flagged


def test_asymmetry_just_under_ten_percent_is_not_flagged() -> None:
    # 100 x (2.19 - 2.00) / 2.00 = 9.5 %, left slower.
    a = asymmetry(2.19, 2.00)
    assert a.pct == pytest.approx(9.5)
    assert not a.flagged
    assert a.worse is Side.LEFT


def test_asymmetry_denominator_is_the_better_side() -> None:
    # (2.5 - 2.0) / 2.0 = 25 %, not (2.5 - 2.0) / 2.5 = 20 %.
    assert asymmetry(2.0, 2.5).pct == pytest.approx(25.0)


def test_asymmetry_when_higher_is_better() -> None:
    # Jump distances: the smaller is worse; 100 x (50 - 45) / 50 = 10 %.
    a = asymmetry(50.0, 45.0, lower_is_better=False)
    assert a.worse is Side.RIGHT
    assert a.pct == pytest.approx(10.0)
    assert a.flagged


def test_equal_sides_have_no_worse_side() -> None:
    a = asymmetry(2.3, 2.3)
    assert (a.pct, a.flagged, a.worse) == (0.0, False, None)


# --- forward:backward ------------------------------------------------------------------------


def test_forward_backward_ratio_hand_worked() -> None:
    # 2.34 / 1.80 = 1.30: backward 30 % slower.
    assert forward_backward_ratio(forward_s=1.80, backward_s=2.34) == pytest.approx(1.30)


def _rep(
    athlete: str, day: date, distance: float, direction: Direction, t: float, **tags: bool
) -> DirectionalRep:
    return DirectionalRep(athlete, day, distance, direction, RepTime(t, **tags))


def test_pairing_uses_valid_bests_per_athlete_day_and_distance() -> None:
    d1, d2 = date(2026, 3, 2), date(2026, 3, 9)
    f, b = Direction.FORWARD, Direction.BACKWARD
    reps = [
        _rep("ana", d1, 10.0, f, 1.90),
        _rep("ana", d1, 10.0, f, 1.80),
        _rep("ana", d1, 10.0, f, 1.70, void=True),  # faster but voided
        _rep("ana", d1, 10.0004, b, 2.40),  # same distance to the millimetre
        _rep("ana", d1, 10.0, b, 2.34),
        _rep("ana", d1, 10.0, b, 2.00, familiarisation=True),
        _rep("ana", d2, 10.0, b, 2.30),  # no forward run that day: skipped
        _rep("ben", d1, 20.0, f, 3.00),
        _rep("ben", d1, 20.0, b, 3.90),
    ]
    got = pair_forward_backward(reps)
    assert [(p.athlete, p.day, p.distance_m) for p in got] == [
        ("ana", d1, 10.0),
        ("ben", d1, 20.0),
    ]
    assert got[0].forward_best_s == pytest.approx(1.80)
    assert got[0].backward_best_s == pytest.approx(2.34)
    assert got[0].ratio == pytest.approx(1.30)
    assert got[1].ratio == pytest.approx(1.30)


def test_pairing_refuses_mixed_direction_drills() -> None:
    with pytest.raises(ValueError, match="mixed"):
        pair_forward_backward([_rep("ana", date(2026, 1, 1), 10.0, Direction.MIXED, 2.0)])


# --- repeated sprints ------------------------------------------------------------------------


def test_sdec_and_fi_from_the_issue() -> None:
    # Sdec = 100 x (12.30 / (4.00 x 3) - 1) = 2.5 %; FI = 100 x (4.20 - 4.00) / 4.00 = 5 %.
    assert sprint_decrement_pct([4.00, 4.10, 4.20]) == pytest.approx(2.5)
    assert fatigue_index_pct([4.00, 4.10, 4.20]) == pytest.approx(5.0)
    # Order does not matter to either score.
    assert sprint_decrement_pct([4.20, 4.00, 4.10]) == pytest.approx(2.5)


def test_rsa_summary_puts_totals_first_and_carries_the_caveat() -> None:
    s = rsa_summary([4.00, 4.10, 4.20])
    assert s.n == 3
    assert s.total_s == pytest.approx(12.30)
    assert s.mean_s == pytest.approx(4.10)
    assert s.best_s == pytest.approx(4.00)
    assert s.sprint_decrement_pct == pytest.approx(2.5)
    assert s.fatigue_index_pct == pytest.approx(5.0)
    caveat = s.caveat.lower()
    assert "unreliable" in caveat
    assert "sprint decrement" in caveat and "fatigue index" in caveat
    assert "two reps" in caveat


@pytest.mark.parametrize("func", [sprint_decrement_pct, fatigue_index_pct, rsa_summary])
def test_fatigue_scores_need_two_reps(func: Callable[[list[float]], object]) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        func([4.0])


@given(rep_sets)
def test_fatigue_scores_are_never_negative_and_fi_bounds_sdec(reps: list[float]) -> None:
    sdec = sprint_decrement_pct(reps)
    fi = fatigue_index_pct(reps)
    assert sdec >= 0
    assert fi >= 0
    # The mean never exceeds the slowest rep, so Sdec can never exceed FI.
    assert sdec <= fi + 1e-9


@given(times, st.integers(min_value=2, max_value=10))
def test_identical_reps_show_no_fatigue(t: float, n: int) -> None:
    assert sprint_decrement_pct([t] * n) == pytest.approx(0.0, abs=1e-9)
    assert fatigue_index_pct([t] * n) == 0.0


# --- reliability, SWC, z ---------------------------------------------------------------------


def test_typical_error_hand_worked() -> None:
    # Differences 0.10, 0.00, 0.20: mean 0.10, deviations 0, -0.10, +0.10, so the sample
    # SD is sqrt(0.02 / 2) = 0.10 and TE = 0.10 / sqrt(2) = 0.0707 s.
    te = typical_error([4.00, 4.20, 4.40], [4.10, 4.20, 4.60])
    assert te == pytest.approx(0.10 / math.sqrt(2))
    assert te == pytest.approx(0.0707, abs=1e-4)


def test_typical_error_ignores_a_uniform_learning_effect() -> None:
    first = [4.00, 4.20, 4.40]
    second = [4.10, 4.20, 4.60]
    shifted = [t - 0.15 for t in second]
    assert typical_error(first, shifted) == pytest.approx(typical_error(first, second))


def test_typical_error_needs_two_pairs_of_equal_length() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        typical_error([4.0], [4.1])
    with pytest.raises(ValueError, match="second trial"):
        typical_error([4.0, 4.1], [4.1])


def test_swc_hand_worked() -> None:
    # Team 4.9, 5.0, 5.1: sample SD 0.10, SWC = 0.2 x 0.10 = 0.02 s.
    assert smallest_worthwhile_change([4.9, 5.0, 5.1]) == pytest.approx(0.02)
    # 4.0, 4.2, 4.4: SD 0.2, moderate change 0.5 x 0.2 = 0.1 s.
    assert smallest_worthwhile_change([4.0, 4.2, 4.4], effect=0.5) == pytest.approx(0.10)
    with pytest.raises(ValueError, match="at least 2"):
        smallest_worthwhile_change([5.0])


def test_z_is_positive_for_a_faster_time() -> None:
    # (5.0 - 4.8) / 0.2 = +1; T = 50 + 10 = 60.
    z = z_score(4.8, 5.0, 0.2)
    assert z == pytest.approx(1.0)
    assert t_score(z) == pytest.approx(60.0)
    assert z_score(4.8, 5.0, 0.2, lower_is_better=False) == pytest.approx(-1.0)
    assert t_score(-1.5) == pytest.approx(35.0)


def test_z_needs_a_positive_sd() -> None:
    with pytest.raises(ValueError, match="SD"):
        z_score(4.8, 5.0, 0.0)


# --- change against baseline -----------------------------------------------------------------


def test_change_past_both_swc_and_te_is_flagged() -> None:
    # 4.40 - 4.50 = -0.10 s: beyond SWC 0.05 and TE 0.08, faster, so improved.
    c = baseline_change(4.50, 4.40, swc=0.05, typical_error=0.08)
    assert c.change == pytest.approx(-0.10)
    assert c.change_pct == pytest.approx(-100 * 0.10 / 4.50)
    assert c.direction is ChangeDirection.IMPROVED
    assert c.flagged
    assert c.threshold == pytest.approx(0.08)


def test_change_past_swc_but_within_te_is_not_flagged() -> None:
    # -0.06 s beats SWC 0.05 but not TE 0.08: could be noise.
    c = baseline_change(4.50, 4.44, swc=0.05, typical_error=0.08)
    assert c.direction is ChangeDirection.IMPROVED
    assert not c.flagged


def test_change_past_te_but_within_swc_is_not_flagged() -> None:
    # -0.06 s beats TE 0.03 but not SWC 0.09: real, perhaps, but trivial.
    assert not baseline_change(4.50, 4.44, swc=0.09, typical_error=0.03).flagged


def test_slower_time_is_worse_and_change_equal_to_threshold_is_not_flagged() -> None:
    c = baseline_change(4.50, 4.62, swc=0.05, typical_error=0.08)
    assert c.direction is ChangeDirection.WORSE and c.flagged
    # 4.10 -> 4.05 is exactly the 0.05 threshold on paper; "exceeds" is strict.
    assert not baseline_change(4.10, 4.05, swc=0.05, typical_error=0.02).flagged


def test_change_direction_when_higher_is_better() -> None:
    c = baseline_change(50.0, 55.0, swc=1.0, typical_error=2.0, lower_is_better=False)
    assert c.direction is ChangeDirection.IMPROVED
    assert c.flagged
    assert baseline_change(50.0, 50.0, swc=1.0, typical_error=2.0).direction is (
        ChangeDirection.UNCHANGED
    )
