"""Course flags answered from the console's Stations tab, in headless Chromium against a real
server: each station card lists its open flags ("Flags to answer") with Keep and, when the
flag names both reps, Swap with the other runner; a refused swap stays listed in the server's
words; a flag of a station with no card is listed below the cards; a new flag on the live
feed shows without a reload.

The flags are rows written into the server's database (as `ensure_coach` writes the coach):
the simulated hub runs one athlete at a time, so no pass happens on demand. The reps they
name are real, run on the simulated gates first. Those reps ran one after the other, so
the server refuses to swap their crossings; the swap that succeeds has the server's answer
stood in for (the swap itself: tests/server/test_stations.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.db.models import Athlete, CourseFlag, Run, utc_now
from server.db.session import make_engine
from tests.web.web_support import (
    PageWatch,
    SimServer,
    coach_client,
    plan,
    run_plan,
    sign_in,
)

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 1366}
DRILL = "sprint-10m"
DRILL_NAME = "Sprint 10 m"
ADA, BO = "Fla Ada", "Fla Bo"
WAIT_MS = 30_000
# Chromium's own line for a refused request: the swap the server refuses on purpose.
REFUSED_LOAD = "the server responded with a status of 409"


@pytest.fixture(scope="module")
def coach(sim_server: SimServer) -> Iterator[httpx.Client]:
    """The coach's API client; a second station, sprint, without devices of its own."""
    with coach_client(sim_server) as client:
        res = client.put("/api/stations/sprint", json={"bindings": {}})
        assert res.status_code == 200, res.text
        yield client


@pytest.fixture(scope="module")
def engine(sim_server: SimServer) -> Iterator[Engine]:
    """The server's database, as the tests write the flags a course would have kept."""
    engine = make_engine(sim_server.db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def reps(coach: httpx.Client, engine: Engine) -> dict[str, int]:
    """Ada's and Bo's finished reps of DRILL on the main station, one after the other."""
    run_plan(coach, plan("Flag reps", DRILL, [ADA, BO]))
    with Session(engine) as session:
        rows = session.exec(
            select(Athlete.name, Run.id, Run.state)
            .join(Run, col(Run.athlete_id) == col(Athlete.id))
            .where(col(Athlete.name).in_([ADA, BO]))
        ).all()
    assert sorted((name, state) for name, _, state in rows) == [
        (ADA, "finished"),
        (BO, "finished"),
    ], rows
    return {name: int(run_id) for name, run_id, _ in rows if run_id is not None}


@pytest.fixture
def console(browser: Any, sim_server: SimServer) -> Iterator[Any]:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text) if m.type == "error" else None)
    sign_in(page, sim_server)
    yield page
    context.close()
    assert watch.outside == [], f"the console fetched from outside the app: {watch.outside}"
    assert watch.errors == [], f"script errors on the console: {watch.errors}"
    errors = [text for text in logged if REFUSED_LOAD not in text]
    assert errors == [], f"errors logged on the console: {errors}"


def add_flag(engine: Engine, **fields: Any) -> int:
    """An open course flag, as a station's course keeps one; its id."""
    row = CourseFlag(**{"drill": DRILL, "role": "finish", **fields})
    with Session(engine) as session:
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def set_state(engine: Engine, flag_ids: list[int], state: str) -> None:
    with Session(engine) as session:
        for flag_id in flag_ids:
            row = session.get(CourseFlag, flag_id)
            assert row is not None
            row.state, row.decided_wall = state, utc_now()
            session.add(row)
        session.commit()


def flags(name: str) -> str:
    """The selector of a station card's flags to answer."""
    return f".station-card[data-station={name}] [data-part=flags]"


def item(flag_id: int, where: str = "") -> str:
    return f"{where} li[data-flag='{flag_id}']".strip()


def listed(page: Any, where: str) -> list[int]:
    ids = page.eval_on_selector_all(f"{where} li[data-flag]", "els => els.map(e => e.dataset.flag)")
    return [int(i) for i in ids]


def wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


def wait_gone(page: Any, selector: str) -> None:
    page.wait_for_selector(selector, state="detached", timeout=WAIT_MS)


