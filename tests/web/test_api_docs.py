"""The API docs at /schema in headless Chromium (issue 16, item 5): Swagger UI renders every
route from the files the package ships, fetches nothing from outside, runs no script its
Content-Security-Policy refuses, and lets a signed-in coach try a route out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.web_support import PageWatch, SimServer, sign_in

pytestmark = pytest.mark.browser


def test_the_api_docs_render_offline_under_their_policy(
    browser: Any, sim_server: SimServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    watch = PageWatch(sim_server.base_url).attach(page)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        for path in ("/schema", "/schema/swagger"):
            res = page.goto(sim_server.base_url + path)
            assert res is not None and res.status == 200
            policy = res.headers["content-security-policy"]
            assert "script-src 'self' 'sha256-" in policy and "unsafe" not in policy
            page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
            assert page.locator(".opblock").count() > 40
            assert (
                page.locator(".swagger-ui .info .title")
                .inner_text()
                .startswith("Agility drill orchestrator")
            )

        # Signed in, "Try it out" sends the console's CSRF token: a POST gets through.
        sign_in(page, sim_server, next_path="/console")
        page.goto(sim_server.base_url + "/schema")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        block = page.locator(".opblock-post", has_text="/api/devices/test").first
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
        block.locator("textarea.body-param__text").fill('{"on": false}')
        block.locator("button.execute").click()
        block.locator(".live-responses-table tr.response .response-col_status").first.wait_for()
        status = block.locator(
            ".live-responses-table tr.response .response-col_status"
        ).first.inner_text()
        assert status.strip() == "200", status
    finally:
        context.close()
    # Litestar's other viewers load from CDNs: they are not served at all.
    for viewer in ("redoc", "elements", "rapidoc", "scalar"):
        assert httpx.get(f"{sim_server.base_url}/schema/{viewer}").status_code == 404
    assert watch.outside == [], watch.outside
    assert watch.errors == [], watch.errors
    assert [e for e in console_errors if "Content Security Policy" in e] == []
