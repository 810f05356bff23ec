"""Public pages in headless Chromium against a real server on simulated gates: the phone board
catches up after its WebSocket drops, the TV rotates through today's boards, and no page
fetches anything from outside the app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.web_support import (
    PageWatch,
    SimServer,
    coach_client,
    plan,
    run_plan,
    screenshot,
    sign_in,
    start_plan,
    wait_lane_free,
    wait_session,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TV = {"width": 1920, "height": 1080}
TABS = ("run", "launch", "roster", "devices", "reports", "settings")


def test_phone_board_catches_up_after_the_socket_drops(browser: Any, sim_server: SimServer) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    net: dict[str, Any] = {"offline": False, "open": []}

    def route(ws: Any) -> None:
        # The network between the phone and the server: passes everything, or nothing.
        if net["offline"]:
            ws.close()
            return
        net["open"].append((ws, ws.connect_to_server()))

    page.route_web_socket("**/ws/live", route)
    since: list[str] = []
    page.on("request", lambda r: since.append(r.url) if "/api/live/since" in r.url else None)
    page.goto(sim_server.base_url + "/?drill=sprint-10m")
    page.wait_for_selector("#live-status.status-on")
    page.evaluate("window.__noReload = true")

    with coach_client(sim_server) as client:
        wait_lane_free(client)
        session = start_plan(client, plan("gap test", "sprint-10m", ["Finn Gap"], reps=3))
        page.wait_for_function(
            "() => document.querySelector('#latest').textContent.includes('Finn')", timeout=30_000
        )
        net["offline"] = True
        for page_side, server_side in net["open"]:
            page_side.close()
            server_side.close()
        page.wait_for_selector("#live-status.status-off")
        # The rest of the session happens while the phone is away.
        info = wait_session(client, session)
        assert info["state"] == "finished"
        board = client.get("/api/leaderboards/sprint-10m").json()
    runs = next(e["runs"] for e in board["entries"] if e["athlete"] == "Finn G.")
    assert runs == 3

    net["offline"] = False
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the phone is back
    page.wait_for_selector("#live-status.status-on")
    row = page.wait_for_selector("#board-body tr[data-athlete='Finn G.']")
    page.wait_for_function(
        "() => document.querySelector(\"#board-body tr[data-athlete='Finn G.'] td.wide\")"
        ".textContent === '3'"
    )  # fmt: skip
    assert "Finn G." in row.inner_text()
    assert since, "the page did not ask /api/live/since for what it missed"
    assert page.evaluate("window.agilityLive.caughtUp") >= 1
    assert page.evaluate("window.__noReload") is True
    context.close()


def test_reconnects_back_off_with_jitter(browser: Any, sim_server: SimServer) -> None:
    """Every page's live feed waits half to all of its backoff step before trying again, so
    a squad's phones that lost the server together spread their returns (issue 16 item 21)."""
    page = browser.new_page()
    page.goto(sim_server.base_url + "/")
    got = page.evaluate(
        """async () => {
            const { retryDelay } = await import("/static/js/live.js");
            const spread = Array.from({ length: 200 }, () => retryDelay(4000));
            return { low: retryDelay(1000, () => 0), high: retryDelay(1000, () => 0.9999),
                     min: Math.min(...spread), max: Math.max(...spread),
                     distinct: new Set(spread).size };
        }"""
    )
    page.close()
    assert (got["low"], got["high"]) == (500, 1000), got
    assert got["min"] >= 2000 and got["max"] <= 4000 and got["distinct"] > 100, got


def test_tv_rotates_through_todays_drills(browser: Any, sim_server: SimServer) -> None:
    with coach_client(sim_server) as client:
        body = plan("tv test", "sprint-10m", ["Hal Tv", "Ida Tv"])
        body["blocks"].append({**body["blocks"][0], "drill": "sprint-20m"})
        run_plan(client, body)
    page = browser.new_page(viewport=TV)
    watch = PageWatch(sim_server.base_url).attach(page)
    page.goto(sim_server.base_url + "/tv?every=3")
    page.wait_for_function("() => document.body.dataset.drill")
    first = page.evaluate("() => document.body.dataset.drill")
    page.wait_for_selector("#board-body tr[data-athlete]")
    page.wait_for_function("(first) => document.body.dataset.drill !== first", arg=first,
                           timeout=10_000)  # fmt: skip
    page.wait_for_selector("#board-body tr[data-athlete]")
    assert page.inner_text("#tv-title") in ("Sprint 10 m", "Sprint 20 m")
    screenshot(page, "tv.png", full_page=False)
    page.close()
    assert watch.errors == []


def test_no_page_fetches_anything_outside_the_app(browser: Any, sim_server: SimServer) -> None:
    context = browser.new_context()
    base = sim_server.base_url
    blocked: list[str] = []

    def gate(route: Any) -> None:
        # The network is cut off from everything but the app.
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    page = context.new_page()
    watch = PageWatch(base).attach(page)
    for path in ("/", "/tv", "/setup"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
    sign_in(page, sim_server)
    for tab in TABS:
        page.click(f"#tab-button-{tab}")
        page.wait_for_selector(f"#tab-{tab}:not([hidden])")
        page.wait_for_timeout(300)  # the tab's requests would be out by now, blocked or not
    context.close()
    assert blocked == [] and watch.outside == [], blocked + watch.outside
    assert watch.errors == [], watch.errors
    for path in ("/console", "/tv", "/setup"):
        policy = httpx.get(base + path).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
