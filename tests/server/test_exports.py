"""Exports read back: CSV parsed, XLSX opened with openpyxl, PDF text extracted with pypdf;
empty and all-voided teams refused with a sentence; the reports API behind a coach login."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import TestClient
from pypdf import PdfReader

from server.auth.controllers import AuthController
from server.auth.middleware import SecurityMiddleware
from server.auth.service import AuthService
from server.catalog.service import Catalog
from server.errors import EXCEPTION_HANDLERS
from server.reports.controllers import ReportsController
from server.reports.csv_export import write_reps_csv, write_summary_csv
from server.reports.data import NothingToExportError, Scope
from server.reports.service import load_summary, write_export
from server.reports.summary import TeamSummary
from server.reports.tables import seconds
from server.reports.xlsx_export import SUMMARY_SHEET
from tests.auth_support import login_client
from tests.server.reports_support import ATHLETES, Seeded, seed_reports_db

CATALOG = Catalog.load()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_reports_db(str(tmp_path_factory.mktemp("exports") / "agility.db"))
    yield seeded
    seeded.engine.dispose()


@pytest.fixture(scope="module")
def lions(seeded: Seeded) -> TeamSummary:
    return load_summary(seeded.engine, Scope("Lions"), CATALOG.drills)


def _read_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff"), "a BOM, so Excel reads the names as UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_has_one_row_per_rep_equal_to_what_was_stored(
    seeded: Seeded, lions: TeamSummary
) -> None:
    out = io.StringIO()
    count = write_reps_csv(lions.data, out)
    rows = _read_csv(out.getvalue())
    assert count == len(rows) == sum(1 for r in seeded.runs if r["athlete"] in ATHLETES)
    assert list(rows[0])[:3] == ["athlete_id", "athlete", "team"]
    stored = {str(r["run_id"]): r for r in seeded.runs}
    for row in rows:
        want = stored[row["run_id"]]
        assert row["athlete"] == want["athlete"] and row["drill"] == want["drill"]
        assert row["athlete_id"] == str(seeded.athlete_ids[str(want["athlete"])])
        total = want["total_us"]
        assert row["total_s"] == ("" if total is None else f"{seconds(int(str(total))):.3f}")
        names = [s.name for s in CATALOG.drills[str(want["drill"])].segments]
        splits_us = want["splits_us"]
        assert isinstance(splits_us, list)
        if want["state"] == "finished":
            for name, us in zip(names, splits_us, strict=False):
                ms = (us + 500) // 1000  # nearest millisecond, halves up
                assert row[f"split {name} (s)"] == f"{ms // 1000}.{ms % 1000:03d}"
        assert row["void"] == ("1" if want["voided"] else "0")
        assert row["manual"] == ("1" if want["manual"] else "0")
        assert row["familiarisation"] == ("1" if want["familiarisation"] else "0")
        assert row["false_start"] == ("1" if want["state"] == "false_start" else "0")
        assert row["side"] == {"505-left": "left", "505-right": "right"}.get(row["drill"], "")
    # µs to s: half a millisecond rounds up, on every platform.
    halves = [r for r in rows if r["athlete"] == "Åsa Berg" and r["drill"] == "sprint-10m"]
    assert "1.851" in {r["total_s"] for r in halves}  # 1_850_500 µs
    assert {r["split 10-20m (s)"] for r in rows if r["drill"] == "sprint-20m"} >= {"1.200"}


def test_summary_csv_has_one_row_per_athlete_and_drill(lions: TeamSummary) -> None:
    out = io.StringIO()
    write_summary_csv(lions, out)
    rows = _read_csv(out.getvalue())
    assert len(rows) == 3 * 6
    by_key = {(r["athlete"], r["drill"]): r for r in rows}
    asa = by_key[("Åsa Berg", "sprint-10m")]
    assert (asa["best_s"], asa["valid_reps"], asa["voided"], asa["rank"]) == (
        "1.821",
        "7",
        "1",
        "1",
    )
    assert by_key[("Åsa Berg", "backward-sprint-10m")]["fb_ratio"] == "1.329"
    assert by_key[("Åsa Berg", "505-right")]["asymmetry_flag"] == "1"
    assert by_key[("Åsa Berg", "505-left")]["cod_deficit_s"] == "0.550"


def test_xlsx_has_a_summary_and_a_sheet_per_drill_with_frozen_headers(
    tmp_path: Path, lions: TeamSummary
) -> None:
    path = tmp_path / "lions.xlsx"
    write_export(lions, "xlsx", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET, *lions.data.drills]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "C2", sheet.title
        assert sheet.cell(1, 1).value == "athlete_id"
    sprint = book["sprint-10m"]
    header = [c.value for c in sprint[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sprint.iter_rows(2)]
    want = [r for r in lions.data.reps if r.drill == "sprint-10m"]
    assert len(rows) == len(want)
    for row, rep in zip(rows, want, strict=True):
        assert row["run_id"] == rep.run_id
        assert row["total_s"] == seconds(rep.total_us)
        assert row["void"] == int(rep.void) and row["valid"] == int(rep.valid)
    total_col = header.index("total_s") + 1
    assert sprint.cell(2, total_col).number_format == "0.000"
    summary = book[SUMMARY_SHEET]
    names = {summary.cell(r, 2).value for r in range(2, summary.max_row + 1)}
    assert names == set(ATHLETES)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_pdf_names_every_athlete_and_drill(tmp_path: Path, lions: TeamSummary) -> None:
    path = tmp_path / "lions.pdf"
    result = write_export(lions, "pdf", path)
    text = _pdf_text(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert result.pages is not None and result.pages == len(PdfReader(path).pages) >= 7
    for name in ATHLETES:
        assert name in text, name
    for info in lions.data.drills.values():
        assert info.name in text, info.name
    for words in (
        "Lions",
        "2026-03-02 to 2026-03-16",
        "Leaderboards",
        "Flags at a glance",
        "Norms used",
        "Polo-Ferrero",
        "Caveats",
        "page 7",
    ):
        assert words in text, words


def test_pdf_without_charts_is_the_same_report(tmp_path: Path, lions: TeamSummary) -> None:
    from server.reports.pdf_report import write_pdf

    path = tmp_path / "plain.pdf"
    write_pdf(lions, path, charts=False)
    assert "Chloé Durand" in _pdf_text(path)


@pytest.mark.parametrize("fmt", ["csv", "csv-summary", "xlsx", "pdf"])
@pytest.mark.parametrize(
    ("team", "reason"),
    [("Empty FC", "no reps; nothing to export"), ("Voided United", "no valid reps (all 3")],
)
def test_empty_and_all_voided_teams_say_so_and_write_nothing(
    seeded: Seeded, tmp_path: Path, fmt: str, team: str, reason: str
) -> None:
    summary = load_summary(seeded.engine, Scope(team), CATALOG.drills)
    path = tmp_path / f"out.{fmt}"
    with pytest.raises(NothingToExportError) as caught:
        write_export(summary, fmt, path)
    assert f"team {team} over all dates" in str(caught.value)
    assert reason in str(caught.value)
    assert list(tmp_path.iterdir()) == [], "no file, not even a temporary one"


# --- the API --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        route_handlers=[AuthController, ReportsController],
        dependencies={
            "db_engine": Provide(lambda: seeded.engine, sync_to_thread=False),
            "catalog": Provide(lambda: CATALOG, sync_to_thread=False),
        },
        middleware=[SecurityMiddleware(AuthService(seeded.engine))],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )
    with TestClient(app) as test_client:
        yield test_client


def test_reports_api_needs_a_coach(client: TestClient[Litestar]) -> None:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    assert client.get("/api/reports/team", params={"team": "Lions"}).status_code == 401
    assert client.get("/api/reports/export", params={"format": "csv"}).status_code == 401


def test_export_downloads_each_format(client: TestClient[Litestar], seeded: Seeded) -> None:
    login_client(client, seeded.engine)
    params = {"team": "Lions", "from": "2026-03-01", "to": "2026-03-31"}
    for fmt, kind, magic in (
        ("pdf", "application/pdf", b"%PDF"),
        ("xlsx", "spreadsheetml", b"PK"),
        ("csv", "text/csv", "\ufeffathlete_id".encode()),
    ):
        res = client.get("/api/reports/export", params={**params, "format": fmt})
        assert res.status_code == 200, res.text
        assert kind in res.headers["content-type"]
        assert res.content.startswith(magic)
        assert res.headers["content-disposition"] == (
            f'attachment; filename="agility-lions-2026-03-01-to-2026-03-31.{fmt}"'
        )
    empty = client.get("/api/reports/export", params={"team": "Voided United", "format": "pdf"})
    assert empty.status_code == 409 and "no valid reps" in empty.json()["detail"]
    unknown = client.get("/api/reports/export", params={"team": "Tigers", "format": "csv"})
    assert unknown.status_code == 404 and "Lions" in unknown.json()["detail"]
    bad = client.get("/api/reports/export", params={"format": "csv", "from": "1 March"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["detail"]
    assert client.get("/api/reports/export", params={"format": "docx"}).status_code == 422


def test_team_table_and_athlete_history(client: TestClient[Litestar], seeded: Seeded) -> None:
    login_client(client, seeded.engine)
    res = client.get(
        "/api/reports/team", params={"team": "Lions", "norm": "backward-walk-3m=non-fallers"}
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["message"] is None
    assert [d["slug"] for d in body["drills"]][:2] == ["backward-walk-3m", "505-left"]
    asa = next(a for a in body["athletes"] if a["name"] == "Åsa Berg")
    assert asa["drills"]["sprint-10m"]["best_s"] == 1.821
    assert asa["drills"]["sprint-10m"]["rank"] == 1
    assert asa["drills"]["backward-walk-3m"]["rating"]["population"] == "non-fallers"
    assert asa["fb_ratios"][0]["distance_m"] == 10.0
    assert asa["asymmetry"][0]["flagged"] is True
    assert asa["cod_deficits"][0]["drill"] == "505-left"
    assert any(f.startswith("Asymmetry") for f in asa["flags"])
    empty = client.get("/api/reports/team", params={"team": "Empty FC"}).json()
    assert empty["message"] == "team Empty FC over all dates: no reps"
    history = client.get(f"/api/reports/athlete/{asa['id']}", params={"to": "2026-03-02"})
    assert history.status_code == 200, history.text
    sprint = next(d for d in history.json()["drills"] if d["slug"] == "sprint-10m")
    (day,) = sprint["series"]
    assert (day["day"], day["best_s"], day["valid_reps"]) == ("2026-03-02", 1.851, 3)
    assert day["mean_s"] == pytest.approx((1.8505 + 1.87 + 1.9) / 3, abs=0.0006)
    assert len(sprint["reps"]) == 3
    assert client.get("/api/reports/athlete/999999").status_code == 404
    bad_norm = client.get("/api/reports/team", params={"norm": "t-test=astronauts"})
    assert bad_norm.status_code == 422 and "college-men" in bad_norm.json()["detail"]
