"""Coach accounts, logins, CSRF and the coach-only rule, mostly over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlmodel import Session, select
from websockets.sync.client import connect

from server.app import build_services, create_app
from server.auth import cli as auth_cli
from server.auth.guards import PUBLIC_OPT, SAFE_METHODS, is_public
from server.auth.passwords import hash_password, password_problem, verify_password
from server.auth.ratelimit import FREE_FAILURES, LoginThrottle
from server.auth.service import SESSION_TTL, AuthService, is_loopback
from server.cli import main
from server.config import Settings
from server.db.models import Coach, CoachSession, utc_now
from server.db.session import make_engine, migrate
from server.errors import ForbiddenError, NotAuthorizedError, TooManyAttemptsError
from tests.auth_support import (
    TEST_PASSWORD,
    LiveServer,
    csrf_headers,
    ensure_coach,
    log_in,
    login_client,
    serve,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(sqlite_db: str) -> Iterator[LiveServer]:
    migrate(sqlite_db)
    with serve(sqlite_db) as live:
        yield live


def _anonymous(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=10)


# --- passwords, without HTTP (the sign-in throttle: test_login_throttle.py) ---


def test_password_hash_is_salted_and_checked() -> None:
    stored = hash_password("long enough secret")
    assert stored.startswith("scrypt$") and "long enough" not in stored
    assert stored != hash_password("long enough secret"), "each hash has its own salt"
    assert verify_password("long enough secret", stored)
    assert not verify_password("long enough secreT", stored)
    assert not verify_password("long enough secret", "scrypt$broken")
    assert not verify_password("long enough secret", "")
    assert password_problem("123456789") is not None
    assert password_problem("1234567890") is None


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("192.168.1.20") and not is_loopback("testclient")
    assert not is_loopback(None) and not is_loopback("10.0.0.1")


def test_public_paths_follow_the_contract() -> None:
    public = ["/", "/tv", "/static/app.js", "/api/leaderboards/today", "/api/drills",
              "/api/runs/recent", "/api/live/since", "/healthz", "/schema", "/ws/live"]  # fmt: skip
    for path in public:
        assert is_public("GET", path), path
    for path in ["/api/teams", "/api/athletes", "/api/settings", "/api/devices", "/api/plans"]:
        assert not is_public("GET", path), path
    assert not is_public("POST", "/") and not is_public("DELETE", "/api/leaderboards/x")


# --- setup, login, logout ---


def test_setup_only_from_localhost_and_only_once(server: LiveServer, sqlite_db: str) -> None:
    auth = AuthService(server.services.engine)
    with pytest.raises(ForbiddenError, match="only on the laptop"):
        auth.setup("Remote", TEST_PASSWORD, "192.168.1.20")
    # The whole stack refuses too: Litestar's TestClient calls from the address "testclient".
    with TestClient(create_app(Settings(db=sqlite_db))) as remote:
        res = remote.post("/api/auth/setup", json={"name": "Remote", "password": TEST_PASSWORD},
                          headers=csrf_headers(remote))  # fmt: skip
        assert res.status_code == 403 and "only on the laptop" in res.json()["detail"]
    with _anonymous(server.base_url) as client:
        assert client.get("/api/auth/me").json() == {"coach": None, "setup_needed": True}
        short = client.post("/api/auth/setup", json={"name": "Ann", "password": "short"},
                            headers=csrf_headers(client))  # fmt: skip
        assert short.status_code == 422 and "at least 10 characters" in short.text
        res = client.post("/api/auth/setup", json={"name": "Ann", "password": TEST_PASSWORD},
                          headers=csrf_headers(client))  # fmt: skip
        assert res.status_code == 201, res.text
        assert res.json() == {"coach": {"id": 1, "name": "Ann"}}
        client.headers["X-CSRF-Token"] = client.cookies["agility_csrf"]
        assert client.get("/api/auth/me").json()["coach"] == {"id": 1, "name": "Ann"}
        again = client.post("/api/auth/setup", json={"name": "Bo", "password": TEST_PASSWORD})
        assert again.status_code == 403 and "already done" in again.json()["detail"]
    with Session(server.services.engine) as session:
        assert [c.name for c in session.exec(select(Coach)).all()] == ["Ann"]


def test_login_sets_strict_cookies_and_stores_only_a_hash(any_db: str) -> None:
    migrate(any_db)
    ensure_coach(any_db, "Ann")
    with serve(any_db) as live, _anonymous(live.base_url) as client:
        first = client.get("/api/auth/me")
        csrf = first.headers["set-cookie"]
        assert csrf.startswith("agility_csrf=") and "SameSite=strict" in csrf
        assert "HttpOnly" not in csrf, "the pages must read it"
        res = client.post("/api/auth/login", json={"name": "Ann", "password": TEST_PASSWORD},
                          headers=csrf_headers(client))  # fmt: skip
        assert res.status_code == 200 and res.json() == {"coach": {"id": 1, "name": "Ann"}}
        cookies = {c.split("=", 1)[0]: c for c in res.headers.get_list("set-cookie")}
        session_cookie = cookies["agility_session"]
        assert {"HttpOnly", "Path=/", "SameSite=strict"} <= set(re.split(r";\s*", session_cookie))
        token = client.cookies["agility_session"]
        with Session(live.services.engine) as session:
            (row,) = session.exec(select(CoachSession)).all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.token_hash, row.csrf_token)
        assert abs(row.expires_wall - utc_now() - SESSION_TTL) < timedelta(minutes=1)
        assert row.csrf_token == client.cookies["agility_csrf"], "a fresh CSRF token per login"

        client.headers["X-CSRF-Token"] = client.cookies["agility_csrf"]
        assert client.get("/api/teams").status_code == 200
        out = client.post("/api/auth/logout")
        assert out.status_code == 204
        assert (
            'agility_session=""' in out.headers["set-cookie"]
            or "Max-Age=0" in out.headers["set-cookie"]
        )
        with Session(live.services.engine) as session:
            assert session.exec(select(CoachSession)).all() == []
        assert client.get("/api/teams").status_code == 401
        assert client.get("/api/auth/me").json()["coach"] is None


def test_wrong_password_and_unknown_name_get_the_same_401(server: LiveServer) -> None:
    ensure_coach(server.services.engine, "Ann")
    with _anonymous(server.base_url) as client:
        headers = csrf_headers(client)
        wrong = client.post("/api/auth/login", json={"name": "Ann", "password": "x" * 12},
                            headers=headers)  # fmt: skip
        unknown = client.post("/api/auth/login", json={"name": "Nobody", "password": "x" * 12},
                              headers=headers)  # fmt: skip
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "agility_session" not in wrong.headers.get("set-cookie", "")


def test_failures_never_lock_out_the_laptop(server: LiveServer) -> None:
    """Issue 16: this used to answer 429 for 300 s, whoever had made the failures."""
    ensure_coach(server.services.engine, "Ann")
    with _anonymous(server.base_url) as client:
        headers = csrf_headers(client)
        for _ in range(6):
            res = client.post("/api/auth/login", json={"name": "Ann", "password": "bad" * 4},
                              headers=headers)  # fmt: skip
            assert res.status_code == 401
        right = client.post("/api/auth/login", json={"name": "Ann", "password": TEST_PASSWORD},
                            headers=headers)  # fmt: skip
        assert right.status_code == 200, "the right password on the laptop always signs in"


def test_failures_count_per_client_address(sqlite_db: str) -> None:
    migrate(sqlite_db)
    engine = make_engine(sqlite_db)
    auth = AuthService(engine, throttle=LoginThrottle(clock=lambda: 1000.0))
    auth.add_coach("Ann", TEST_PASSWORD)
    for i in range(FREE_FAILURES):
        with pytest.raises(NotAuthorizedError):
            auth.login(f"guess{i}", TEST_PASSWORD, "10.0.0.9")
    with pytest.raises(TooManyAttemptsError) as caught:
        auth.login("Ann", TEST_PASSWORD, "10.0.0.9")
    assert caught.value.retry_after_s == 1
    assert auth.login("Ann", TEST_PASSWORD, "10.0.0.10").coach.name == "Ann"
    engine.dispose()


def test_session_expires_after_twelve_hours_unused_and_is_renewed_by_use(sqlite_db: str) -> None:
    migrate(sqlite_db)
    engine = make_engine(sqlite_db)
    now = [utc_now()]
    auth = AuthService(engine, clock=lambda: now[0])
    auth.add_coach("Ann", TEST_PASSWORD)
    login = auth.login("Ann", TEST_PASSWORD, "127.0.0.1")
    now[0] += timedelta(hours=11)
    found = auth.session(login.token)
    assert found is not None and found.coach.name == "Ann"
    now[0] += timedelta(hours=11)
    assert auth.session(login.token) is not None, "used at 11 h: good until 23 h"
    now[0] += timedelta(hours=12, minutes=1)
    assert auth.session(login.token) is None
    with Session(engine) as session:
        assert session.exec(select(CoachSession)).all() == [], "the expired row is gone"
    assert auth.session("not-a-token") is None
    engine.dispose()


# --- CSRF and the coach-only rule over every route of the app ---


def _example_path(route: HTTPRoute) -> str:
    samples = {int: "1", float: "1.5"}

    def sample(match: re.Match[str]) -> str:
        definition = route.path_parameters[match.group(1)]
        return samples.get(definition.type, "x")

    return re.sub(r"\{(\w+):[^}]+\}", sample, route.path)


def _routes(app: Litestar) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, example path, handler opt) for every HTTP route handler of the app."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                yield method, _example_path(route), dict(handler.opt)


def test_every_change_needs_a_coach_and_the_csrf_token(server: LiveServer) -> None:
    changes = [(m, p, opt) for m, p, opt in _routes(server.app) if m not in SAFE_METHODS]
    assert len(changes) >= 10 and ("POST", "/api/plans", {}) in changes
    anonymous = _anonymous(server.base_url)
    token = csrf_headers(anonymous)
    coach = login_client(server.base_url, server.services.engine)
    wrong = {"X-CSRF-Token": "not-the-cookie"}
    seen = []
    for method, path, opt in changes:
        no_header = coach.request(method, path, json={}, headers={"X-CSRF-Token": ""})
        assert no_header.status_code == 403, f"{method} {path} without CSRF header"
        bad = coach.request(method, path, json={}, headers=wrong)
        assert bad.status_code == 403, f"{method} {path} with a wrong CSRF header"
        if opt.get(PUBLIC_OPT):
            continue  # login, setup and logout are for people not logged in
        res = anonymous.request(method, path, json={}, headers=token)
        assert res.status_code == 401, f"{method} {path} answered {res.status_code} anonymously"
        seen.append(f"{method} {path}")
    assert "PATCH /api/athletes/1" in seen and "PUT /api/settings" in seen
    anonymous.close()
    coach.close()


def test_coach_reads_under_api_need_a_login(server: LiveServer) -> None:
    with _anonymous(server.base_url) as anonymous:
        for method, path, opt in _routes(server.app):
            if method != "GET" or not path.startswith("/api/"):
                continue
            status = anonymous.get(path).status_code
            if is_public("GET", path) or opt.get(PUBLIC_OPT):
                assert status != 401, f"{path} is public"
            else:
                assert status == 401, f"GET {path} answered {status} anonymously"


def test_a_lost_csrf_cookie_comes_back_as_the_logins_token(server: LiveServer) -> None:
    client = login_client(server.base_url, server.services.engine)
    token = client.cookies["agility_csrf"]
    client.cookies.delete("agility_csrf")
    res = client.get("/api/auth/me")
    assert res.cookies["agility_csrf"] == token
    assert client.post("/api/teams", json={"name": "U16"}).status_code == 201
    # A cookie and header pair planted by someone else does not belong to this login.
    client.cookies.set("agility_csrf", "planted", domain="127.0.0.1")
    res = client.post("/api/teams", json={"name": "U18"}, headers={"X-CSRF-Token": "planted"})
    assert res.status_code == 403 and "does not belong to this login" in res.text
    client.close()


def test_the_live_feed_needs_no_cookie(server: LiveServer) -> None:
    url = server.base_url.replace("http://", "ws://") + "/ws/live"
    with connect(url, open_timeout=5) as ws:
        assert '"hello"' in str(ws.recv(timeout=5))


def test_existing_login_helper_works_with_testclient(sqlite_db: str) -> None:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db))
    with TestClient(create_app(services.settings, services)) as client:
        assert client.get("/api/plans").status_code == 401
        login_client(client, services.engine, "Ann")
        assert client.get("/api/plans").status_code == 200
        assert client.post("/api/auth/logout").status_code == 204
        log_in(client, "Ann")
        assert client.get("/api/plans").status_code == 200


# --- agility coach add ---


def test_cli_adds_a_coach_from_stdin(
    sqlite_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEST_PASSWORD + "\nignored\n"))
    assert main(["coach", "add", "Ann Lee", "--db", sqlite_db]) == 0
    assert "coach 'Ann Lee' added" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEST_PASSWORD + "\n"))
    assert main(["coach", "add", "Ann Lee", "--db", sqlite_db]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["coach", "add", "Bo", "--db", sqlite_db]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    engine = make_engine(sqlite_db)
    auth = AuthService(engine)
    assert auth.login("Ann Lee", TEST_PASSWORD, "127.0.0.1").coach.name == "Ann Lee"
    assert not auth.setup_needed()
    engine.dispose()


def test_cli_asks_twice_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter([TEST_PASSWORD, TEST_PASSWORD + "x"])
    with pytest.raises(ValueError, match="differ"):
        auth_cli.read_password(Tty(), prompt=lambda _: next(answers))
    same = iter([TEST_PASSWORD, TEST_PASSWORD])
    assert auth_cli.read_password(Tty(), prompt=lambda _: next(same)) == TEST_PASSWORD


def test_cli_process_takes_the_database_from_agility_db(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "agility.db"
    env = {**os.environ, "AGILITY_DB": str(db)}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "coach", "add", "Ann"],
        input=TEST_PASSWORD + "\n", capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = make_engine(str(db))
    assert AuthService(engine).login("Ann", TEST_PASSWORD, "127.0.0.1").coach.id == 1
    engine.dispose()
