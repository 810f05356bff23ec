"""Helpers shared by tests: what may be skipped where, free ports, the demo server handle."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get(
    "AGILITY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CHROMIUM = "/usr/bin/chromium"


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
