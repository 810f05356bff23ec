"""Shared fixtures: free loopback ports, migrated databases, a real demo server process."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import PG_ADMIN_URL, DemoServer, free_port, skip_or_fail


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return str(tmp_path / "agility.db")


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A fresh PostgreSQL database per test, dropped afterwards."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the driver raises several kinds when nothing listens
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
        raise AssertionError("unreachable") from exc
    name = f"agility_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo", "--port", str(port), "--db", db,
             "--seed", "7"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"demo server exited early:\n{log.read_text()}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"demo server not up in 30 s:\n{log.read_text()}")
        time.sleep(0.2)
    try:
        yield DemoServer(base, db, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
