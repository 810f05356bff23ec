"""The console's Reports tab in headless Chromium: the team table with the seeded squad's
forward:backward ratio, change-of-direction deficits and asymmetry flag, then an athlete's
history chart (one line per drill, one point per test day, each point titled with its time).

The server's database is seeded before it starts (tests/server/reports_support.py: three
"Lions" over two test days), plus a third test day of the 10 m sprint for Åsa Berg, so one
line of her chart has a point more than the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.catalog.service import Catalog
from tests.server.reports_support import DRILL, Seeded, _add_run, seed_reports_db
from tests.web.web_support import (
    PageWatch,
    SimServer,
    coach_client,
    screenshot,
    sign_in,
    sim_server_at,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
DAY3 = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
DAY3_US = 1_795_000
TABLE = "#tab-reports [data-part=report-table]"
CHART = "#tab-reports [data-part=history-chart] svg.chart-svg"


def _third_day(seeded: Seeded) -> None:
    """One more 10 m sprint for Åsa, on a third test day."""
    names = [s.name for s in Catalog.load().drills["sprint-10m"].segments]
    with seeded.engine.begin() as conn:
        drill_id = conn.execute(select(DRILL.c.id).where(DRILL.c.slug == "sprint-10m")).scalar_one()
        _add_run(conn, seeded, "Åsa Berg", drill_id, "sprint-10m", 1, DAY3, [DAY3_US], names)


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Seeded]]:
    tmp = tmp_path_factory.mktemp("reports")
    seeded = seed_reports_db(str(tmp / "agility.db"))
    _third_day(seeded)
    seeded.engine.dispose()
    with sim_server_at(seeded.db, tmp / "server.log") as server:
        yield server, seeded


@pytest.fixture(scope="module")
def reports_page(browser: Any, seeded_server: tuple[SimServer, Seeded]) -> Iterator[Any]:
    server, _seeded = seeded_server
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(server.base_url).attach(page)
    sign_in(page, server)
    yield page
    context.close()
    assert watch.errors == [], f"script errors on the console: {watch.errors}"
    assert watch.outside == [], f"requests off this server: {watch.outside}"


def _rows(page: Any, count: int) -> None:
    page.wait_for_function(
        f"(n) => document.querySelectorAll('{TABLE} tbody tr[data-athlete-id]').length === n",
        arg=count,
    )


def test_team_table_shows_ratios_deficits_and_flags(
    reports_page: Any, seeded_server: tuple[SimServer, Seeded]
) -> None:
    page = reports_page
    ids = seeded_server[1].athlete_ids
    page.click("#tab-button-reports")
    page.select_option("#tab-reports [data-part=report-team]", label="Lions")
    _rows(page, 3)
    asa = page.locator(
        f"#tab-reports [data-part=report-table] tr[data-athlete-id='{ids['Åsa Berg']}']"
    )
    # Forward:backward 10 m, backward 2.420 s over forward 1.821 s.
    assert asa.locator(".fb-cell").inner_text().startswith("10 m: 1.329")
    assert "2.420 ÷ 1.821 s" in asa.locator(".fb-cell").inner_text()
    # COD deficit per side: 505 minus the same day's 10 m sprint.
    cod = asa.locator(".cod-cell").inner_text()
    assert "Left: 0.550 s" in cod and "Right: 0.800 s" in cod
    # Asymmetry 10.55 % (right slower) is flagged, Chloé's 9.73 % is not.
    assert asa.locator(".asym-cell .flagged").inner_text() == "505: 10.55 % ⚑\nright slower"
    chloe = page.locator(
        f"#tab-reports [data-part=report-table] tr[data-athlete-id='{ids['Chloé Durand']}']"
    )
    assert chloe.locator(".asym-cell").inner_text() == "505: 9.73 %\nright slower"
    assert chloe.locator(".asym-cell .flagged").count() == 0
    # The API's flag sentence, and the drills faster beyond the noise.
    flags = page.inner_text(
        f"#tab-reports [data-part=report-table] tr[data-flags-for='{ids['Åsa Berg']}'] .flags-cell"
    )
    assert "Asymmetry, 505: left 2.37 s, right 2.62 s; right side 10.5 % slower" in flags
    assert "Faster beyond the noise:" in flags and "Sprint 10 m −" in flags
    chloe_flags = (
        f"#tab-reports [data-part=report-table] tr[data-flags-for='{ids['Chloé Durand']}'] .flag"
    )
    assert page.locator(chloe_flags).count() == 0
    # Best per drill with its rank: the third day's 1.795 s is Åsa's best now.
    best = asa.locator("td.num .best").all_inner_texts()
    assert "1.795" in best and "2.370" in best
    # Drills no published norm answers to are named under the table, not left unexplained.
    no_norms = page.inner_text("#tab-reports [data-part=report-no-norms]")
    assert no_norms.startswith("No published norm for ") and "Sprint 10 m" in no_norms


def test_an_athlete_opens_their_history_chart(
    reports_page: Any, seeded_server: tuple[SimServer, Seeded]
) -> None:
    page = reports_page
    server, seeded = seeded_server
    asa_id = seeded.athlete_ids["Åsa Berg"]
    with coach_client(server) as client:
        history = client.get(f"/api/reports/athlete/{asa_id}").json()
    expected = {d["slug"]: len(d["series"]) for d in history["drills"]}
    assert len(expected) == 6 and expected["sprint-10m"] == 3

    button = page.locator(
        f"#tab-reports [data-part=report-table] tr[data-athlete-id='{asa_id}'] .athlete-link"
    )
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    button.click()
    page.wait_for_selector(CHART)
    assert page.inner_text("#athlete-report-title") == "Åsa Berg: history"
    assert button.get_attribute("aria-expanded") == "true"

    series = page.locator(f"{CHART} .chart-series")
    assert series.count() == len(expected)
    assert page.locator(f"{CHART} polyline.chart-line").count() == len(expected)
    for slug, points in expected.items():
        line = page.locator(f"{CHART} .chart-series[data-series='{slug}']")
        assert line.locator(".chart-point").count() == points, slug
        assert len(line.locator("polyline").get_attribute("points").split()) == points, slug
    assert page.locator(".chart-legend .chart-toggle").count() == len(expected)
    assert "lower is better" in (page.text_content(f"{CHART} .chart-axis") or "")

    sprint = f"{CHART} .chart-series[data-series='sprint-10m']"
    titles = page.locator(f"{sprint} .chart-point title").all_text_contents()
    assert any(t.startswith("Sprint 10 m, ") and ": 1.821 s" in t for t in titles), titles
    day3 = page.locator(f"{sprint} .chart-point[data-day='2026-03-30']")
    assert ": 1.795 s (best of 1 valid rep" in day3.locator("title").text_content()
    day3.click()
    assert "1.795 s" in page.inner_text(".chart-readout")
    ticks = page.locator(f"{CHART} .chart-tick").all_text_contents()
    assert any(t.endswith(" s") for t in ticks) and any("2026" in t for t in ticks), ticks
    assert "1.329" in page.inner_text("#tab-reports [data-part=history-ratios]")

    # Lines follow the theme: another stroke colour in the dark one.
    polyline = f"{sprint} polyline"
    light = page.eval_on_selector(polyline, "el => getComputedStyle(el).stroke")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    dark = page.eval_on_selector(polyline, "el => getComputedStyle(el).stroke")
    page.evaluate("delete document.documentElement.dataset.theme")
    assert light != dark
    screenshot(page, "console-reports.png")

    # The legend hides a line; the dates filter redraws the open chart.
    page.click(".chart-legend .chart-toggle[data-series='505-left']")
    page.wait_for_selector(f"{CHART} .chart-series[data-series='505-left']", state="detached")
    page.fill("#tab-reports [data-part=report-from]", "2026-03-10")
    page.wait_for_function(
        "s => document.querySelectorAll(s).length === 2",
        arg=f"{sprint} .chart-point",
    )
    sprint20 = f"{CHART} .chart-series[data-series='sprint-20m'] .chart-point"
    assert page.locator(sprint20).count() == 1
    page.fill("#tab-reports [data-part=report-from]", "")
    page.wait_for_function(
        "s => document.querySelectorAll(s).length === 3", arg=f"{sprint} .chart-point"
    )


def test_keyboard_opens_a_chart_and_an_empty_history_says_so(
    reports_page: Any, seeded_server: tuple[SimServer, Seeded]
) -> None:
    page = reports_page
    ids = seeded_server[1].athlete_ids
    page.focus(f"{TABLE} tr[data-athlete-id='{ids['Ben Okafor']}'] .athlete-link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#athlete-report-title:has-text('Ben Okafor')")
    page.wait_for_selector(CHART)
    page.click("#tab-reports [data-part=athlete-report-close]")
    assert page.is_hidden("#athlete-report")

    page.select_option("#tab-reports [data-part=report-team]", label="Empty FC")
    _rows(page, 1)
    assert "no reps" in page.inner_text("#tab-reports [data-part=reports-content]")
    assert "No reps in this period." in page.inner_text(
        "#tab-reports [data-part=report-table] .flags-cell"
    )
    page.click(f"{TABLE} tr[data-athlete-id='{ids['Nia Empty']}'] td.cod-cell")
    empty = page.wait_for_selector("#tab-reports [data-part=history-chart] .chart-empty")
    assert empty.inner_text() == "No valid reps for Nia Empty in this period: nothing to chart yet."
    assert page.locator("#tab-reports [data-part=history-chart] svg").count() == 0


def test_an_empty_export_says_why_instead_of_saving_a_file(
    reports_page: Any, seeded_server: tuple[SimServer, Seeded]
) -> None:
    """Issue 16, item 18: a 409 for an empty range is the server's sentence on the page, not
    a file; an export that has reps still downloads under the server's file name."""
    page = reports_page
    downloads: list[Any] = []

    def saved(download: Any) -> None:
        downloads.append(download)

    page.on("download", saved)
    page.click("#tab-button-reports")
    page.select_option("#tab-reports [data-part=report-team]", label="Voided United")
    _rows(page, 1)
    for fmt in ("csv", "pdf"):
        page.click(f"#tab-reports a[data-format='{fmt}']")
        message = page.wait_for_selector("#tab-reports [data-part=export-message]:visible")
        assert message.inner_text().startswith("Nothing to export: "), message.inner_text()
        assert "no valid reps" in message.inner_text()
    page.wait_for_timeout(300)  # a download would have started by now
    assert downloads == [], "nothing saved"

    page.select_option("#tab-reports [data-part=report-team]", label="Lions")
    _rows(page, 3)
    assert page.is_hidden("#tab-reports [data-part=export-message]"), (
        "new filters clear the old message"
    )
    with page.expect_download() as info:
        page.click("#tab-reports a[data-format='csv']")
    download = info.value
    assert download.suggested_filename == "agility-lions-all-dates.csv"
    assert Path(download.path()).read_bytes().startswith("\ufeffathlete_id".encode())
    page.remove_listener("download", saved)
