"""The coach console in headless Chromium against a real server on simulated gates: first-run
setup and sign-in, a roster CSV with a bad row, a session launched and followed live on the
console and on a phone, corrections that change the board, devices, layouts and reports.

The tests of this module share one server and run in file order: the first one makes the
coach through the setup page, the roster test imports the squad the session test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hardware.sim.chronopic import SimChronopic
from tests.auth_support import TEST_PASSWORD
from tests.web.web_support import (
    COACH,
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

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SQUAD_CSV = (
    "team,name,display_name,squad_number,group,sex,birth_year\n"
    "U16,Ada Lind,Ada,7,Backs,F,2009\n"
    "U16,Bo Berg,,12,Forwards,X,2010\n"  # line 3: no such sex
    "U16,Cy Dahl,,3,Backs,M,2010\n"
    "U16,Di Ek,,4,Forwards,F,2011\n"
)
SQUAD = {"Ada Lind", "Cy Dahl", "Di Ek"}


@pytest.fixture(scope="module")
def console(browser: Any, sim_server: SimServer) -> Iterator[Any]:
    """The console on a laptop-sized screen, signed in through the sign-in page."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    sign_in(page, sim_server)
    yield page
    context.close()
    assert watch.errors == [], f"script errors on the console: {watch.errors}"


