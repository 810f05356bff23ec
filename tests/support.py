"""Helpers shared by tests: what may be skipped where, free ports, the demo server handle,
waiting for a condition."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypeVar

import httpx
import pytest

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get(
    "AGILITY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CHROMIUM = "/usr/bin/chromium"
# A look over HTTP costs the server under test a request (and, in-process, its share of the
# GIL): such waits look every 50 ms rather than every 5.
HTTP_POLL_S = 0.05

T = TypeVar("T")


def skip_or_fail(reason: str) -> None:
    """Optional parts may be missing on a laptop, never in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoServer:
    def __init__(self, base_url: str, db: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/ws/live"
        self.db = db
        self.proc = proc
        self.log = log


@contextmanager
def server_process(
    args: Sequence[str], port: int, log: Path, what: str, cwd: Path | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start a server process, wait until its /healthz answers (30 s at most), stop it after.

    Its output goes to `log`, which a failure quotes, since a server that will not start
    says why there.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(list(args), stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{what} exited early:\n{log.read_text()}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not up in 30 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield proc, base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_until(
    what: str,
    check: Callable[..., T | Literal[False] | None],
    timeout_s: float = 30.0,
    *,
    poll_s: float = 0.005,
) -> T:
    """Wait for something to happen instead of sleeping as long as it usually takes: poll
    `check` until it is true and give back what it returned, so a test can wait for a value and
    use it. The timeout is a bound for a broken build, not an estimate, so a loaded machine makes
    the test slower, never red. A check over HTTP passes `poll_s=HTTP_POLL_S`. `check` is called
    with no arguments; it is typed `...` so that a lambda may bind a loop's value as a default."""
    deadline = time.monotonic() + timeout_s
    while not (got := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(poll_s)
    return got


async def wait_until_async(
    what: str, check: Callable[..., T | Literal[False] | None], timeout_s: float = 30.0
) -> T:
    """wait_until on the asyncio loop: it yields between looks, so the loop does the work."""
    deadline = time.monotonic() + timeout_s
    while not (got := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.005)
    return got
