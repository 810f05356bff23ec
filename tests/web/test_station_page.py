"""The station page on a phone-sized headless Chromium, opened from the coach's link as an
assistant would: a keyboard-wedge reader types a tag and Enter and the athlete goes up next;
an unknown tag says what to do; the live feed keeps the page current; nothing is fetched from
outside the app and the link's cookie is out of the page's reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.web_support import PageWatch, SimServer, coach_client, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ATHLETES = {"Wes Ada": "0A0B0C01", "Wes Bo": "04A1B2C3", "Wes Cy": "0C0B0A03"}
UNKNOWN = "tag DEADBEEF is not on the roster: ask the coach to attach it"


@pytest.fixture
def station(sim_server: SimServer) -> Iterator[tuple[httpx.Client, int, dict[str, Any]]]:
    """Station `wedge` running a plan whose countdown outlasts the test (so the queue holds
    still), its athletes tagged on the roster, and a link for its assistant."""
    with coach_client(sim_server) as coach:
        for name, tag in ATHLETES.items():
            res = coach.post("/api/athletes", json={"team": "U16", "name": name, "tag": tag})
            assert res.status_code == 201 or "already on team" in res.text, res.text
        assert coach.put("/api/stations/wedge", json={"bindings": {}}).status_code == 200
        block = {"drill": "sprint-10m", "athletes": list(ATHLETES), "reps": 1, "rest_s": 0}
        body = {"name": "Wedge", "team": "U16", "countdown_s": 600, "blocks": [block]}
        plan_id = coach.post("/api/plans", json=body).json()["id"]
        res = coach.post("/api/stations/wedge/sessions", json={"plan_id": plan_id})
        assert res.status_code == 200, res.text
        session_id = int(res.json()["id"])
        link = coach.post("/api/stations/wedge/links", json={})
        assert link.status_code == 200, link.text
        try:
            yield coach, session_id, link.json()
        finally:
            coach.post(f"/api/plans/sessions/{session_id}/abort")


def _text(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def _wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=15_000,
    )


def test_a_wedge_reader_checks_athletes_in_on_a_phone(
    browser: Any, sim_server: SimServer, station: tuple[httpx.Client, int, dict[str, Any]]
) -> None:
    coach, _session_id, link = station
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        watch = PageWatch(sim_server.base_url).attach(page)
        page.goto(link["url"])
        page.wait_for_selector("body[data-ready=true]", timeout=15_000)
        assert "key=" not in page.url  # the key left the address bar once traded
        assert _text(page, "#station-title") == "Station wedge"
        assert _text(page, "#up-next") == "Wes Ada"
        assert page.evaluate("document.activeElement.id") == "checkin-tag"

        # The reader types the tag's characters and Enter, as a keyboard would.
        page.keyboard.type("04a1b2c3", delay=5)
        page.keyboard.press("Enter")
        _wait_text(page, "#checkin-status", "Wes Bo is up next")
        _wait_text(page, "#up-next", "Wes Bo")
        assert page.input_value("#checkin-tag") == ""
        assert page.evaluate("document.activeElement.id") == "checkin-tag"
        assert page.get_attribute("#checkin-status", "aria-live") == "polite"

        page.keyboard.type("deadbeef", delay=5)
        page.keyboard.press("Enter")
        _wait_text(page, "#checkin-status", UNKNOWN)
        assert _text(page, "#up-next") == "Wes Bo"
        page.wait_for_selector("#unknown-box:not([hidden])")
        assert "DEADBEEF" in _text(page, "#unknown-tags")

        # After a tap on a control the next tag still lands in the box.
        page.click("#pause-button")
        _wait_text(page, "#checkin-status", "Paused")
        page.wait_for_selector("#resume-button:not([hidden])")
        page.keyboard.type("0c0b0a03", delay=5)
        page.keyboard.press("Enter")
        _wait_text(page, "#checkin-status", "Wes Cy is up next")
        _wait_text(page, "#up-next", "Wes Cy")

        # The coach resumes from the console: the live feed brings it to the phone.
        res = coach.post("/api/stations/wedge/resume")
        assert res.status_code == 200, res.text
        page.wait_for_selector("#pause-button:not([hidden])", timeout=15_000)
        assert page.locator("#resume-button").is_hidden()

        # The station's cookie is HttpOnly: no script on the page can read it.
        assert "agility_station" not in page.evaluate("document.cookie")
        names = {c["name"]: c for c in context.cookies()}
        cookie = names["agility_station_wedge"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.locator("#scan-button").is_hidden()  # no camera over plain http
        assert watch.outside == [] and watch.errors == []
    finally:
        context.close()


def test_with_several_on_course_each_rep_gets_its_own_void(
    browser: Any, sim_server: SimServer, station: tuple[httpx.Client, int, dict[str, Any]]
) -> None:
    """The page as the server answers it with two athletes off and one at the start (the
    state is the server's, with its course filled in): one Void per started rep, naming the
    athlete, and the tap sends that rep's run id; the general Void gives way to them."""
    import json

    _coach, _session_id, link = station
    course = [
        {"athlete": "Wes Ada", "drill": "sprint-10m", "rep": 1, "run_id": 41},
        {"athlete": "Wes Bo", "drill": "sprint-10m", "rep": 1, "run_id": 42},
        {"athlete": "Wes Cy", "drill": "sprint-10m", "rep": 1, "run_id": None},
    ]
    voids: list[Any] = []

    def with_course(route: Any) -> None:
        state = route.fetch().json()
        state["station"]["course"], state["station"]["on_course"] = course, course[-1]
        route.fulfill(json=state)

    def void(route: Any) -> None:
        voids.append(json.loads(route.request.post_data or "null"))
        route.continue_()

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.route("**/api/stations/wedge/state", with_course)
        page.route("**/api/stations/wedge/void", void)
        page.goto(link["url"])
        page.wait_for_selector("#course-list:not([hidden])", timeout=15_000)
        assert page.locator("#void-button").is_hidden()
        buttons = page.locator("#course-list button")
        assert buttons.all_inner_texts() == ["Void Wes Ada", "Void Wes Bo"]
        assert "at the start" in _text(page, "#course-list")
        page.click("text=Void Wes Bo")
        # The real server has no run 42 under way: its refusal is shown, nothing is lost.
        _wait_text(page, "#checkin-status", "run 42 is not under way on station wedge")
        assert voids == [{"run_id": 42}]
    finally:
        context.close()


def test_a_page_without_a_working_link_says_so(
    browser: Any, sim_server: SimServer, station: tuple[httpx.Client, int, dict[str, Any]]
) -> None:
    coach, _session_id, link = station
    assert coach.delete("/api/stations/wedge/links").status_code == 200
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(link["url"])
        page.wait_for_selector("#station-alert:not([hidden])", timeout=15_000)
        assert "expired or was revoked" in _text(page, "#station-alert")
        assert page.locator("#checkin-form button[type=submit]").is_disabled()
    finally:
        context.close()


def test_the_console_makes_a_link_with_its_qr_code(
    browser: Any, sim_server: SimServer, station: tuple[httpx.Client, int, dict[str, Any]]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        watch = PageWatch(sim_server.base_url).attach(page)
        sign_in(page, sim_server)
        page.click("#tab-button-devices")
        row = page.locator("#tab-devices [data-part=stations-body] tr[data-station=wedge]")
        row.get_by_role("button", name="Link for assistant").click()
        page.wait_for_selector("#tab-devices [data-part=station-link-qr] img")
        url = page.locator("#tab-devices [data-part=station-link-url]").get_attribute("href")
        assert url and "/station/wedge?key=" in url
        # The SVG decodes as an image (a standalone document, namespace and all).
        page.wait_for_function(
            "() => document.querySelector('#tab-devices [data-part=station-link-qr] img')"
            ".naturalWidth"
        )
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        try:
            assistant = phone.new_page()
            assistant.goto(url)
            assistant.wait_for_selector("body[data-ready=true]", timeout=15_000)
            assert _text(assistant, "#up-next") == "Wes Ada"
        finally:
            phone.close()
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Revoke links").click()
        _wait_text(page, "#notice", "Station wedge: 2 link(s) revoked.")
        assert watch.outside == [] and watch.errors == []
    finally:
        context.close()
