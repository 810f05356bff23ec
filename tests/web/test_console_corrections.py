"""Issue 16, items 13 and 14, in headless Chromium against a real server on a seeded SQLite file:
any rep of a session can be corrected (a session selector and pages, not only the latest 12),
a reassignment shows the new name at once and on another console's live `correction` message,
a hand time outside the drill's plausible range asks for a confirmation and is then marked,
the correction history reads as words, and an athlete's history is a table and a chart, not JSON.

The database is seeded before the server starts: a finished session of 30 reps on 2 March,
10 reps in no session on 16 March, then a small session of 3 reps (the newest) on 30 March,
which the run view follows, so its progress names the athletes as they were planned.
The tests share one server and page and run in file order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from server.catalog.service import Catalog
from server.db.models import Athlete, Drill, Plan, PlanSession, Run, Team
from server.db.session import make_engine, migrate
from tests.web.web_support import PageWatch, SimServer, coach_client, sign_in, sim_server_at

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 15_000
DRILL = "sprint-10m"
DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
DAY3 = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
NAMES = ("Ada Seed", "Bo Seed", "Cy Seed")


@dataclass
class Seed:
    db: str
    ids: dict[str, int] = field(default_factory=dict)
    big: int = 0
    big_runs: list[int] = field(default_factory=list)
    small: int = 0
    small_runs: list[int] = field(default_factory=list)
    # Ada's sprint-10m reps as seeded: run id -> (day, total_s, voided)
    ada: dict[int, tuple[str, float, bool]] = field(default_factory=dict)


def _seed(db_path: str) -> Seed:
    migrate(db_path)
    engine = make_engine(db_path)
    Catalog.load().sync(engine)
    seed = Seed(db_path)
    with Session(engine) as db:
        team = Team(name="Squad")
        db.add(team)
        db.flush()
        assert team.id is not None
        for name in NAMES:
            athlete = Athlete(team_id=team.id, name=name)
            db.add(athlete)
            db.flush()
            assert athlete.id is not None
            seed.ids[name] = athlete.id
        drill = db.exec(select(Drill).where(Drill.slug == DRILL)).one()
        assert drill.id is not None

        def rep(name: str, when: datetime, us: int, session_id: int | None, **kw: Any) -> int:
            run = Run(drill_id=drill.id or 0, athlete_id=seed.ids[name], state="finished",
                      total_us=us, started_wall=when, finished_wall=when,
                      plan_session_id=session_id, **kw)  # fmt: skip
            db.add(run)
            db.flush()
            assert run.id is not None
            if name == "Ada Seed":
                seed.ada[run.id] = (when.date().isoformat(), us / 1e6, bool(kw.get("voided")))
            return run.id

        def session(plan_name: str, start: datetime) -> int:
            plan = Plan(name=plan_name, definition_json="{}")
            db.add(plan)
            db.flush()
            row = PlanSession(plan_id=plan.id or 0, state="finished", started_wall=start,
                              finished_wall=start, progress_json="{}")  # fmt: skip
            db.add(row)
            db.flush()
            assert row.id is not None
            return row.id

        seed.big = session("Big session", DAY1)
        for i in range(30):
            seed.big_runs.append(
                rep(NAMES[i % 3], DAY1 + timedelta(minutes=i), 1_850_000 + i * 1_000, seed.big)
            )
        for i in range(10):
            rep(NAMES[i % 2], DAY2 + timedelta(minutes=i), 1_800_000 + i * 1_000, None,
                voided=i == 0)  # fmt: skip
        seed.small = session("Small session", DAY3)
        for i in range(3):
            seed.small_runs.append(
                rep("Ada Seed", DAY3 + timedelta(minutes=i), 1_790_000 + i * 1_000, seed.small)
            )
        # The session's progress names its athletes as planned (what the run view shows).
        row = db.get(PlanSession, seed.small)
        assert row is not None
        done = [{"run_id": r, "athlete": "Ada Seed", "drill": DRILL, "rep": i + 1,
                 "state": "finished", "total_s": 1.79 + i / 1000}
                for i, r in enumerate(seed.small_runs)]  # fmt: skip
        row.progress_json = json.dumps({"phase": "done", "index": 3, "total": 3, "done": done})
        db.add(row)
        db.commit()
    engine.dispose()
    return seed


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Seed]]:
    tmp = tmp_path_factory.mktemp("corrections")
    seed = _seed(str(tmp / "agility.db"))
    with sim_server_at(seed.db, tmp / "server.log") as server:
        yield server, seed


@pytest.fixture(scope="module")
def console(browser: Any, seeded: tuple[SimServer, Seed]) -> Iterator[Any]:
    server, seed = seeded
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(server.base_url).attach(page)
    sign_in(page, server)
    # The run view follows the small session, as after running it.
    page.evaluate("(id) => localStorage.setItem('agility-session', String(id))", seed.small)
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    page.click("#tab-button-run")
    page.wait_for_selector("#tab-run [data-part=run-view]:not([hidden])", timeout=WAIT_MS)
    yield page
    context.close()
    assert watch.errors == [], f"script errors on the console: {watch.errors}"
    assert watch.outside == [], f"requests off this server: {watch.outside}"


def row(run_id: int) -> str:
    return f"#tab-run [data-part=recent-body] tr[data-run-id='{run_id}']"


def wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


def athlete_cell(page: Any, run_id: int) -> str:
    return str(page.inner_text(f"{row(run_id)} td:nth-child(2)"))


def test_a_reassignment_shows_the_new_name(console: Any, seeded: tuple[SimServer, Seed]) -> None:
    page = console
    server, seed = seeded
    first, second = seed.small_runs[0], seed.small_runs[1]
    page.wait_for_selector(row(first), timeout=WAIT_MS)
    assert athlete_cell(page, first) == "Ada Seed"

    page.click(f"{row(first)} button.reassign")
    page.select_option("#reassign-athlete", label="Cy Seed (Squad)")
    page.click("#correction-ok")
    wait_text(page, f"{row(first)} td:nth-child(2)", "Cy Seed")
    wait_text(page, "#notice", "Rep given to Cy Seed.")
    page.wait_for_timeout(600)  # the list's reload after it must not bring the old name back
    assert athlete_cell(page, first) == "Cy Seed"

    # Another coach's tablet reassigns a rep: the live `correction` message brings the name.
    with coach_client(server) as client:
        res = client.post(f"/api/runs/{second}/reassign", json={"athlete_id": seed.ids["Bo Seed"]})
        assert res.status_code == 200, res.text
    wait_text(page, f"{row(second)} td:nth-child(2)", "Bo Seed")

    # The rep's history says what changed in words, not JSON.
    page.click(f"{row(first)} button.history")
    item = page.wait_for_selector("#correction-history li", timeout=WAIT_MS)
    text = item.inner_text()
    assert "given to Cy Seed (was Ada Seed)" in text, text
    assert "{" not in text and '"' not in text, text
    page.click("#correction-cancel")


def test_every_rep_of_a_session_can_be_corrected(
    console: Any, seeded: tuple[SimServer, Seed]
) -> None:
    page = console
    server, seed = seeded
    # The default list is the newest reps: the big session's first is not on it.
    wait_text(page, "#tab-run [data-part=corrections-count]", "Reps 1–25 of 43")
    assert page.locator(row(seed.big_runs[0])).count() == 0

    page.select_option("#tab-run [data-part=corrections-session]", str(seed.big))
    wait_text(page, "#tab-run [data-part=corrections-count]", "Reps 1–25 of 30")
    assert page.locator("#tab-run [data-part=recent-body] tr[data-run-id]").count() == 25
    option = page.inner_text(f"#tab-run [data-part=corrections-session] option[value='{seed.big}']")
    assert "Big session" in option and "30 reps" in option, option
    # In the order they ran: the session's first rep first, and it can be voided.
    ids = [int(x) for x in page.eval_on_selector_all(
        "#tab-run [data-part=recent-body] tr[data-run-id]",
        "rows => rows.map((r) => r.dataset.runId)")]  # fmt: skip
    assert ids == seed.big_runs[:25]
    page.click(f"{row(seed.big_runs[0])} button.void")
    page.fill("#void-reason", "false start missed")
    page.click("#correction-ok")
    page.wait_for_selector(f"{row(seed.big_runs[0])}.voided button.unvoid", timeout=WAIT_MS)

    page.click("#tab-run [data-part=corrections-next]")
    wait_text(page, "#tab-run [data-part=corrections-count]", "Reps 26–30 of 30")
    assert page.locator("#tab-run [data-part=recent-body] tr[data-run-id]").count() == 5
    page.wait_for_selector(row(seed.big_runs[-1]))
    assert page.is_disabled("#tab-run [data-part=corrections-next]")
    assert page.is_enabled("#tab-run [data-part=corrections-prev]")
    page.click("#tab-run [data-part=corrections-prev]")
    wait_text(page, "#tab-run [data-part=corrections-count]", "Reps 1–25 of 30")

    # A day instead: the 16 March reps, in no session.
    page.select_option("#tab-run [data-part=corrections-session]", "")
    page.fill("#tab-run [data-part=corrections-day]", "2026-03-16")
    page.dispatch_event("#tab-run [data-part=corrections-day]", "change")
    wait_text(page, "#tab-run [data-part=corrections-count]", "Reps 1–10 of 10")
    page.fill("#tab-run [data-part=corrections-day]", "")
    page.dispatch_event("#tab-run [data-part=corrections-day]", "change")
    wait_text(page, "#tab-run [data-part=corrections-count]", "Reps 1–25 of 43")

    with coach_client(server) as client:
        log = client.get(f"/api/runs/{seed.big_runs[0]}/corrections").json()
    assert [e["action"] for e in log] == ["void"]


def test_a_hand_time_out_of_range_asks_first(console: Any, seeded: tuple[SimServer, Seed]) -> None:
    page = console
    server, _seed = seeded
    page.click(".manual-entry summary")
    page.select_option("#tab-run [data-part=manual-drill]", "505-left")
    page.select_option("#tab-run [data-part=manual-athlete]", label="Bo Seed (Squad)")
    page.fill("#tab-run [data-part=manual-total]", "0.5")
    page.click("#tab-run [data-part=manual-form] button[type=submit]")
    page.wait_for_selector("#tab-run [data-part=manual-confirm]:not([hidden])", timeout=WAIT_MS)
    text = page.inner_text("#tab-run [data-part=manual-confirm]")
    assert "0.80 s to 10 s" in text and "12.5 m/s" in text, text
    with coach_client(server) as client:
        assert client.get("/api/runs/list", params={"drill": "505-left"}).json()["total"] == 0

    page.click("#tab-run [data-part=manual-confirm-save]")
    page.wait_for_selector("#tab-run [data-part=manual-confirm]", state="hidden", timeout=WAIT_MS)
    wait_text(page, "#notice", "out of range")
    with coach_client(server) as client:
        (made,) = client.get("/api/runs/list", params={"drill": "505-left"}).json()["runs"]
    assert (made["total_s"], made["manual"], made["out_of_range"]) == (0.5, True, True)
    mark = f"{row(made['run_id'])} .out-of-range-mark"
    page.wait_for_selector(mark, timeout=WAIT_MS)
    assert "out of range" in page.inner_text(mark)

    # A plausible time is saved at once.
    page.fill("#tab-run [data-part=manual-total]", "2.41")
    page.click("#tab-run [data-part=manual-form] button[type=submit]")
    wait_text(page, "#notice", "Manual rep saved (marked manual).")
    assert page.is_hidden("#tab-run [data-part=manual-confirm]")


def test_athlete_history_is_a_table_and_a_chart(
    console: Any, seeded: tuple[SimServer, Seed]
) -> None:
    page = console
    _server, seed = seeded
    ada = seed.ids["Ada Seed"]
    page.click("#tab-button-reports")
    page.select_option("#tab-reports [data-part=report-team]", label="Squad")
    button = f"#tab-reports [data-part=report-table] tr[data-athlete-id='{ada}'] .athlete-link"
    page.wait_for_selector(button, timeout=WAIT_MS)
    page.click(button)
    page.wait_for_selector("#tab-reports [data-part=history-table]", timeout=WAIT_MS)
    page.wait_for_selector("#tab-reports [data-part=history-chart] svg.chart-svg")

    # Ada's reps as seeded, less the two of the small session given to others above and
    # with the big session's first voided.
    days: dict[str, list[tuple[float, bool]]] = {}
    for run_id, (day, total, voided) in seed.ada.items():
        if run_id in seed.small_runs[:2]:
            continue
        counts = not voided and run_id != seed.big_runs[0]
        days.setdefault(day, []).append((total, counts))
    assert [len(days[d]) for d in sorted(days)] == [10, 5, 1]
    rows = page.locator(f"#tab-reports [data-part=history-table] tbody[data-drill='{DRILL}'] tr")
    assert rows.count() == len(days) == 3
    for day, reps in days.items():
        cells = page.locator(
            f"#tab-reports [data-part=history-table] tr[data-drill='{DRILL}'][data-day='{day}']"
        )
        best = min(t for t, ok in reps if ok)
        assert cells.locator("td.best").inner_text() == f"{best:.3f} s", day
        valid = sum(ok for _, ok in reps)
        assert cells.locator("td.reps").inner_text() == f"{valid} of {len(reps)}", day
    voided_day = page.locator(
        f"#tab-reports [data-part=history-table] tr[data-day='{DAY2.date().isoformat()}'] td.marks"
    )
    assert "not counted: 1 voided" in voided_day.inner_text()
    assert "Sprint 10 m" in page.inner_text(
        f"#tab-reports [data-part=history-table] tbody[data-drill='{DRILL}'] th"
    )

    # The chart: one point per test day, titled with the same best.
    points = page.locator(
        f"#tab-reports [data-part=history-chart] .chart-series[data-series='{DRILL}'] .chart-point"
    )
    assert points.count() == 3
    titles = points.locator("title").all_text_contents()
    for day, reps in days.items():
        best = min(t for t, ok in reps if ok)
        assert any(f": {best:.3f} s" in t for t in titles), (day, titles)

    # Nowhere a raw JSON object.
    text = page.inner_text("#athlete-report")
    assert '{"' not in text and '":' not in text and "[{" not in text, text
