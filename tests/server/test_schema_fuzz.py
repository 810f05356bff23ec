"""Schema fuzzing, signed in as the coach (issue 16): schemathesis sends requests built from
the app's own OpenAPI document, valid and invalid ones, to the real app on loopback; no
answer may be a 5xx. Bounded: EXAMPLES per operation and mode, about a minute in all.

A failure lists each 5xx once per operation with a curl command that replays it (the 500's
body has the request id; the test's log has the traceback under it).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err, Ok

from server.db.session import migrate
from tests.auth_support import LiveServer, login_client, serve

EXAMPLES = 25  # per operation and generation mode
# Signing out would sign the fuzzer out for every later request.
SKIPPED = {("POST", "/api/auth/logout")}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = str(tmp_path_factory.mktemp("fuzz") / "agility.db")
    migrate(db)
    with serve(db) as server:
        yield server


def _signed_in(live: LiveServer) -> requests.Session:
    """A requests session holding the coach's cookies and CSRF header (what login_client
    leaves on an httpx client)."""
    with contextlib.closing(login_client(live.base_url, live.services.engine)) as client:
        session = requests.Session()
        for name, value in client.cookies.items():
            session.cookies.set(name, value)
        session.headers["X-CSRF-Token"] = client.headers["X-CSRF-Token"]
    return session


def test_no_request_from_the_schema_gets_a_5xx(live: LiveServer) -> None:
    session = _signed_in(live)
    raw = session.get(f"{live.base_url}/schema/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(raw)
    sent = 0
    failures: dict[str, str] = {}
    started = time.monotonic()

    def call(case: Any) -> None:
        nonlocal sent
        res = case.call(base_url=live.base_url, session=session, timeout=30)
        sent += 1
        if res.status_code >= 500 and case.operation.label not in failures:
            curl = case.as_curl_command()
            failures[case.operation.label] = f"{res.status_code} {res.text[:300]}\n    {curl}"

    results = list(schema.get_all_operations())
    assert not [str(r.err()) for r in results if isinstance(r, Err)], "operations it cannot read"
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation.as_strategy(generation_mode=mode), call)
    elapsed = time.monotonic() - started
    print(f"fuzz: {len(operations)} operations, {sent} requests, {len(failures)} with a 5xx, "
          f"{elapsed:.0f} s")  # fmt: skip
    assert session.get(f"{live.base_url}/api/auth/me", timeout=10).json()["coach"], "signed out"
    assert sent > len(operations) * EXAMPLES
    assert not failures, "5xx answers:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())


def _run(strategy: Any, call: Any) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests on every run
        phases=[Phase.generate],  # no shrinking: a 5xx is recorded, not raised
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def each(case: Any) -> None:
        call(case)

    # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
    with contextlib.suppress(Unsatisfiable):
        each()