@pytest.fixture(scope="module")
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def test_first_run_setup_then_sign_out_and_in(browser: Any, sim_server: SimServer) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    page.goto(sim_server.base_url + "/console")
    # No coach yet: the console sends the coach to the setup page (this is localhost).
    page.wait_for_url("**/setup?next=/console")
    page.wait_for_selector("#setup-section:not([hidden])")
    assert "localhost" in page.inner_text("#setup-section")
    page.fill("#setup-name", COACH)
    page.fill("#setup-password", TEST_PASSWORD)
    page.click("#setup-section button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("#coach-name") == COACH

    page.click("#logout")
    page.wait_for_selector("#login-section:not([hidden])")
    page.fill("#login-name", COACH)
    page.fill("#login-password", "not-the-password")
    page.click("#login-section button[type=submit]")
    error = page.wait_for_selector("#login-section .alert:not([hidden])")
    assert error.inner_text() == "Wrong name or password."
    page.fill("#login-password", TEST_PASSWORD)
    page.click("#login-section button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    assert page.url.endswith("/console") or "/console#" in page.url
    context.close()
    assert watch.errors == []


def test_roster_import_shows_the_bad_row_then_imports_the_valid_ones(console: Any) -> None:
    page = console
    page.click("#tab-button-roster")
    page.set_input_files(
        "#tab-roster [data-part=import-file]",
        files=[{"name": "squad.csv", "mimeType": "text/csv", "buffer": SQUAD_CSV.encode()}],
    )
    page.click("#tab-roster [data-part=import-check]")
    bad = page.wait_for_selector("#tab-roster [data-part=import-result] tr.row-error")
    assert bad.get_attribute("data-line") == "3"
    assert "Bo Berg" in bad.inner_text()
    assert "sex: must be F, M or empty" in bad.inner_text()
    assert page.locator("#tab-roster [data-part=import-result] tr.row-error").count() == 1
    assert "nothing was imported" in page.inner_text("#tab-roster [data-part=import-summary]")
    assert page.locator("#tab-roster [data-part=athletes-body] tr[data-name]").count() == 0

    page.click("#tab-roster [data-part=import-valid]")
    page.wait_for_selector("#tab-roster [data-part=athletes-body] tr[data-name='Ada Lind']")
    rows = page.query_selector_all("#tab-roster [data-part=athletes-body] tr")
    names = {row.get_attribute("data-name") for row in rows}
    assert names == SQUAD
    assert "3 athlete(s) imported" in page.inner_text("#tab-roster [data-part=import-summary]")
    screenshot(page, "console-roster.png")


def test_session_runs_live_on_the_console_and_on_a_phone(
    console: Any, phone: Any, sim_server: SimServer
) -> None:
    phone.goto(sim_server.base_url + "/?drill=sprint-20m")
    phone.wait_for_selector("#live-status.status-on")
    phone.evaluate("window.__noReload = true")  # a reload would wipe this out

    page = console
    page.click("#tab-button-launch")
    page.select_option("#tab-launch [data-part=plan-team]", "U16")
    page.select_option("#tab-launch [data-part=blocks] .block-row select[name=drill]", "sprint-20m")
    page.fill("#tab-launch [data-part=blocks] .block-row input[name=reps]", "2")
    page.fill("#tab-launch [data-part=blocks] .block-row input[name=rest_s]", "0")
    page.fill("#tab-launch [data-part=plan-countdown]", "1")
    page.click("#tab-launch [data-part=launch-button]")

    page.wait_for_selector("#tab-run [data-part=run-view]:not([hidden])")
    page.wait_for_function(
        "(names) => names.includes("
        "document.querySelector('#tab-run [data-part=up-name]').textContent)",
        arg=sorted(SQUAD),
    )  # fmt: skip
    split = "#tab-run [data-part=splits-body] tr[data-split='0-10m']"
    page.wait_for_selector(split, timeout=30_000)
    assert page.inner_text("#tab-run [data-part=rep-title]").split(" · ")[0] in SQUAD
    assert page.locator("#tab-run [data-part=next-list] li").count() >= 1
    # The drill starts itself (auto): START is not offered, so the space bar sends nothing.
    assert page.is_disabled("#tab-run [data-part=go-button]")
    assert "starts from the gates" in page.inner_text("#tab-run [data-part=go-hint]")
    page.keyboard.press("Space")
    page.wait_for_timeout(500)  # a request would have answered by now
    assert page.locator("#alert:not([hidden])").count() == 0
    page.wait_for_selector("#tab-run [data-part=rep-outcome].good", timeout=30_000)
    assert page.inner_text("#tab-run [data-part=rep-outcome]").startswith("Finished: ")
    screenshot(page, "console-run.png")

    # The phone saw splits arrive and the board fill, without a reload.
    phone.wait_for_selector("#board-body tr[data-athlete]", timeout=30_000)
    assert phone.evaluate("window.__noReload") is True
    assert " s" in phone.inner_text("#latest")
    assert " s" in phone.inner_text("#board-body tr[data-athlete] .best")

    page.click("#tab-run [data-part=pause-button]")
    page.wait_for_selector("#tab-run [data-part=run-state].paused")
    page.click("#tab-run [data-part=resume-button]")
    page.wait_for_selector("#tab-run [data-part=run-state].running")
    page.click("#tab-run [data-part=abort-button]")
    page.click("#tab-run [data-part=abort-button]")  # the second press confirms
    page.wait_for_selector("#tab-run [data-part=run-state].aborted", timeout=30_000)

    phone.wait_for_selector("#board-body tr[data-athlete]")
    screenshot(phone, "leaderboard-phone.png")


def test_void_and_manual_entry_change_the_phone_board(
    console: Any, phone: Any, sim_server: SimServer
) -> None:
    with coach_client(sim_server) as client:
        info = run_plan(client, plan("void test", "sprint-10m", ["Eve Void"]))
    run_id = info["progress"]["done"][0]["run_id"]
    phone.goto(sim_server.base_url + "/?drill=sprint-10m")
    phone.wait_for_selector("#board-body tr[data-athlete='Eve V.']")
    phone.evaluate("window.__noReload = true")

    page = console
    page.click("#tab-button-run")
    row = f"#tab-run [data-part=recent-body] tr[data-run-id='{run_id}']"
    page.wait_for_selector(row)
    page.click(f"{row} button.void")
    page.fill("#void-reason", "slipped at the start")
    page.click("#correction-ok")
    page.wait_for_selector(f"{row}.voided button.unvoid")
    phone.wait_for_selector("#board-body tr[data-athlete='Eve V.']", state="detached")

    page.click(f"{row} button.history")
    history = page.wait_for_selector("#correction-history li")
    assert "void" in history.inner_text()
    page.click("#correction-cancel")

    # A time typed in by hand is on the board again, marked as not from the gates.
    page.click(".manual-entry summary")
    page.select_option("#tab-run [data-part=manual-drill]", "sprint-10m")
    page.select_option("#tab-run [data-part=manual-athlete]", label="Eve Void (U16)")
    page.fill("#tab-run [data-part=manual-total]", "2.345")
    page.fill("#tab-run [data-part=manual-note]", "hand timed")
    page.click("#tab-run [data-part=manual-form] button[type=submit]")
    entry = phone.wait_for_selector("#board-body tr[data-athlete='Eve V.']")
    assert "2.345 s" in entry.inner_text()
    assert entry.query_selector(".manual-mark") is not None
    assert phone.evaluate("window.__noReload") is True


def test_devices_page_test_mode_and_layouts(console: Any, sim_server: SimServer) -> None:
    page = console
    page.click("#tab-button-devices")
    row = page.wait_for_selector("#tab-devices [data-part=devices-body] tr[data-device]")
    text = row.inner_text()
    assert "hub" in text and "ready" in text and "%" in text and "ms" in text
    page.check("#tab-devices [data-part=test-mode]")
    page.wait_for_selector("#notice:has-text('Test mode on')")
    with coach_client(sim_server) as client:
        wait_lane_free(client)
        session = start_plan(client, plan("beam test", "sprint-10m", ["Gil Test"]))
        page.wait_for_selector("#tab-devices [data-part=test-log] li", timeout=30_000)
        page.wait_for_selector("#tab-devices [data-part=devices-body] tr.hit")
        screenshot(page, "console-devices.png")
        wait_session(client, session)
    page.uncheck("#tab-devices [data-part=test-mode]")
    page.wait_for_selector("#notice:has-text('Test mode off')")

    page.select_option("#tab-devices [data-part=layout-drill]", "sprint-20m")
    page.fill("#tab-devices [data-part=layout-name]", "Lane 1")
    page.click("#tab-devices [data-part=layout-form] button[type=submit]")
    layout = "#tab-devices [data-part=layouts-body] tr[data-layout='Lane 1']"
    page.wait_for_selector(layout)
    page.click(f"{layout} button.primary")
    page.wait_for_selector("#notice:has-text('Layout Lane 1 applied')")
    page.click(f"{layout} button.danger")
    page.wait_for_selector(layout, state="detached")


def test_devices_page_adds_a_chronopic_and_says_why_a_port_is_refused(console: Any) -> None:
    page = console
    page.click("#tab-button-devices")
    sim = SimChronopic(seed=21)  # the device's published behaviour, on a pty of this machine
    path = sim.start()
    try:
        page.fill("#tab-devices [data-part=add-port]", f"chronopic:{path}")
        page.click("#tab-devices [data-part=add-port-form] button[type=submit]")
        devices = "#tab-devices [data-part=devices-body]"
        row = page.wait_for_selector(f"{devices} tr[data-device^='chronopic-']")
        text = row.inner_text()
        assert "ready" in text and "debounce ms 50" in text, text
        page.wait_for_selector("#notice:has-text('Opened chronopic:')")
        page.fill("#tab-devices [data-part=add-port]", "timy:/dev/ttyUSB9@12345")
        page.click("#tab-devices [data-part=add-port-form] button[type=submit]")
        page.wait_for_selector("#alert:has-text('not a Timy baud rate')")
    finally:
        sim.stop()


def test_a_port_another_program_holds_is_a_problem_row_not_a_device(console: Any) -> None:
    """A port held by another program (an flock, as pyserial's exclusive open takes) shows as
    a row that says so, with no battery or clock of its own, and the layout never offers it."""
    import os

    import serial

    page = console
    page.click("#tab-button-devices")
    master, slave = os.openpty()
    path = os.ttyname(slave)
    other_program = serial.Serial(path, 115200, timeout=0, exclusive=True)
    try:
        page.fill("#tab-devices [data-part=add-port]", path)
        page.click("#tab-devices [data-part=add-port-form] button[type=submit]")
        page.wait_for_selector("#alert:has-text('in use by another program')")
        problem = "#tab-devices [data-part=devices-body] tr.port-problem"
        row = page.wait_for_selector(problem, timeout=15_000)
        cells = [c.inner_text() for c in row.query_selector_all("td")]
        assert path in cells[0] and "in use by another program" in cells[2], cells
        assert cells[3] == "–" and cells[5] == "–", cells  # no battery, no clock
        options = page.eval_on_selector_all(".binding-device option", "os => os.map(o => o.value)")
        assert options and not any(path in (value or "") for value in options), options
    finally:
        other_program.close()
        os.close(master)
        os.close(slave)


def test_settings_privacy_changes_public_names(
    console: Any, phone: Any, sim_server: SimServer
) -> None:
    page = console
    page.click("#tab-button-settings")
    page.wait_for_selector("#tab-settings [data-part=privacy-form] input[value=display]:checked")
    page.check("#tab-settings [data-part=privacy-form] input[value=initials]")
    page.wait_for_selector("#notice:has-text('initials')")
    phone.goto(sim_server.base_url + "/?drill=sprint-20m")
    phone.wait_for_selector("#board-body tr[data-athlete]")
    names = [r.get_attribute("data-athlete") for r in phone.query_selector_all("#board-body tr")]
    assert names and all(n and n.endswith(".") and " " not in n for n in names), names
    page.check("#tab-settings [data-part=privacy-form] input[value=display]")
    page.wait_for_selector("#notice:has-text('display')")
    # The LAN box says how phones join (this test server listens on loopback only).
    page.wait_for_selector("#tab-settings [data-part=lan-box] p")

    # The theme choice outlives a reload (localStorage), on every page of this browser.
    page.check("input[name=theme][value=dark]")
    assert page.get_attribute("html", "data-theme") == "dark"
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_attribute("html", "data-theme") == "dark"
    page.click("#theme-toggle")  # dark -> light
    assert page.get_attribute("html", "data-theme") == "light"
    page.click("#theme-toggle")  # light -> auto (the system's)
    assert page.get_attribute("html", "data-theme") is None


def test_an_expired_login_asks_again_without_leaving_the_page(console: Any) -> None:
    page = console
    page.context.clear_cookies(name="agility_session")
    page.click("#tab-button-roster")  # its data needs a coach: 401
    page.wait_for_selector("#login-dialog[open]")
    page.fill("#login-name", COACH)
    page.fill("#login-password", TEST_PASSWORD)
    page.click("#login-dialog button[type=submit]")
    page.wait_for_selector("#login-dialog", state="hidden")
    page.click("#tab-button-run")
    page.click("#tab-button-roster")
    page.wait_for_selector("#tab-roster [data-part=athletes-body] tr[data-name='Ada Lind']")
    assert page.is_hidden("#login-dialog")


def test_reports_tab_shows_the_team_report(console: Any, sim_server: SimServer) -> None:
    page = console
    page.click("#tab-button-reports")
    page.wait_for_selector(
        "#tab-reports [data-part=report-table] tr[data-athlete-id]", timeout=10_000
    )
    assert "#" in page.inner_text("#tab-reports [data-part=report-table] tbody")  # ranks
    with coach_client(sim_server) as client:
        for fmt in ("csv", "xlsx", "pdf"):
            assert client.get(f"/api/reports/export?format={fmt}").status_code == 200
