"""Helpers for the browser tests: the server handle, a coach's API client, plans run on the
simulated hub, signing a page in, and a watch on what a page fetches and which errors it throws."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.auth_support import TEST_PASSWORD, ensure_coach, log_in
from tests.support import free_port, server_process

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
COACH = "coach"
OVER = ("finished", "aborted", "missed")


@dataclass(frozen=True)
class SimServer:
    base_url: str
    db: str
    log: Path


@contextmanager
def sim_server_at(db: str, log: Path) -> Iterator[SimServer]:
    """tests/web/sim_server.py on a free loopback port, serving `db` (made if missing)."""
    port = free_port()
    args = [sys.executable, "-m", "tests.web.sim_server", "--db", db, "--port", str(port)]
    with server_process(args, port, log, "test server", cwd=ROOT) as (_proc, base):
        yield SimServer(base, db, log)


@contextmanager
def coach_client(server: SimServer) -> Iterator[httpx.Client]:
    """An API client signed in as the test coach (made if missing, as `agility coach add`)."""
    ensure_coach(server.db, COACH, TEST_PASSWORD)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield log_in(client, COACH, TEST_PASSWORD)


def plan(
    name: str, drill: str, athletes: list[str], reps: int = 1, countdown_s: float = 0.5
) -> dict[str, Any]:
    """A one-block plan for team U16, no rest: reps follow each other within seconds."""
    block = {"drill": drill, "reps": reps, "rest_s": 0, "athletes": athletes}
    return {"name": name, "team": "U16", "countdown_s": countdown_s, "blocks": [block]}


def start_plan(client: httpx.Client, body: dict[str, Any]) -> int:
    """Creates the plan and starts a session now; its id."""
    res = client.post("/api/plans", json=body)
    assert res.status_code == 201, res.text
    res = client.post(f"/api/plans/{res.json()['id']}/sessions", json={"at": None})
    assert res.status_code == 200, res.text
    return int(res.json()["id"])


def wait_session(client: httpx.Client, session_id: int, timeout_s: float = 90) -> dict[str, Any]:
    """Waits until the session is over; its last state."""
    deadline = time.monotonic() + timeout_s
    while True:
        info: dict[str, Any] = client.get(f"/api/plans/sessions/{session_id}").json()
        if info["state"] in OVER:
            return info
        assert time.monotonic() < deadline, f"session {session_id} still {info['state']}"
        time.sleep(0.3)


def wait_lane_free(client: httpx.Client, timeout_s: float = 90) -> None:
    """No session running: the one lane of the simulated hub is free for the next test."""
    deadline = time.monotonic() + timeout_s
    while client.get("/api/plans/sessions", params={"session_state": "running"}).json():
        assert time.monotonic() < deadline, "a session is still running"
        time.sleep(0.3)


def run_plan(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    wait_lane_free(client)
    info = wait_session(client, start_plan(client, body))
    assert info["state"] == "finished", info
    return info


def sign_in(page: Any, server: SimServer, next_path: str = "/console") -> None:
    """Through the sign-in page, as a coach would; ends on the console, ready."""
    ensure_coach(server.db, COACH, TEST_PASSWORD)
    page.goto(f"{server.base_url}/setup?next={next_path}")
    page.wait_for_selector("#login-section:not([hidden])")
    page.fill("#login-name", COACH)
    page.fill("#login-password", TEST_PASSWORD)
    page.click("#login-section button[type=submit]")
    page.wait_for_url(f"**{next_path}*")
    if next_path.startswith("/console"):
        page.wait_for_selector("body[data-ready=true]", timeout=15_000)


@dataclass
class PageWatch:
    """What a page asked for outside the app's origin, and the script errors it threw."""

    origin: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> PageWatch:
        ws_origin = self.origin.replace("http://", "ws://")

        def on_request(request: Any) -> None:
            if not request.url.startswith((self.origin + "/", ws_origin + "/")):
                self.outside.append(request.url)

        def on_socket(socket: Any) -> None:
            if not socket.url.startswith(ws_origin + "/"):
                self.outside.append(socket.url)

        page.on("request", on_request)
        page.on("websocket", on_socket)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return self


def screenshot(page: Any, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)
