"""Every answer carries nosniff, a Referrer-Policy and a CSP that forbids framing, over real
HTTP: pages, API answers, errors (404 included), static files and the API docs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from server.api_docs import DOCS_CSP
from server.db.session import migrate
from server.pages import CSP as PAGE_CSP
from tests.auth_support import serve

API_CSP = "default-src 'none'; frame-ancestors 'none'"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    db = str(tmp_path_factory.mktemp("headers") / "agility.db")
    migrate(db)
    with serve(db) as live, httpx.Client(base_url=live.base_url, timeout=10) as http:
        yield http


def _check(res: httpx.Response, status: int, csp: str, referrer: str = "same-origin") -> None:
    where = f"{res.request.method} {res.request.url.path}"
    assert res.status_code == status, where
    assert res.headers.get_list("x-content-type-options") == ["nosniff"], where
    assert res.headers.get_list("referrer-policy") == [referrer], where
    assert res.headers.get_list("content-security-policy") == [csp], where
    assert "frame-ancestors 'none'" in csp


@pytest.mark.parametrize("path", ["/", "/console", "/tv", "/setup"])
def test_pages_keep_their_policy(client: httpx.Client, path: str) -> None:
    _check(client.get(path), 200, PAGE_CSP)


def test_the_station_page_keeps_no_referrer(client: httpx.Client) -> None:
    _check(client.get("/station/sprint?key=secret"), 200, PAGE_CSP, referrer="no-referrer")


@pytest.mark.parametrize("path", ["/api/drills", "/api/auth/me", "/healthz"])
def test_api_answers_run_nothing(client: httpx.Client, path: str) -> None:
    res = client.get(path)
    assert res.headers["content-type"].startswith("application/json")
    _check(res, 200, API_CSP)


def test_error_answers_too(client: httpx.Client) -> None:
    _check(client.get("/no/such/page"), 404, API_CSP)
    _check(client.get("/api/no-such-route"), 404, API_CSP)
    _check(client.get("/api/teams"), 401, API_CSP)
    _check(client.post("/api/teams", json={}), 403, API_CSP)  # no CSRF token
    _check(client.delete("/"), 405, API_CSP)


def test_static_files(client: httpx.Client) -> None:
    _check(client.get("/static/app.js"), 200, API_CSP)
    _check(client.get("/static/favicon.svg"), 200, API_CSP)
    # The page's file itself, opened under /static/, is held to the page's policy.
    _check(client.get("/static/console.html"), 200, PAGE_CSP)


def test_the_api_docs_have_their_own_policy(client: httpx.Client) -> None:
    # Their viewer is served from the package (server/api_docs.py): its files are 'self',
    # its one inline script is allowed by its hash.
    _check(client.get("/schema"), 200, DOCS_CSP)
    _check(client.get("/schema/swagger"), 200, DOCS_CSP)
    _check(client.get("/schema/openapi.json"), 200, API_CSP)
