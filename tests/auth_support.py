"""Logging tests in as a coach, for any test that calls a coach route.

    from tests.auth_support import login_client

    # a real server on loopback: a new httpx.Client, logged in (close it when done; it has
    # been used already, so `with login_client(...)` would fail: use contextlib.closing)
    with closing(login_client("http://127.0.0.1:8123", db)) as client:
        client.post("/api/plans", json=...)

    # Litestar's TestClient (an httpx.Client too): logged in in place and returned
    with TestClient(app) as client:
        login_client(client, services.engine)

`login_client(target, db, name="coach", password=TEST_PASSWORD)`: `target` is a base URL or
an httpx.Client; `db` a database path/URL or an Engine. It makes the coach if the name is
new (through AuthService, as `agility coach add` does), fetches the CSRF cookie, logs in,
and leaves the client with both cookies and the `X-CSRF-Token` header set, so every later
request is a coach's. `log_in(client, name, password)` does the login part alone (for a
coach that already exists); `csrf_headers(client)` gives the header for a client that is
not logged in (to test login, setup, or a 401 rather than a 403).

`serve(db, devices)` runs the whole app under uvicorn on a free loopback port in a thread of
the test process (real HTTP, real cookies), told to open the `devices` ports, and yields a
`LiveServer` with `base_url` and the app's `services` once they are up; leaving the `with`
stops it. The database must be migrated first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from litestar import Litestar
from sqlalchemy import Engine

from server.app import Services, build_services, create_app
from server.auth.service import AuthService, CoachIdentity
from server.config import Settings
from server.db.session import make_engine
from server.errors import ConflictError
from server.serve import uvicorn_options
from tests.support import free_port

TEST_PASSWORD = "test-password-long-enough"
CSRF_COOKIE = "agility_csrf"
CSRF_HEADER = "X-CSRF-Token"


def ensure_coach(
    db: str | Engine, name: str = "coach", password: str = TEST_PASSWORD
) -> CoachIdentity | None:
    """The new coach, or None when a coach of that name exists already."""
    engine = make_engine(db) if isinstance(db, str) else db
    try:
        return AuthService(engine).add_coach(name, password)
    except ConflictError:
        return None
    finally:
        if isinstance(db, str):
            engine.dispose()


def csrf_headers(client: httpx.Client) -> dict[str, str]:
    """Gets the CSRF cookie if the client has none yet (any GET sets it)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/api/auth/me").raise_for_status()
    return {CSRF_HEADER: client.cookies[CSRF_COOKIE]}


def log_in(
    client: httpx.Client, name: str = "coach", password: str = TEST_PASSWORD
) -> httpx.Client:
    res = client.post(
        "/api/auth/login",
        json={"name": name, "password": password},
        headers=csrf_headers(client),
    )
    assert res.status_code == 200, f"login as {name!r} failed: {res.status_code} {res.text}"
    # The login hands out a fresh CSRF token; later requests must send that one.
    client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
    return client


def login_client(
    target: str | httpx.Client,
    db: str | Engine,
    name: str = "coach",
    password: str = TEST_PASSWORD,
) -> httpx.Client:
    ensure_coach(db, name, password)
    client = httpx.Client(base_url=target, timeout=10) if isinstance(target, str) else target
    return log_in(client, name, password)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    services: Services
    app: Litestar


@contextmanager
def serve(db: str, devices: tuple[str, ...] = ()) -> Iterator[LiveServer]:
    """The app told to open `devices` (ports); yielded once each of them is a device."""
    port = free_port()
    services = build_services(Settings(db=db, port=port, devices=devices))
    app = create_app(services.settings, services)
    # As `agility serve` starts it: the same protocol, proxy and compression options.
    config = uvicorn.Config(app, **{**uvicorn_options("127.0.0.1", port), "log_level": "warning"})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started or len(services.devices.snapshot()) < len(devices):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError(f"test server on port {port} or its devices did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", services, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
