"""Throwaway PostgreSQL databases for tests and benchmarks: made fresh, dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from server.db.session import normalise_url


def postgres_reachable(admin_url: str) -> str | None:
    """None when the server answers, else what went wrong (for a skip or a report)."""
    try:
        admin = create_engine(normalise_url(admin_url))
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as exc:  # the driver raises several kinds when nothing listens
        return f"PostgreSQL not reachable at {admin_url}: {exc.__class__.__name__}"
    return None


@contextmanager
def scratch_postgres(admin_url: str, prefix: str = "agility") -> Iterator[str]:
    """A new empty database on the server of `admin_url`; yields its URL, drops it after
    (WITH FORCE, so a connection a test left open cannot keep it alive)."""
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
