"""Issue 17: the forward:backward ratio has one name and one definition everywhere it is shown:
backward time ÷ forward time over the same distance (drills/metrics.py), "Backward ÷ forward
time". The team PDF, the day PDF, the console's report table and the export docs are read back
for the words; none of them may use an older name. The rendered console table and the public
boards are checked in a browser by tests/web/test_ratio_pages.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from drills import metrics
from server.catalog.service import Catalog
from server.leaderboard.ratio import RATIO_LABEL, RATIO_MEANING
from server.reports.data import Scope
from server.reports.day import club_day, day_report, load_day_summary
from server.reports.day_pdf import write_day_pdf
from server.reports.service import load_summary, write_export
from tests.server.reports_support import Seeded, seed_reports_db

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Catalog.load()
# Names the ratio went by before, each of which read as forward ÷ backward or said nothing.
OLD_NAMES = ("Fwd:back", "back ÷ fwd", "Forward:backward", "F:B")


def words(path: Path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_reports_db(str(tmp_path_factory.mktemp("ratio") / "agility.db"))
    yield seeded
    seeded.engine.dispose()


def test_the_label_says_what_the_metric_computes() -> None:
    assert RATIO_LABEL == "Backward ÷ forward time"
    # Backward over forward: 2.5 s backward against 2.0 s forward is 1.25, not 0.8.
    assert metrics.forward_backward_ratio(forward_s=2.0, backward_s=2.5) == 1.25
    assert "backward time divided by" in RATIO_MEANING and "same distance" in RATIO_MEANING


def test_team_pdf_names_the_ratio_by_its_label(seeded: Seeded, tmp_path: Path) -> None:
    summary = load_summary(seeded.engine, Scope("Lions"), CATALOG.drills)
    assert any(a.fb_latest for a in summary.athletes.values()), "the seed has ratios"
    path = tmp_path / "team.pdf"
    write_export(summary, "pdf", path)
    text = words(path)
    # The athlete pages' heading (one per athlete with a ratio), the cover and the caveats.
    assert text.count(RATIO_LABEL) >= 3 + 2, text
    assert f"{RATIO_LABEL}, on the athlete pages: {RATIO_MEANING}" in text
    for old in OLD_NAMES:
        assert old not in text, old


def test_day_pdf_names_the_ratio_by_its_label(seeded: Seeded, tmp_path: Path) -> None:
    day = club_day("2026-03-16", "UTC")
    report = day_report(load_day_summary(seeded.engine, "Lions", day, CATALOG.drills), day)
    assert any(a.fb_ratios for a in report.athletes), "the day has ratios"
    path = tmp_path / "day.pdf"
    write_day_pdf(report, path)
    text = words(path)
    assert f"{RATIO_LABEL}: {RATIO_MEANING}" in text, text  # the legend
    assert text.count(RATIO_LABEL) >= 2, "the legend and the column's header"
    for old in OLD_NAMES:
        assert old not in text, old


def test_console_table_and_export_docs_use_the_same_label() -> None:
    table = (ROOT / "web/static/js/console/report-table.js").read_text(encoding="utf-8")
    assert f'export const RATIO_LABEL = "{RATIO_LABEL}";' in table
    exports = (ROOT / "docs/EXPORTS.md").read_text(encoding="utf-8")
    (row,) = [line for line in exports.splitlines() if line.startswith("| `fb_ratio` |")]
    assert RATIO_LABEL in row and "backward best divided by the forward best" in row
    # The places that show the ratio to a reader.
    shown = ("web/static/js/console/report-table.js", "web/static/js/board.js",
             "web/static/js/console/athlete-history.js", "docs/EXPORTS.md")  # fmt: skip
    for name in shown:
        text = (ROOT / name).read_text(encoding="utf-8")
        for old in OLD_NAMES:
            assert old not in text, f"{name}: {old}"
