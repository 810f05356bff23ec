"""Re-timing a finished rep from the console's run view: a rep run on the simulated gates
(one beam per gate, timed first-break), timed again with longest-break through the page's
"Re-time with rule" control, and two-beam rules refused with the server's reason. Last, a
re-time that moves a split, with the server's answers stood in for (the simulated gates make
one clean break per crossing, so no rule times them differently).

Its own server (the module-scoped fixture): the rep below is the only one on record.
"""

from __future__ import annotations

from typing import Any

import pytest

from drills.crossing import Trigger
from tests.web.web_support import (
    PageWatch,
    SimServer,
    coach_client,
    plan,
    sign_in,
    start_plan,
    wait_lane_free,
    wait_session,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
SPLITS = ("0-10m", "10-20m")


def time_cell(page: Any, split: str) -> str:
    return str(page.inner_text(f"#tab-run [data-part=splits-body] tr[data-split='{split}'] td.num"))


def retime(page: Any, trigger: str) -> int:
    """Chooses `trigger` and presses Re-time; the status of the server's answer."""
    page.select_option("#tab-run [data-part=retime-rule]", trigger)
    with page.expect_response(lambda r: r.url.endswith("/rederive")) as answer:
        page.click("#tab-run [data-part=retime-button]")
    return int(answer.value.status)


def said(before: dict[str, int], after: dict[str, int], trigger: str) -> str:
    """The status line the console should show for an audit entry's splits."""
    changed = [
        f"{name} {before[name] / 1e6:.3f} → {after[name] / 1e6:.3f} s"
        for name in SPLITS
        if before[name] != after[name]
    ]
    return f"Re-timed with {trigger}: " + (", ".join(changed) or "no split changed")


def moved_split_is_shown(page: Any, run_id: int, log: list[dict[str, Any]]) -> None:
    """A re-time that moves a split: the page shows the new values and says what changed.

    The simulated gates make one clean break per crossing, so every rule finds the same
    instant; the server's two answers (the rep, then its audit entry) are stood in for here,
    each as the real one with the second split 21.5 ms longer."""
    last = log[-1]
    before = last["detail"]["after"]
    after = {
        **before,
        "splits": {**before["splits"], "10-20m": before["splits"]["10-20m"] + 21_500},
    }
    after["total_us"] = sum(after["splits"].values())
    entry = {**last, "detail": {**last["detail"], "rule": {"trigger": "longest-break"},
                                "before": before, "after": after}}  # fmt: skip
    answer = {"run_id": run_id, "state": "finished", "total_s": after["total_us"] / 1e6}
    page.route(f"**/api/runs/{run_id}/rederive", lambda route: route.fulfill(json=answer))
    page.route(f"**/api/runs/{run_id}/corrections", lambda route: route.fulfill(json=[*log, entry]))
    try:
        assert retime(page, "longest-break") == 200
        page.wait_for_selector("#tab-run [data-part=retime-status]:not(.bad)")
        was, now = before["splits"]["10-20m"] / 1e6, after["splits"]["10-20m"] / 1e6
        assert page.inner_text("#tab-run [data-part=retime-status]") == (
            f"Re-timed with longest-break: 10-20m {was:.3f} → {now:.3f} s"
        )
        assert time_cell(page, "10-20m").startswith(f"{now:.3f} s")
        assert time_cell(page, "0-10m").startswith(f"{before['splits']['0-10m'] / 1e6:.3f} s")
        # The elapsed column adds the splits up as the page does (in seconds, in order).
        elapsed = before["splits"]["0-10m"] / 1e6 + now
        elapsed_cell = "#tab-run [data-part=splits-body] tr[data-split='10-20m'] td:last-child"
        cell = page.inner_text(elapsed_cell)
        assert cell == f"{elapsed:.3f} s"
        assert page.inner_text("#tab-run [data-part=rep-outcome]").startswith(
            f"Finished: {after['total_us'] / 1e6:.3f} s"
        )
    finally:
        page.unroute_all()


def test_a_finished_rep_is_re_timed_with_another_rule(browser: Any, sim_server: SimServer) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    sign_in(page, sim_server)
    page.click("#tab-button-run")
    page.wait_for_selector("#live-status.status-on")

    with coach_client(sim_server) as client:
        # The console follows the session started here and shows the rep as it is run.
        wait_lane_free(client)
        session_id = start_plan(client, plan("retime test", "sprint-20m", ["Rae Retime"]))
        page.wait_for_selector("#tab-run [data-part=rep-outcome].good", timeout=30_000)
        info = wait_session(client, session_id)
        run_id = info["progress"]["done"][0]["run_id"]
        assert page.inner_text("#tab-run [data-part=rep-title]").startswith("Rae Retime · ")

        # Offered for the finished rep, with every rule the server knows; the choice made
        # for it is another rule than the simulated gates' first-break.
        page.wait_for_selector("#tab-run [data-part=retime-form]:not([hidden])")
        options = page.eval_on_selector_all(
            "#tab-run [data-part=retime-rule] option", "os => os.map(o => o.value)"
        )
        assert sorted(options) == sorted(t.value for t in Trigger)
        assert page.input_value("#tab-run [data-part=retime-rule]") == "longest-break"
        # The label names the rule's select (the id a label needs, prefixed by its panel).
        rule_id = page.get_attribute("#tab-run [data-part=retime-rule]", "id")
        assert rule_id == "run-retime-rule"
        assert page.get_attribute("#tab-run label[for=run-retime-rule]", "for") == rule_id
        assert page.get_attribute("#tab-run [data-part=retime-button]", "type") == "submit"
        assert page.is_hidden("#tab-run [data-part=retime-status]")
        shown = {name: time_cell(page, name) for name in SPLITS}

        assert retime(page, "longest-break") == 200
        page.wait_for_function(
            "() => document.querySelector('#tab-run [data-part=retime-status]').textContent"
            ".startsWith('Re-timed with longest-break: ')"
        )  # fmt: skip
        log = client.get(f"/api/runs/{run_id}/corrections").json()
        assert [entry["action"] for entry in log] == ["rederive"]
        detail = log[0]["detail"]
        assert detail["rule"]["trigger"] == "longest-break"
        before, after = detail["before"], detail["after"]
        assert set(before["crossings"].values()) == {"first-break"}
        assert set(after["crossings"].values()) == {"longest-break"}
        # What the page showed is what was re-timed, and it now shows the new values.
        for name in SPLITS:
            assert shown[name].startswith(f"{before['splits'][name] / 1e6:.3f} s"), shown
            cell = time_cell(page, name)
            assert cell.startswith(f"{after['splits'][name] / 1e6:.3f} s"), cell
            assert "re-timed: longest-break" in cell
        status = page.locator("#tab-run [data-part=retime-status]")
        assert status.inner_text() == said(before["splits"], after["splits"], "longest-break")
        assert status.get_attribute("role") == "status"
        assert "bad" not in (status.get_attribute("class") or "")
        total = after["total_us"] / 1e6
        outcome = page.inner_text("#tab-run [data-part=rep-outcome]")
        assert outcome.startswith(f"Finished: {total:.3f} s")
        recent = next(r for r in client.get("/api/runs/recent").json() if r["run_id"] == run_id)
        assert recent["total_s"] == pytest.approx(total)

        # Two beams on a one-beam rep: the server's reason, and nothing changes.
        refused = client.post(f"/api/runs/{run_id}/rederive", json={"trigger": "dual-beam"})
        assert refused.status_code == 409, refused.text
        reason = refused.json()["detail"]
        assert "one beam" in reason
        cells = {name: time_cell(page, name) for name in SPLITS}
        assert retime(page, "dual-beam") == 409
        page.wait_for_selector("#tab-run [data-part=retime-status].bad")
        assert reason in status.inner_text()
        assert {name: time_cell(page, name) for name in SPLITS} == cells
        outcome = page.inner_text("#tab-run [data-part=rep-outcome]")
        assert outcome.startswith(f"Finished: {total:.3f} s")

        # Back to first-break: the line says so and is no longer an error; dual-longest is
        # a rule the server knows (a 409 for this rep, not a 422).
        assert retime(page, "first-break") == 200
        page.wait_for_selector("#tab-run [data-part=retime-status]:not(.bad)")
        assert status.inner_text().startswith("Re-timed with first-break: ")
        assert retime(page, "dual-longest") == 409
        page.wait_for_selector("#tab-run [data-part=retime-status].bad")
        assert "one beam" in status.inner_text()
        log = client.get(f"/api/runs/{run_id}/corrections").json()
        assert [entry["detail"]["rule"]["trigger"] for entry in log] == [
            "longest-break",
            "first-break",
        ]
        assert page.locator("#alert:not([hidden])").count() == 0
        moved_split_is_shown(page, run_id, log)

    context.close()
    assert watch.errors == [], f"script errors on the console: {watch.errors}"
    assert watch.outside == [], f"requests outside the app: {watch.outside}"
