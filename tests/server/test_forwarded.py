"""Forwarded headers: believed only from a reverse proxy named with --trusted-proxy.

A loopback test has 127.0.0.1 for every peer, so the decision is tested three ways: the
function that makes it (any peer, any header); the whole app in process with a LAN peer
(httpx's ASGI transport sets the peer); and `agility serve` itself over real HTTP, with the
uvicorn options it launches with, where a header must change nothing by default.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from server.app import build_services, create_app
from server.auth.forwarded import TrustedProxies, apply_forwarded, parse_address
from server.cli import main
from server.config import Settings
from server.db.session import migrate
from tests.auth_support import TEST_PASSWORD, ensure_coach
from tests.support import free_port

LAN_PHONE = "192.168.1.20"


def _csrf() -> dict[str, str]:
    return {"X-CSRF-Token": "t", "Cookie": "agility_csrf=t"}


# --- the decision, without HTTP ---


def test_by_default_no_header_is_believed() -> None:
    none = TrustedProxies()
    assert none.client_host(LAN_PHONE, ["127.0.0.1"]) == LAN_PHONE
    assert none.client_host("127.0.0.1", ["192.168.1.20"]) == "127.0.0.1"
    assert none.forwarded_scheme("127.0.0.1", ["https"]) is None


def test_a_peer_that_is_not_a_named_proxy_is_not_believed() -> None:
    proxies = TrustedProxies.parse(["10.0.0.2"])
    assert proxies.client_host(LAN_PHONE, ["127.0.0.1"]) == LAN_PHONE
    assert proxies.client_host(LAN_PHONE, ["::1"]) == LAN_PHONE
    assert proxies.client_host("::ffff:192.168.1.20", ["127.0.0.1"]) == "::ffff:192.168.1.20"


def test_through_a_named_proxy_the_address_it_appended_counts() -> None:
    proxies = TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8"])
    # The phone wrote 127.0.0.1 itself; the proxy appended the phone's real address.
    assert proxies.client_host("127.0.0.1", [f"127.0.0.1, {LAN_PHONE}"]) == LAN_PHONE
    # Two proxies: the first untrusted address from the right, on split header lines too.
    assert proxies.client_host("10.0.0.3", [f"1.2.3.4, {LAN_PHONE}", "10.0.0.2"]) == LAN_PHONE
    assert proxies.client_host("127.0.0.1", [f"{LAN_PHONE}:5123"]) == LAN_PHONE
    assert proxies.client_host("127.0.0.1", ["[2001:db8::7]:443"]) == "2001:db8::7"
    # The laptop's own browser through the proxy on the laptop is still the laptop.
    assert proxies.client_host("127.0.0.1", ["127.0.0.1"]) == "127.0.0.1"
    # The proxy sent no header: the proxy's own address.
    assert proxies.client_host("127.0.0.1", []) == "127.0.0.1"
    # A hop the proxy wrote that is no address: nobody in particular, and not the laptop.
    assert proxies.client_host("127.0.0.1", ["unknown"]) is None
    assert proxies.forwarded_scheme("127.0.0.1", ["http, https"]) == "https"
    assert proxies.forwarded_scheme(LAN_PHONE, ["https"]) is None


def test_addresses_parse_as_written_in_headers() -> None:
    assert str(parse_address("::ffff:127.0.0.1")) == "127.0.0.1"
    assert str(parse_address(' "[::1]:80" ')) == "::1"
    assert parse_address("testclient") is None and parse_address("[::1") is None


def test_trusting_everyone_is_refused() -> None:
    for wrong in ["*", "", "proxy.lan", "10.0.0.300"]:
        with pytest.raises(ValueError):
            TrustedProxies.parse([wrong])
        with pytest.raises(ValueError):
            Settings(trusted_proxies=(wrong,))


def test_rfc7239_forwarded_is_never_read() -> None:
    # A proxy that sets only X-Forwarded-For passes a client's own Forwarded header on.
    scope: Any = {
        "type": "http",
        "client": ("127.0.0.1", 40000),
        "headers": [(b"forwarded", b"for=127.0.0.1;proto=https")],
    }
    apply_forwarded(scope, TrustedProxies.parse(["127.0.0.1"]))
    assert scope["client"] == ("127.0.0.1", 40000) and "scheme" not in scope
    scope["headers"] = [(b"x-forwarded-for", LAN_PHONE.encode()), (b"x-forwarded-proto", b"https")]
    apply_forwarded(scope, TrustedProxies.parse(["127.0.0.1"]))
    assert scope["client"] == (LAN_PHONE, 0) and scope["scheme"] == "https"


# --- the whole app, in process, with a phone on the LAN as the peer ---


def _from_phone(sqlite_db: str, trusted: tuple[str, ...], calls: list[dict[str, Any]]) -> list[int]:
    migrate(sqlite_db)
    services = build_services(Settings(db=sqlite_db, trusted_proxies=trusted))
    app: Any = create_app(services.settings, services)  # httpx types ASGI apps more narrowly

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(LAN_PHONE, 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://agility.lan") as c:
            return [(await c.post(call.pop("path"), **call)).status_code for call in calls]

    try:
        return asyncio.run(run())
    finally:
        services.engine.dispose()


def test_a_phone_claiming_to_be_the_laptop_gets_no_setup(sqlite_db: str) -> None:
    forged = {**_csrf(), "X-Forwarded-For": "127.0.0.1"}
    body = {"name": "Mallory", "password": TEST_PASSWORD}
    for trusted in [(), ("10.0.0.2",)]:
        calls = [{"path": "/api/auth/setup", "json": body, "headers": forged}]
        assert _from_phone(sqlite_db, trusted, calls) == [403], trusted


def test_a_phone_claiming_to_be_the_laptop_is_still_throttled(sqlite_db: str) -> None:
    migrate(sqlite_db)
    ensure_coach(sqlite_db, "Ann")
    forged = {**_csrf(), "X-Forwarded-For": "127.0.0.1"}
    wrong = {"path": "/api/auth/login", "json": {"name": "Ann", "password": "x" * 12}}
    right = {"path": "/api/auth/login", "json": {"name": "Ann", "password": TEST_PASSWORD}}
    calls = [{**wrong, "headers": forged} for _ in range(3)] + [{**right, "headers": forged}]
    assert _from_phone(sqlite_db, (), calls) == [401, 401, 401, 429]


# --- `agility serve` itself, over real HTTP on loopback ---


@dataclass(frozen=True)
class Launched:
    base_url: str
    db: str
    options: dict[str, Any]


@contextmanager
def launched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> Iterator[Launched]:
    """`agility serve ARGS` up to the point it calls uvicorn.run; then uvicorn runs that app
    with those very options in a thread, until the `with` ends."""
    captured: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        captured.update(app=app, options=options)

    monkeypatch.setattr(uvicorn, "run", run)
    port = free_port()
    db = str(tmp_path / "agility.db")
    assert main(["serve", "--db", db, "--port", str(port), *args]) == 0
    config = uvicorn.Config(captured["app"], **{**captured["options"], "log_level": "warning"})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"agility-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError(f"agility serve on port {port} did not start")
        time.sleep(0.02)
    try:
        yield Launched(f"http://127.0.0.1:{port}", db, captured["options"])
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _setup(base_url: str, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        body = {"name": "Ann", "password": TEST_PASSWORD}
        return client.post("/api/auth/setup", json=body, headers={**_csrf(), **headers})


def test_serve_ignores_forwarded_headers_even_with_forwarded_allow_ips_star(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    monkeypatch.delenv("AGILITY_TRUSTED_PROXIES", raising=False)
    with launched(monkeypatch, tmp_path) as live:
        assert live.options.get("proxy_headers") is False
        # Had the header been believed, the laptop would have been taken for a phone: so
        # a phone's "127.0.0.1" would have been believed just the same.
        res = _setup(live.base_url, {"X-Forwarded-For": LAN_PHONE})
        assert res.status_code == 201, res.text


def test_serve_with_a_trusted_proxy_sees_the_phone_behind_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AGILITY_TRUSTED_PROXIES", raising=False)
    with launched(monkeypatch, tmp_path, "--trusted-proxy", "127.0.0.1") as live:
        # A phone that wrote 127.0.0.1 itself, behind a proxy that appended its address.
        forged = _setup(live.base_url, {"X-Forwarded-For": f"127.0.0.1, {LAN_PHONE}"})
        assert forged.status_code == 403 and "only on the laptop" in forged.text
        # The laptop's own browser, straight to the server.
        assert _setup(live.base_url, {}).status_code == 201


def test_serve_refuses_a_wildcard_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--db", str(tmp_path / "a.db"), "--trusted-proxy", "*"])
    assert "trusting every address" in capsys.readouterr().err
    monkeypatch.setenv("AGILITY_TRUSTED_PROXIES", "10.0.0.2, nonsense")
    assert main(["serve", "--db", str(tmp_path / "a.db"), "--port", str(free_port())]) == 2
    assert "AGILITY_TRUSTED_PROXIES" in capsys.readouterr().err
