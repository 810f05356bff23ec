"""Norm tables: the shipped files load, lookups name the valid choices, JSON round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drills.loader import load_library
from drills.norms import (
    BandKind,
    NormNotFound,
    NormTable,
    TimingMethod,
    Unit,
    find_norm,
    load_norm,
    norms_for,
    rate,
)
from tests.drills.norm_support import SHIPPED, table

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
