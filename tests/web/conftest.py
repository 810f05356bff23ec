"""Browser-test fixtures: headless Chromium (Debian's, through Playwright) and a real server
process whose plan reps are run by virtual athletes on a simulated hub (tests/web/sim_server.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import CHROMIUM, skip_or_fail
from tests.web.web_support import SimServer, sim_server_at

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A fresh database with no coach; the server on a free loopback port."""
    tmp = tmp_path_factory.mktemp("sim")
    with sim_server_at(str(tmp / "agility.db"), tmp / "server.log") as server:
        yield server
