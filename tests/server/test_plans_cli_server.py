"""`agility plans ... --server URL` against a real server on loopback (issue 16, item 19): it
signs in as the coach, as the console does (session cookie, CSRF token), then lists, starts
and pauses a session; without the coach's name or password it says how to give them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.auth_support as auth_support
from server.app import Services, build_services
from server.cli import main
from server.config import Settings
from server.db.session import migrate
from server.plans.runner import Phase
from tests.auth_support import TEST_PASSWORD, LiveServer, ensure_coach, serve

PLAN = (
    'name = "From the terminal"\ncountdown_s = 0.5\n[[blocks]]\ndrill = "sprint-10m"\n'
    'reps = 5\nathletes = ["Ada", "Bo"]\n'
)


@pytest.fixture
def live(sqlite_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The server, its reps run by virtual athletes on a simulated hub."""
    migrate(sqlite_db)
    ensure_coach(sqlite_db, "coach", TEST_PASSWORD)

    def with_sim(settings: Settings) -> Services:
        services = build_services(settings)
        services.plans.use_simulator(services.devices, seed=7)
        return services

    monkeypatch.setattr(auth_support, "build_services", with_sim)
    monkeypatch.delenv("AGILITY_COACH", raising=False)
    monkeypatch.delenv("AGILITY_PASSWORD", raising=False)
    with serve(sqlite_db) as server:
        yield server


def _agility(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_without_credentials_it_says_how_to_give_them(
    live: LiveServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _agility(capsys, "plans", "list", "--server", live.base_url)
    assert code == 2
    assert "needs a coach's sign-in" in err
    assert "--coach NAME" in err and "$AGILITY_PASSWORD" in err, err
    monkeypatch.setenv("AGILITY_PASSWORD", "not-the-password")
    code, _, err = _agility(capsys, "plans", "list", "--server", live.base_url, "--coach", "coach")
    assert code == 2 and "refused the sign-in as 'coach'" in err, err


def test_lists_starts_and_pauses_a_session(
    live: LiveServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AGILITY_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("AGILITY_COACH", "coach")  # as --coach coach
    plan = tmp_path / "warm-up.toml"
    plan.write_text(PLAN)
    server = ("--server", live.base_url)

    code, out, err = _agility(capsys, "plans", "start", str(plan), *server)
    assert code == 0, err
    assert out.startswith("session 1: "), out

    plans = live.services.plans
    deadline = time.monotonic() + 20
    while 1 not in plans.runners or plans.runners[1].phase is not Phase.RUNNING:
        assert time.monotonic() < deadline, "the first rep did not start"
        time.sleep(0.05)

    code, out, err = _agility(capsys, "plans", "list", "--json", *server)
    assert code == 0, err
    listed = json.loads(out)
    assert [p["name"] for p in listed["plans"]] == ["From the terminal"]
    assert [(s["id"], s["state"]) for s in listed["sessions"]] == [(1, "running")]

    code, out, err = _agility(capsys, "plans", "pause", "1", *server, "--coach", "coach")
    assert (code, out.strip()) == (0, "session 1: paused"), err
    assert plans.store.session_info(1).reason == "paused by the coach"

    code, out, err = _agility(capsys, "plans", "abort", "1", *server)
    assert (code, out.strip()) == (0, "session 1: aborted"), err