def open_flags(coach: httpx.Client, state: str = "open") -> list[int]:
    res = coach.get("/api/flags", params={"flag_state": state})
    assert res.status_code == 200, res.text
    return [f["id"] for f in res.json()]


def test_the_coach_keeps_or_swaps_flags_from_the_station_cards(
    console: Any, coach: httpx.Client, engine: Engine, reps: dict[str, int]
) -> None:
    page = console
    ada, bo = reps[ADA], reps[BO]
    too_fast = add_flag(
        engine, doubt="too_fast", athlete=ADA, run_id=ada,
        reason=f"{ADA} would have run start to finish (10 m) at 14.2 m/s, above the 12 m/s bound",
    )  # fmt: skip
    # A pass of reps that ran one after the other: the server refuses to swap them.
    refused = add_flag(
        engine, doubt="pass", athlete=ADA, run_id=ada, alternative=BO, other_run_id=bo,
        reason=f"{BO} fits this crossing better than {ADA} (a pass before finish?)",
    )  # fmt: skip
    # A pass's two flags (one per runner): the one answer decides both.
    twin = add_flag(
        engine, role="start", doubt="pass", athlete=ADA, run_id=ada, alternative=BO,
        other_run_id=bo, reason=f"{BO} fits this start better than {ADA}",
    )  # fmt: skip
    swapped = add_flag(
        engine, role="start", doubt="pass", athlete=BO, run_id=bo, alternative=ADA,
        other_run_id=ada, reason=f"{ADA} fits this start better than {BO}",
    )  # fmt: skip
    sprint = add_flag(
        engine, station="sprint", doubt="missed_gate", athlete="Spr Cy",
        reason="Spr Cy has no crossing of finish: a beam that missed them",
    )  # fmt: skip
    gone = add_flag(
        engine, station="gone", doubt="too_fast", athlete="Old Dee", reason="from a removed station"
    )

    page.click("#tab-button-stations")
    main = flags("main")
    page.wait_for_selector(item(too_fast, main), timeout=WAIT_MS)
    # Newest first, each on its own station's card; a station with no card below the cards.
    assert listed(page, main) == [swapped, twin, refused, too_fast]
    assert page.text_content(main + " .label") == "Flags to answer (4)"
    page.wait_for_selector(item(sprint, flags("sprint")))
    assert listed(page, flags("sprint")) == [sprint]
    assert "Spr Cy" not in page.inner_text(main)
    assert listed(page, "#tab-stations [data-part=flags-elsewhere]") == [gone]
    assert (
        page.text_content("#tab-stations [data-part=flags-elsewhere] .label")
        == "Flags of other stations (1)"
    )
    assert "Old Dee · Sprint 10 m · at finish · station gone" in page.inner_text(
        "#tab-stations [data-part=flags-elsewhere]"
    )
    assert "Old Dee" not in page.inner_text(flags("sprint"))

    # Who got the crossing, the drill, the gate and why; Keep alone when no second rep.
    text = page.inner_text(item(too_fast, main))
    assert ADA in text and f"{DRILL_NAME} · at finish" in text, text
    assert "Too fast: " in text and "above the 12 m/s bound" in text, text
    assert "may be" not in text
    row = page.locator(item(too_fast, main))
    assert row.locator("button", has_text="Keep").count() == 1
    assert row.locator("button", has_text="Swap").count() == 0
    text = page.inner_text(item(refused, main))
    assert "Pass: " in text and f"may be {BO}'s" in text, text
    keep = page.locator(item(refused, main)).get_by_role("button", name=f"Keep {ADA}'s finish")
    swap = page.locator(item(refused, main)).get_by_role("button", name=f"Swap with {BO}")
    assert keep.inner_text() == "Keep" and swap.inner_text() == f"Swap with {BO}"
    box = swap.bounding_box()
    assert box is not None and box["height"] >= 44  # a finger's width on a tablet
    assert page.locator(item(sprint, flags("sprint"))).locator("button").all_inner_texts() == [
        "Keep"
    ]

    # Keep: the times stand; the flag leaves the list and the server has it confirmed.
    row.get_by_role("button", name="Keep").click()
    wait_gone(page, item(too_fast, main))
    wait_text(page, "#notice", f"Kept: {ADA}'s crossing at finish ({DRILL_NAME}) stands.")
    assert too_fast in open_flags(coach, "confirmed")
    assert too_fast not in open_flags(coach)

    # A swap the server refuses: its reason beside the flag, which stays open.
    with page.expect_response(lambda r: r.url.endswith(f"/api/flags/{refused}/swap")) as answer:
        swap.click()
    assert answer.value.status == 409
    detail = answer.value.json()["detail"]
    assert detail, answer.value.text()
    alert = item(refused, main) + " [role=alert]"
    wait_text(page, alert, detail)
    assert "Conflict" in page.inner_text(alert)
    assert refused in listed(page, main) and refused in open_flags(coach)
    assert swap.is_enabled()

    # A swap that succeeds (the server's answer stood in for, as it would decide both flags
    # of the pass): both athletes' new totals, and both flags leave the list.
    def swap_answer(route: Any) -> None:
        set_state(engine, [swapped, twin], "swapped")
        runs = [
            {"run_id": bo, "drill": DRILL, "athlete_id": 2, "athlete": BO, "rep": 1,
             "state": "finished", "total_s": 1.9, "voided": False, "manual": False},
            {"run_id": ada, "drill": DRILL, "athlete_id": 1, "athlete": ADA, "rep": 1,
             "state": "finished", "total_s": 2.05, "voided": False, "manual": False},
        ]  # fmt: skip
        body = {"id": swapped, "station": "main", "drill": DRILL, "role": "start",
                "doubt": "pass", "reason": "", "athlete": BO, "run_id": bo, "alternative": ADA,
                "other_run_id": ada, "state": "swapped", "created_wall": utc_now().isoformat(),
                "decided_wall": utc_now().isoformat(), "runs": runs}  # fmt: skip
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(f"**/api/flags/{swapped}/swap", swap_answer)
    page.locator(item(swapped, main)).get_by_role("button", name=f"Swap with {ADA}").click()
    wait_text(
        page,
        "#notice",
        f"Swapped {BO}'s and {ADA}'s crossings at start ({DRILL_NAME}): now {BO} 1.900 s, "
        f"{ADA} 2.050 s.",
    )
    wait_gone(page, item(swapped, main))
    wait_gone(page, item(twin, main))
    assert listed(page, main) == [refused]

    # A new flag on the live feed (handed to the page's feed, as the course would say it):
    # the station's list fetches it again, no reload.
    late = add_flag(
        engine, station="sprint", doubt="pass", athlete="Spr Cy", alternative="Spr Eve",
        reason="Spr Eve fits this crossing better than Spr Cy",
    )  # fmt: skip
    page.evaluate(
        """(id) => window.agilityLive.deliver({type: "flag", flag_id: id, station: "sprint",
             drill: "sprint-10m", role: "finish", athlete: "Spr Cy", alternative: "Spr Eve",
             doubt: "pass", reason: "Spr Eve fits this crossing better than Spr Cy",
             run_id: null, other_run_id: null})""",
        late,
    )
    page.wait_for_selector(item(late, flags("sprint")), timeout=WAIT_MS)
    assert listed(page, flags("sprint")) == [late, sprint]
    late_text = page.inner_text(item(late, flags("sprint")))
    assert "may be Spr Eve's" in late_text, late_text
    # No second rep named: nothing to swap with.
    assert page.locator(item(late, flags("sprint"))).locator("button").all_inner_texts() == ["Keep"]

    # Answered meanwhile from elsewhere (another coach's tablet): the server's 409 says so,
    # and the flag leaves the list.
    res = coach.post(f"/api/flags/{late}/confirm")
    assert res.status_code == 200, res.text
    page.locator(item(late, flags("sprint"))).get_by_role("button", name="Keep").click()
    wait_text(page, "#notice", f"flag {late} was already confirmed")
    wait_gone(page, item(late, flags("sprint")))
    assert listed(page, flags("sprint")) == [sprint]
