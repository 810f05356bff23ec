"""Rating a time against a norm table: percentiles, the normal approximation and bands, against
hand-worked values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.norms import (
    Method,
    NormTable,
    OutOfRange,
    find_norm,
    load_norm,
    rate,
)
from tests.drills.norm_support import SHIPPED_TABLES, table, write_table

# --- percentile table ------------------------------------------------------------------------


def test_interpolation_women_volleyball(tables: list[NormTable]) -> None:
    vb = table(tables, "pro-agility-5-10-5-left", "ncaa-d1-women-volleyball")
    # 4.795 is halfway between 4.75 (90th) and 4.84 (80th).
    r = rate(vb, 4.795)
    assert r.method is Method.PERCENTILE_TABLE
    assert r.percentile == pytest.approx(85.0)
    assert r.out_of_range is None
    # 4.87 lies 0.03 s past 4.84 (80th) of the 0.07 s to 4.91 (70th): 80 - 10 x 3/7.
    assert rate(vb, 4.87).percentile == pytest.approx(80 - 30 / 7)
    assert rate(vb, 5.01).percentile == pytest.approx(50.0)


def test_interpolation_skips_a_missing_point(tables: list[NormTable]) -> None:
    mbb = table(tables, "pro-agility-5-10-5", "ncaa-d1-men-basketball")
    # The 50th is missing: 60th 4.39, 40th 4.44, so 4.415 is the 50th and 4.40 the 56th.
    r = rate(mbb, 4.415)
    assert r.percentile == pytest.approx(50.0)
    assert "missing 50th" in r.message
    assert rate(mbb, 4.40).percentile == pytest.approx(56.0)
    baseball = table(tables, "pro-agility-5-10-5", "ncaa-d1-men-baseball")
    # 70th missing: 80th 4.36, 60th 4.46.
    assert rate(baseball, 4.41).percentile == pytest.approx(70.0)


def test_lower_time_is_higher_percentile(tables: list[NormTable]) -> None:
    wbb = table(tables, "pro-agility-5-10-5", "ncaa-d1-women-basketball")
    p_fast, p_slow = rate(wbb, 4.70).percentile, rate(wbb, 5.20).percentile
    assert p_fast is not None and p_slow is not None
    assert p_fast > p_slow


def test_faster_than_the_top_point_is_out_of_range_above(tables: list[NormTable]) -> None:
    mbb = table(tables, "pro-agility-5-10-5", "ncaa-d1-men-basketball")
    r = rate(mbb, 4.20)
    assert r.percentile is None
    assert r.out_of_range is OutOfRange.ABOVE
    assert "faster than the 90th percentile point (4.22 s)" in r.message
    assert "does not go further" in r.message
    assert rate(mbb, 4.22).percentile == pytest.approx(90.0)


def test_slower_than_the_last_point_is_out_of_range_below(tables: list[NormTable]) -> None:
    mbb = table(tables, "pro-agility-5-10-5", "ncaa-d1-men-basketball")
    r = rate(mbb, 4.70)
    assert (r.percentile, r.out_of_range) == (None, OutOfRange.BELOW)
    assert "slower than the 10th percentile point (4.61 s)" in r.message
    # Volleyball has no 30th-10th points: the table ends at the 40th (5.08 s).
    vb = table(tables, "pro-agility-5-10-5", "ncaa-d1-women-volleyball")
    r = rate(vb, 5.20)
    assert (r.percentile, r.out_of_range) == (None, OutOfRange.BELOW)
    assert "40th" in r.message


def test_z_and_t_accompany_a_percentile_table_with_mean_and_sd(tables: list[NormTable]) -> None:
    vb = table(tables, "pro-agility-5-10-5", "ncaa-d1-women-volleyball")
    r = rate(vb, 4.83)
    # (5.03 - 4.83) / 0.20 = +1.0; T = 60.
    assert r.z == pytest.approx(1.0)
    assert r.t_score == pytest.approx(60.0)
    assert rate(table(tables, "pro-agility-5-10-5", "ncaa-d1-men-basketball"), 4.3).z is None


@given(st.integers(min_value=4220, max_value=4610), st.integers(min_value=4220, max_value=4610))
def test_percentile_never_rises_as_the_time_gets_slower(a_ms: int, b_ms: int) -> None:
    mbb = find_norm("pro-agility-5-10-5", "ncaa-d1-men-basketball", SHIPPED_TABLES)
    fast, slow = sorted((a_ms / 1000, b_ms / 1000))
    p_fast, p_slow = rate(mbb, fast).percentile, rate(mbb, slow).percentile
    assert p_fast is not None and p_slow is not None
    assert 10.0 <= p_slow <= p_fast <= 90.0


# --- normal approximation --------------------------------------------------------------------


def test_normal_fallback_for_a_mean_and_sd_only_table(tmp_path: Path) -> None:
    path = write_table(tmp_path, "mean = 5.03\nsd = 0.20\n")
    t = load_norm(path)
    r = rate(t, 4.75)
    # z = (5.03 - 4.75) / 0.20 = +1.40; 100 x Phi(1.40) = 91.92.
    assert r.method is Method.NORMAL
    assert r.z == pytest.approx(1.40)
    assert r.percentile == pytest.approx(91.92, abs=0.01)
    assert r.band is None and r.out_of_range is None
    assert "normal approximation" in r.message


def test_normal_fallback_for_t_test_college_men(tables: list[NormTable]) -> None:
    r = rate(table(tables, "t-test", "college-men"), 9.44)
    # (9.94 - 9.44) / 0.50 = +1; Phi(1) = 0.8413.
    assert r.method is Method.NORMAL
    assert r.percentile == pytest.approx(84.13, abs=0.01)
    assert r.t_score == pytest.approx(60.0)


# --- bands -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_s", "band"),
    [
        (9.49, "excellent"),
        (9.50, "good"),  # in the printed gap (< 9.50 vs 9.51-): the slower band
        (9.505, "good"),
        (10.0, "good"),
        (10.50, "good"),
        (10.505, "average"),
        (11.50, "average"),
        (11.51, "poor"),
    ],
)
def test_t_test_men_bands(tables: list[NormTable], time_s: float, band: str) -> None:
    r = rate(table(tables, "t-test", "men"), time_s)
    assert r.method is Method.BANDS
    assert r.band == band
    assert r.percentile is None


@pytest.mark.parametrize(
    ("time_s", "band"),
    [(10.49, "excellent"), (11.0, "good"), (12.5, "average"), (12.51, "poor")],
)
def test_t_test_women_bands(tables: list[NormTable], time_s: float, band: str) -> None:
    assert rate(table(tables, "t-test", "women"), time_s).band == band


@pytest.mark.parametrize(
    ("population", "time_s", "band"),
    [
        ("men-16-19", 15.19, "excellent"),
        ("men-16-19", 15.2, "above average"),
        ("men-16-19", 16.15, "average"),  # gap between 16.1 and 16.2: the slower band
        ("men-16-19", 19.3, "below average"),
        ("men-16-19", 19.31, "poor"),
        ("women-16-19", 16.99, "excellent"),
        ("women-16-19", 17.9, "above average"),
        ("women-16-19", 21.75, "below average"),
        ("women-16-19", 23.01, "poor"),
    ],
)
def test_illinois_bands(tables: list[NormTable], population: str, time_s: float, band: str) -> None:
    assert rate(table(tables, "illinois-agility", population), time_s).band == band


def test_backward_walk_cut_off(tables: list[NormTable]) -> None:
    t = table(tables, "backward-walk-3m", "fall-risk-cutoff")
    assert rate(t, 5.49).band == "lower fall risk"
    at_cut = rate(t, 5.5)
    assert at_cut.band == "higher fall risk"
    assert "not a diagnosis" in at_cut.message
    fallers = rate(table(tables, "backward-walk-3m", "fallers"), 6.8)
    assert fallers.method is Method.NORMAL
    assert fallers.percentile == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("time_s", "group"),
    [
        (0.349, "table tennis"),
        (0.35, "ice hockey"),  # 350 ms opens the 350-400 ms range
        (0.40, "ice hockey"),
        (0.42, "aikido"),
        (0.50, "judo"),
        (0.51, "none"),
    ],
)
def test_reaction_reference_ranges_in_milliseconds(
    tables: list[NormTable], time_s: float, group: str
) -> None:
    r = rate(table(tables, "pod-reaction", "sport-groups"), time_s)
    assert r.band is not None and r.band.startswith(group)
    assert r.percentile is None
    assert f"{round(time_s * 1000)} ms" in r.message
    assert "reference range" in r.message
