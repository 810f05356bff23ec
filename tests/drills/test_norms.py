"""Norm tables: shipped files load, ratings match hand-worked values, bad files are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.loader import load_library
from drills.norms import (
    NORMS_DIR,
    BandKind,
    Method,
    NormFileError,
    NormNotFound,
    NormTable,
    OutOfRange,
    TimingMethod,
    Unit,
    find_norm,
    load_norm,
    load_norms,
    norms_for,
    rate,
)

SHIPPED = sorted(NORMS_DIR.glob("*.toml"))
SHIPPED_TABLES = load_norms()


@pytest.fixture
def tables() -> list[NormTable]:
    return SHIPPED_TABLES


def table(tables: list[NormTable], drill: str, population: str) -> NormTable:
    return find_norm(drill, population, tables)


HEADER = """\
format = 1
id = "{id}"
protocol = "{protocol}"
population = "Test squad"
sex = "mixed"
level = "club"
timing_method = "electronic"
unit = "{unit}"
lower_is_better = {lower}
citation = "Made up for a test."
"""


def write_table(
    folder: Path,
    body: str,
    *,
    id: str = "squad",
    protocol: str = "sprint-10m",
    unit: str = "s",
    lower: str = "true",
    header: str | None = None,
    name: str | None = None,
) -> Path:
    text = (header if header is not None else HEADER).format(
        id=id, protocol=protocol, unit=unit, lower=lower
    )
    path = folder / (name or f"{protocol}.{id}.toml")
    path.write_text(text + body, encoding="utf-8")
    return path


def load_error(path: Path) -> NormFileError:
    with pytest.raises(NormFileError) as info:
        load_norm(path)
    return info.value


# --- shipped tables --------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_file_loads(path: Path) -> None:
    t = load_norm(path)
    assert t.citation.strip()
    assert t.methods(), "a table must support at least one rating method"


def test_the_folder_loads_with_the_tables_the_issue_asks_for(tables: list[NormTable]) -> None:
    assert len(tables) == len(SHIPPED)
    ids = {(t.protocol, t.id) for t in tables}
    expected = {
        ("pro-agility-5-10-5", "ncaa-d1-women-volleyball"),
        ("pro-agility-5-10-5", "ncaa-d1-women-basketball"),
        ("pro-agility-5-10-5", "ncaa-d1-men-basketball"),
        ("pro-agility-5-10-5", "ncaa-d1-men-baseball"),
        ("t-test", "men"),
        ("t-test", "women"),
        ("t-test", "college-men"),
        ("t-test", "college-women"),
        ("t-test", "recreational-men"),
        ("t-test", "recreational-women"),
        ("illinois-agility", "men-16-19"),
        ("illinois-agility", "women-16-19"),
        ("backward-walk-3m", "fall-risk-cutoff"),
        ("backward-walk-3m", "non-fallers"),
        ("backward-walk-3m", "fallers"),
        ("pod-reaction", "sport-groups"),
    }
    assert expected <= ids


def test_every_table_points_at_real_library_drills(tables: list[NormTable]) -> None:
    library = load_library()
    for t in tables:
        for slug in t.drills:
            assert slug in library, f"{t.source_file}: drills lists unknown '{slug}'"
        assert t.names & library.keys(), f"{t.source_file}: matches no library drill"


def test_pro_agility_table_serves_both_directions_but_no_prefix_match(
    tables: list[NormTable],
) -> None:
    left = {t.id for t in norms_for("pro-agility-5-10-5-left", tables)}
    right = {t.id for t in norms_for("pro-agility-5-10-5-right", tables)}
    protocol = {t.id for t in norms_for("pro-agility-5-10-5", tables)}
    assert left == right == protocol
    assert "ncaa-d1-men-baseball" in left
    assert norms_for("pro-agility", tables) == []
    assert norms_for("pro-agility-5-10-5-up", tables) == []


def test_shipped_facts(tables: list[NormTable]) -> None:
    vb = table(tables, "pro-agility-5-10-5", "ncaa-d1-women-volleyball")
    assert vb.timing_method is TimingMethod.ELECTRONIC
    assert (vb.mean, vb.sd) == (5.03, 0.20)
    assert vb.missing_percentiles == (30.0, 20.0, 10.0)
    mbb = table(tables, "pro-agility-5-10-5", "ncaa-d1-men-basketball")
    assert mbb.mean is None and mbb.sd == 0.18
    assert table(tables, "pod-reaction", "sport-groups").unit is Unit.MILLISECONDS
    assert table(tables, "pod-reaction", "sport-groups").band_kind is BandKind.REFERENCE
    assert table(tables, "backward-walk-3m", "fall-risk-cutoff").band_kind is BandKind.CUT_OFF
    assert "Pauole" in table(tables, "t-test", "college-women").citation


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


# --- JSON ------------------------------------------------------------------------------------


def test_rating_to_json(tables: list[NormTable]) -> None:
    r = rate(table(tables, "t-test", "men"), 10.0)
    data = json.loads(json.dumps(r.to_json()))
    assert data["method"] == "bands"
    assert data["band"] == "good"
    assert data["percentile"] is None
    assert data["population"] == "men"
    assert data["time_s"] == 10.0
    assert data["citation"] == table(tables, "t-test", "men").citation


def test_table_to_json_round_trips_through_json(tables: list[NormTable]) -> None:
    for t in tables:
        data = json.loads(json.dumps(t.to_json()))
        assert data["id"] == t.id
        assert data["methods"] == [m.value for m in t.methods()]
    vb = table(tables, "pro-agility-5-10-5", "ncaa-d1-women-volleyball").to_json()
    assert vb["percentiles"] == {
        "40": 5.08, "50": 5.01, "60": 4.98, "70": 4.91, "80": 4.84, "90": 4.75,
    }  # fmt: skip
    assert vb["missing_percentiles"] == ["30", "20", "10"]


# --- lookup ----------------------------------------------------------------------------------


def test_unknown_population_lists_the_valid_ones(tables: list[NormTable]) -> None:
    with pytest.raises(NormNotFound) as info:
        find_norm("t-test", "martians", tables)
    assert "martians" in str(info.value)
    assert "college-men" in info.value.valid and "women" in info.value.valid
    assert "ncaa-d1-men-baseball" not in info.value.valid


def test_unknown_drill_lists_drills_with_norms(tables: list[NormTable]) -> None:
    with pytest.raises(NormNotFound) as info:
        find_norm("hopscotch", "men", tables)
    assert "hopscotch" in str(info.value)
    assert "t-test" in info.value.valid


def test_rate_refuses_a_non_positive_time(tables: list[NormTable]) -> None:
    with pytest.raises(ValueError, match="positive"):
        rate(table(tables, "t-test", "men"), 0.0)


# --- custom tables and malformed files -------------------------------------------------------


def test_higher_is_better_table(tmp_path: Path) -> None:
    # A made-up "reps in 30 s" table: more is better, so higher values are higher percentiles.
    body = "[percentiles]\n25 = 10\n50 = 14\n75 = 18\n"
    t = load_norm(write_table(tmp_path, body, lower="false"))
    assert rate(t, 16).percentile == pytest.approx(62.5)
    assert rate(t, 20).out_of_range is OutOfRange.ABOVE
    assert rate(t, 8).out_of_range is OutOfRange.BELOW


def test_millisecond_table_with_percentiles(tmp_path: Path) -> None:
    body = "[percentiles]\n90 = 300\n50 = 400\n"
    t = load_norm(write_table(tmp_path, body, unit="ms"))
    # 0.35 s = 350 ms, halfway between 300 (90th) and 400 (50th).
    assert rate(t, 0.35).percentile == pytest.approx(70.0)


def test_summed_times_do_not_fall_off_a_band_edge(tmp_path: Path) -> None:
    # Reaction 0.7 s + movement 0.1 s is 0.7999999999999999 in binary floats; it is 800 ms
    # and must open the "800 ms or slower" band, not stay in "under 800 ms".
    body = '[[bands]]\nlabel = "under"\nbelow = 800\n[[bands]]\nlabel = "at or over"\n'
    t = load_norm(write_table(tmp_path, body, unit="ms"))
    assert 0.7 + 0.1 < 0.8
    assert rate(t, 0.7 + 0.1).band == "at or over"
    seconds = write_table(tmp_path, body.replace("800", "0.8"), id="secs")
    assert rate(load_norm(seconds), 0.7 + 0.1).band == "at or over"


def test_dash_variants_mark_missing_points(tmp_path: Path) -> None:
    body = '[percentiles]\n90 = 4.0\n70 = "–"\n50 = "-"\n30 = 5.0\n'
    t = load_norm(write_table(tmp_path, body))
    assert t.missing_percentiles == (70.0, 50.0)
    assert rate(t, 4.5).percentile == pytest.approx(60.0)


def test_malformed_percentile_names_file_and_field(tmp_path: Path) -> None:
    path = write_table(tmp_path, '[percentiles]\n90 = 4.0\n50 = "fast"\n10 = 5.0\n')
    err = load_error(path)
    assert [(e.file, e.field) for e in err.errors] == [(str(path), "percentiles.50")]
    assert path.name in str(err) and "percentiles.50" in str(err)
    assert err.errors[0].line == 13  # 10 header lines, [percentiles], 90, then 50


def test_percentiles_must_get_faster_as_the_rank_rises(tmp_path: Path) -> None:
    err = load_error(write_table(tmp_path, "[percentiles]\n90 = 4.5\n50 = 4.2\n"))
    assert err.errors[0].field == "percentiles.90"
    assert "strictly better" in err.errors[0].message


@pytest.mark.parametrize(
    ("drop", "field"),
    [("citation", "citation"), ("timing_method", "timing_method"), ("unit", "unit")],
)
def test_missing_required_field_is_named(tmp_path: Path, drop: str, field: str) -> None:
    header = "".join(line + "\n" for line in HEADER.splitlines() if not line.startswith(drop))
    err = load_error(write_table(tmp_path, "mean = 5.0\nsd = 0.2\n", header=header))
    assert [e.field for e in err.errors] == [field]
    assert "missing required field" in err.errors[0].message


def test_bad_choice_and_unknown_key_are_named(tmp_path: Path) -> None:
    header = HEADER.replace('"electronic"', '"stopwatch"') + 'populaton = "typo"\n'
    err = load_error(write_table(tmp_path, "mean = 5.0\nsd = 0.2\n", header=header))
    fields = {e.field: e.message for e in err.errors}
    assert "hand" in fields["timing_method"] and "stopwatch" in fields["timing_method"]
    assert "did you mean 'population'" in fields["populaton"]


def test_a_table_needs_something_to_rate_with(tmp_path: Path) -> None:
    err = load_error(write_table(tmp_path, "mean = 5.0\n"))
    assert "at least one of" in str(err)


def test_bands_need_exactly_one_bound_except_the_last(tmp_path: Path) -> None:
    body = (
        '[[bands]]\nlabel = "fast"\nbelow = 4.0\n'
        '[[bands]]\nlabel = "middling"\n'
        '[[bands]]\nlabel = "slow"\nup_to = 6.0\n'
    )
    err = load_error(write_table(tmp_path, body))
    fields = [e.field for e in err.errors]
    assert fields == ["bands[1]", "bands[2]"]


def test_band_bounds_must_rise(tmp_path: Path) -> None:
    body = (
        '[[bands]]\nlabel = "fast"\nbelow = 4.0\n'
        '[[bands]]\nlabel = "mid"\nup_to = 3.5\n'
        '[[bands]]\nlabel = "slow"\n'
    )
    err = load_error(write_table(tmp_path, body))
    assert [e.field for e in err.errors] == ["bands[1].up_to"]


def test_file_name_must_be_protocol_dot_id(tmp_path: Path) -> None:
    path = write_table(tmp_path, "mean = 5.0\nsd = 0.2\n", name="whatever.toml")
    err = load_error(path)
    assert err.errors[0].field == "id"
    assert "sprint-10m.squad.toml" in err.errors[0].message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sprint-10m.squad.toml"
    path.write_text("id = \n", encoding="utf-8")
    err = load_error(path)
    assert err.errors[0].file == str(path)
    assert "not valid TOML" in err.errors[0].message


def test_folder_load_reports_every_broken_file(tmp_path: Path) -> None:
    write_table(tmp_path, "mean = 5.0\nsd = 0.2\n", id="good")
    bad_a = write_table(tmp_path, "mean = -5.0\nsd = 0.2\n", id="bad-a")
    bad_b = write_table(tmp_path, "sd = 0.2\nmean = 5.0\nn = 0\n", id="bad-b")
    with pytest.raises(NormFileError) as info:
        load_norms(tmp_path)
    got = {(Path(e.file).name, e.field) for e in info.value.errors}
    assert got == {(bad_a.name, "mean"), (bad_b.name, "n")}


def test_same_id_for_the_same_drill_is_refused(tmp_path: Path) -> None:
    first = write_table(tmp_path, "mean = 5.0\nsd = 0.2\n", protocol="sprint-10m")
    other = write_table(
        tmp_path,
        'drills = ["sprint-10m"]\nmean = 5.0\nsd = 0.2\n',
        protocol="sprint-10m-flying",
    )
    with pytest.raises(NormFileError) as info:
        load_norms(tmp_path)
    [error] = info.value.errors
    assert error.field == "id"
    # Whichever file loads second is blamed, and the message names the first.
    names = {Path(error.file).name, Path(error.message.rsplit(" ", 1)[-1]).name}
    assert names == {first.name, other.name}
    assert "'squad' for 'sprint-10m'" in error.message


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NormFileError, match="not a directory"):
        load_norms(tmp_path / "nope")
