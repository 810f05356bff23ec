"""Database engine and migrations: an SQLite file (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlmodel import create_engine

from server.errors import AppError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


SUPPORTED_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")
"""The databases the migrations and queries are tested on; others (mysql://) have no driver."""


class UnsupportedDatabaseError(AppError):
    """A database URL of a kind this program cannot use."""


def normalise_url(db: str) -> str:
    """Accept a bare file path for SQLite, and `postgresql://` meaning the psycopg 3 driver."""
    if "://" not in db:
        return sqlite_url(db)
    scheme = db.split("://", 1)[0].lower()
    if scheme not in SUPPORTED_SCHEMES:
        raise UnsupportedDatabaseError(
            f"unsupported database URL {scheme}://...: give an SQLite file path, "
            "sqlite:///FILE or postgresql://USER@HOST/NAME"
        )
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return db


def _ensure_sqlite_folder(url: str) -> None:
    """A fresh clone has no var/ yet: SQLite can create the file but not its folder."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def make_engine(db: str) -> Engine:
    url = normalise_url(db)
    _ensure_sqlite_folder(url)
    if url.startswith("sqlite:///"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the leaderboard read while a split is being written; NORMAL sync is durable
    # against a crashed process (not a power cut mid-commit), and keeps commits to ~1 ms.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def alembic_config(db: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(db).replace("%", "%%"))
    return cfg


def migrate(db: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run at every start."""
    _ensure_sqlite_folder(normalise_url(db))
    command.upgrade(alembic_config(db), revision)
