"""Sign-in throttling: per client address, growing delays, and never the laptop itself.

Issue 16: five wrong guesses at the coach's name used to lock the real coach out for five
minutes, from anywhere, so anyone on the LAN could keep the coach out all session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.auth.ratelimit import (
    FIRST_DELAY_S,
    FORGET_AFTER_S,
    FREE_FAILURES,
    MAX_DELAY_S,
    LoginThrottle,
    address_key,
    delay_after_s,
)
from server.auth.service import AuthService
from server.db.session import make_engine, migrate
from server.errors import NotAuthorizedError, TooManyAttemptsError
from tests.auth_support import TEST_PASSWORD, csrf_headers, ensure_coach, serve
from tests.server.test_forwarded import launched

PHONE = "192.168.1.20"
OTHER_PHONE = "192.168.1.30"
LAPTOP = "127.0.0.1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the throttle alone ---


def test_delays_start_after_a_few_failures_and_double_up_to_a_cap() -> None:
    assert [delay_after_s(n) for n in range(FREE_FAILURES)] == [0.0] * FREE_FAILURES
    grown = [delay_after_s(FREE_FAILURES + k) for k in range(4)]
    assert grown == [FIRST_DELAY_S * 2**k for k in range(4)]
    assert delay_after_s(FREE_FAILURES + 30) == delay_after_s(10_000) == MAX_DELAY_S


def test_each_further_attempt_waits_longer() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES):
        assert throttle.charge(PHONE) == 0, "typos cost nothing"
    waits = []
    for _ in range(8):
        wait = throttle.charge(PHONE)
        assert wait > 0, "too early: refused, and not counted"
        assert throttle.charge(PHONE) == wait, "a refused attempt does not lengthen the wait"
        waits.append(wait)
        clock.now += wait
        assert throttle.charge(PHONE) == 0, "heard again once the wait is over"
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    throttle.clear(PHONE)
    assert throttle.retry_after_s(PHONE) == 0, "a good sign-in forgives the address"


def test_addresses_are_counted_apart_and_forgotten_when_quiet() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_FAILURES + 1):
        throttle.charge(PHONE)
    assert throttle.retry_after_s(PHONE) > 0
    assert throttle.retry_after_s(OTHER_PHONE) == 0 and throttle.charge(OTHER_PHONE) == 0
    clock.now += FORGET_AFTER_S
    assert throttle.retry_after_s(PHONE) == 0
    assert throttle.charge(PHONE) == 0 and throttle.charge(PHONE) == 0, "counting from one"


def test_an_ipv6_phone_counts_as_its_network() -> None:
    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:aaaa::9")
    assert address_key("2001:db8:1:2::5") != address_key("2001:db8:1:3::5")
    assert address_key("::ffff:192.168.1.20") == PHONE and address_key(None) == "?"
    throttle = LoginThrottle(clock=Clock())
    for i in range(FREE_FAILURES + 1):
        throttle.charge(f"2001:db8:1:2::{i + 1:x}")
    assert throttle.retry_after_s("2001:db8:1:2::ffff") > 0, "a new address, the same phone"


def test_memory_is_bounded_however_many_addresses_guess() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock, max_addresses=100)
    for i in range(5000):
        throttle.charge(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        clock.now += 0.01
    assert len(throttle) == 100
    clock.now += FORGET_AFTER_S
    throttle.charge(PHONE)
    assert len(throttle) == 1, "quiet records go first"


# --- through AuthService, with addresses a loopback test cannot have ---


@pytest.fixture
def auth(sqlite_db: str) -> Iterator[AuthService]:
    migrate(sqlite_db)
    engine = make_engine(sqlite_db)
    service = AuthService(engine, throttle=LoginThrottle(clock=Clock()))
    service.add_coach("Ann", TEST_PASSWORD)
    yield service
    engine.dispose()


def _guess(auth: AuthService, host: str, times: int, name: str = "Ann") -> None:
    for _ in range(times):
        with pytest.raises((NotAuthorizedError, TooManyAttemptsError)):
            auth.login(name, "wrong password", host)


def test_guessing_at_the_coachs_name_does_not_lock_the_coach_out(auth: AuthService) -> None:
    _guess(auth, PHONE, 20)
    assert auth.login("Ann", TEST_PASSWORD, OTHER_PHONE).coach.name == "Ann"
    assert auth.login("Ann", TEST_PASSWORD, LAPTOP).coach.name == "Ann"


def test_the_guessing_phone_itself_waits(auth: AuthService) -> None:
    _guess(auth, PHONE, FREE_FAILURES, name="Nobody")
    with pytest.raises(TooManyAttemptsError, match="try again in 1 seconds") as caught:
        auth.login("Ann", TEST_PASSWORD, PHONE)
    assert caught.value.retry_after_s == 1


def test_the_laptop_is_never_held_back(auth: AuthService) -> None:
    for _ in range(FREE_FAILURES + 5):
        with pytest.raises(NotAuthorizedError):
            auth.login("Ann", "wrong password", LAPTOP)
    assert auth.login("Ann", TEST_PASSWORD, "::1").coach.name == "Ann"
    assert auth.login("Ann", TEST_PASSWORD, LAPTOP).coach.name == "Ann"


# --- over real HTTP ---


def _login(client: httpx.Client, password: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = csrf_headers(client)
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return client.post(
        "/api/auth/login", json={"name": "Ann", "password": password}, headers=headers
    )


def test_the_laptop_signs_in_after_any_number_of_failures(sqlite_db: str) -> None:
    migrate(sqlite_db)
    ensure_coach(sqlite_db, "Ann")
    with serve(sqlite_db) as live, httpx.Client(base_url=live.base_url, timeout=10) as client:
        for _ in range(8):
            assert _login(client, "bad" * 4).status_code == 401
        assert _login(client, TEST_PASSWORD).status_code == 200


def test_a_phone_behind_the_proxy_waits_and_others_do_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The server behind a reverse proxy on the laptop: X-Forwarded-For names each phone."""
    monkeypatch.delenv("AGILITY_TRUSTED_PROXIES", raising=False)
    with launched(monkeypatch, tmp_path, "--trusted-proxy", LAPTOP) as live:
        ensure_coach(live.db, "Ann")
        with httpx.Client(base_url=live.base_url, timeout=10) as client:
            for _ in range(FREE_FAILURES):
                assert _login(client, "bad" * 4, PHONE).status_code == 401
            blocked = _login(client, TEST_PASSWORD, PHONE)
            assert blocked.status_code == 429, "even the right password waits its turn"
            assert blocked.headers["Retry-After"] == "1"
            assert "too many failed sign-ins from this device" in blocked.json()["detail"]
            assert _login(client, TEST_PASSWORD, OTHER_PHONE).status_code == 200
            assert _login(client, TEST_PASSWORD).status_code == 200, "the laptop, no proxy"
            time.sleep(float(blocked.headers["Retry-After"]) + 0.1)  # the block runs out
            assert _login(client, TEST_PASSWORD, PHONE).status_code == 200
