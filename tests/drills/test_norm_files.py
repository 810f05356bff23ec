"""Norm files of our own: units and directions rate right, and every bad file or field is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.norms import (
    NormFileError,
    OutOfRange,
    load_norm,
    load_norms,
    rate,
)
from tests.drills.norm_support import HEADER, load_error, write_table

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
