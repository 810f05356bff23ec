"""Shared fixtures: free loopback ports, migrated databases, a real demo server process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.db.scratch import postgres_reachable, scratch_postgres
from tests.support import PG_ADMIN_URL, DemoServer, free_port, server_process, skip_or_fail


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return str(tmp_path / "agility.db")


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A fresh PostgreSQL database per test, dropped afterwards."""
    problem = postgres_reachable(PG_ADMIN_URL)
    if problem is not None:
        skip_or_fail(problem)
    with scratch_postgres(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "agility.db")
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`agility demo` as a newcomer runs it: a real process, uvicorn on a loopback port."""
    tmp = tmp_path_factory.mktemp("demo")
    port = free_port()
    db = str(tmp / "var" / "demo.db")  # a folder that does not exist yet, as on a fresh clone
    log = tmp / "server.log"
    args = [sys.executable, "-m", "server.cli", "demo", "--port", str(port), "--db", db,
            "--seed", "7"]  # fmt: skip
    with server_process(args, port, log, "demo server") as (proc, base):
        yield DemoServer(base, db, proc, log)
