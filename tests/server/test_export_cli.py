"""`agility export`: files written, AGILITY_DB honoured, and every refusal a clear sentence
with its exit status (1 nothing to export, 2 usage) and no file left behind."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from pypdf import PdfReader

from server.cli import build_parser
from tests.server.reports_support import ATHLETES, Seeded, seed_reports_db


def agility(argv: list[str]) -> int:
    """The command as `agility` parses it (server/cli.py), without main's logging set-up."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_reports_db(str(tmp_path_factory.mktemp("cli") / "agility.db"))
    seeded.engine.dispose()
    yield seeded


def test_csv_for_a_team_and_range(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lions.csv"
    status = agility(
        [
            "export",
            "--db",
            seeded.db,
            "--team",
            "Lions",
            "--from",
            "2026-03-16",
            "--to",
            "2026-03-16",
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out == "", "stdout stays clean"
    assert f"wrote {out} (csv): 3 athletes" in captured.err
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert {r["athlete"] for r in rows} == set(ATHLETES)
    assert {r["date"] for r in rows} == {"2026-03-16"}
    want = [r for r in seeded.runs if r["athlete"] in ATHLETES and r["started_wall"].day == 16]  # type: ignore[attr-defined]
    assert len(rows) == len(want)


def test_every_team_by_default_and_agility_db_from_the_environment(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGILITY_DB", seeded.db)
    out = tmp_path / "all.xlsx"
    assert agility(["export", "--format", "xlsx", "--out", str(out), "--quiet"]) == 0
    summary = openpyxl.load_workbook(out)["Summary"]
    names = {summary.cell(r, 2).value for r in range(2, summary.max_row + 1)}
    assert names == {*ATHLETES, "Val Void"}, "all teams; Nia Empty has no reps"


def test_pdf_and_stdout(
    seeded: Seeded, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    out = tmp_path / "lions.pdf"
    assert (
        agility(
            [
                "export",
                "--db",
                seeded.db,
                "--team",
                "Lions",
                "--format",
                "pdf",
                "--out",
                str(out),
                "--norm",
                "t-test=college-men,college-women",
            ]
        )
        == 0
    )
    text = "".join(p.extract_text() or "" for p in PdfReader(out).pages)
    assert all(name in text for name in ATHLETES)
    capsysbinary.readouterr()
    assert (
        agility(
            [
                "export",
                "--db",
                seeded.db,
                "--team",
                "Lions",
                "--format",
                "csv-summary",
                "--out",
                "-",
                "-q",
            ]
        )
        == 0
    )
    captured = capsysbinary.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out.decode("utf-8-sig"))))
    assert len(rows) == 18 and captured.err == b""


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ("Empty FC", "team Empty FC between 2026-01-01 and 2026-12-31: no reps; nothing to export"),
        ("Voided United", "no valid reps (all 3 are voided, practice, false starts or unfinished)"),
    ],
)
def test_nothing_to_export_exits_1_and_writes_no_file(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str], team: str, message: str
) -> None:
    out = tmp_path / "empty.pdf"
    status = agility(
        [
            "export",
            "--db",
            seeded.db,
            "--team",
            team,
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--format",
            "pdf",
            "--out",
            str(out),
        ]
    )
    assert status == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "16/03/2026"], "from must be a date as YYYY-MM-DD, got '16/03/2026'"),
        (["--from", "2026-03-16", "--to", "2026-03-01"], "ends (2026-03-01) before it starts"),
        (["--team", "Tigers"], "no team 'Tigers'; teams: Empty FC, Lions, Voided United"),
        (["--norm", "t-test=astronauts"], "valid populations: college-men"),
        (["--norm", "t-test"], "must look like t-test=college-men"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(
    seeded: Seeded,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "x.csv"
    status = agility(["export", "--db", seeded.db, "--format", "csv", "--out", str(out), *args])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_database_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "nowhere.db"
    status = agility(["export", "--db", str(db), "--format", "csv", "--out", str(tmp_path / "x")])
    assert status == 2
    assert f"no database at {db}" in capsys.readouterr().err
    assert not db.exists()


def test_report_pdf_benchmark_runs_end_to_end_on_a_tiny_season() -> None:
    """Shapes and counts only; timings belong to `make bench`, never to tests."""
    from bench.report_pdf import report_pdf_markdown, run_report_pdf_bench

    result = run_report_pdf_bench(athletes=2, drills=3, splits=60)
    assert result["data"]["athletes"] == 2 and result["data"]["drills"] == 3
    assert result["data"]["splits"] == 2 * 2 * 3 * (1 + 1 + 2)
    for key in ("pdf", "pdf_no_charts", "csv"):
        assert set(result[key]) >= {"export_s", "process_s", "cpu_s", "peak_rss_mb", "bytes"}
        assert result[key]["peak_rss_mb"] > 0 and result[key]["bytes"] > 0
    assert result["pdf"]["pages"] == result["pdf_no_charts"]["pages"] >= 5
    assert result["pdf"]["bytes"] > result["pdf_no_charts"]["bytes"], "the charts are in it"
    assert "python -m bench --only report-pdf" in report_pdf_markdown(result)
