"""`agility norms list` and `agility norms rate`, parsed as the command parses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drills.norms import NORMS_DIR
from server.cli import build_parser

SHIPPED = sorted(NORMS_DIR.glob("*.toml"))


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    assert run([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_json_has_every_shipped_table(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["norms", "list"], capsys)
    assert isinstance(data, list)
    assert len(data) == len(SHIPPED)
    ids = {(row["protocol"], row["id"]) for row in data}
    assert ("t-test", "college-women") in ids
    assert ("pro-agility-5-10-5", "ncaa-d1-men-basketball") in ids
    pro = next(row for row in data if row["id"] == "ncaa-d1-women-volleyball")
    assert pro["drills"] == ["pro-agility-5-10-5-left", "pro-agility-5-10-5-right"]
    assert pro["methods"] == ["percentile_table", "normal"]


def test_list_human(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["norms", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["drill", "population"]
    for path in SHIPPED:
        protocol, table_id = path.stem.split(".")
        assert any(line.split()[:2] == [protocol, table_id] for line in lines), path.stem
    assert "drill pro-agility-5-10-5-left uses the pro-agility-5-10-5 tables" in out


def test_rate_json_percentile_table(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        [
            "norms", "rate", "pro-agility-5-10-5-left",
            "--population", "ncaa-d1-women-volleyball", "--time-s", "4.795",
        ],
        capsys,
    )  # fmt: skip
    assert isinstance(data, dict)
    # Halfway between 4.75 (90th) and 4.84 (80th).
    assert data["percentile"] == pytest.approx(85.0)
    assert data["method"] == "percentile_table"
    assert data["band"] is None
    assert data["drill"] == "pro-agility-5-10-5-left"
    assert data["population"] == "ncaa-d1-women-volleyball"
    assert data["time_s"] == 4.795
    assert "85th percentile" in data["message"]
    assert "Hoffman" in data["citation"]


def test_rate_json_bands(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(["norms", "rate", "t-test", "--population", "men", "--time-s", "10"], capsys)
    assert isinstance(data, dict)
    assert (data["method"], data["band"], data["percentile"]) == ("bands", "good", None)


def test_rate_json_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["norms", "rate", "pro-agility-5-10-5", "--population", "ncaa-d1-men-basketball"]
    data = run_json([*argv, "--time-s", "4.10"], capsys)
    assert isinstance(data, dict)
    assert data["percentile"] is None
    assert data["out_of_range"] == "above"
    assert "4.22 s" in data["message"]


def test_rate_human(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["norms", "rate", "t-test", "--population", "college-men", "--time-s", "9.44"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    fields = {line[:11].strip(): line[12:] for line in out.splitlines()}
    # (9.94 - 9.44) / 0.50 = +1 SD: the 84.1th percentile of a normal distribution.
    assert fields["percentile"] == "84.1"
    assert fields["method"] == "normal"
    assert fields["population"] == "College-aged men, college athletes"
    assert "Pauole" in fields["source"]
    assert "band" not in fields


def test_rate_human_shows_the_band(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["norms", "rate", "illinois-agility", "--population", "men-16-19",
                "--time-s", "15.5"]) == 0  # fmt: skip
    fields = {line[:11].strip(): line[12:] for line in capsys.readouterr().out.splitlines()}
    assert fields["band"] == "above average"
    assert fields["percentile"] == "-"


def test_unknown_population_exits_2_listing_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["norms", "rate", "t-test", "--population", "elves", "--time-s", "10"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "elves" in captured.err
    for valid in ("college-men", "college-women", "men", "women"):
        assert valid in captured.err


def test_unknown_drill_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["norms", "rate", "hopscotch", "--population", "men", "--time-s", "10"]) == 2
    err = capsys.readouterr().err
    assert "hopscotch" in err
    assert "t-test" in err and "pro-agility-5-10-5" in err


@pytest.mark.parametrize("bad", ["0", "-3", "fast", "nan"])
def test_bad_time_is_refused_by_argparse(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run(["norms", "rate", "t-test", "--population", "men", "--time-s", bad])
    assert info.value.code == 2
    assert "--time-s" in capsys.readouterr().err


def test_population_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run(["norms", "rate", "t-test", "--time-s", "10"])
    assert info.value.code == 2
    assert "--population" in capsys.readouterr().err


def test_own_folder_and_a_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = (NORMS_DIR / "t-test.college-men.toml").read_text(encoding="utf-8")
    (tmp_path / "t-test.college-men.toml").write_text(good, encoding="utf-8")
    argv = ["norms", "rate", "t-test", "--population", "college-men", "--time-s", "9.94",
            "--norms-dir", str(tmp_path)]  # fmt: skip
    data = run_json(argv, capsys)
    assert isinstance(data, dict)
    assert data["percentile"] == pytest.approx(50.0)

    broken = tmp_path / "t-test.broken.toml"
    broken.write_text(good.replace('"college-men"', '"broken"').replace("sd = 0.50", "sd = 0"))
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert "t-test.broken.toml" in err and "sd" in err
