"""`agility migrate`, and the migration `agility serve` runs first: a file that is not a
database, or a database that cannot be reached, is one line, not SQLAlchemy's traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

from server.db.session import migrate, normalise_url
from server.errors import AppError

SQLITE_MAGIC = b"SQLite format 3\x00"


def checked_migrate(db: str) -> None:
    """Migrate `db`, refusing a folder or a file of another kind (a CSV export, a plan)."""
    from sqlalchemy.exc import SQLAlchemyError

    url = normalise_url(db)  # an unsupported URL raises a one-line AppError
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.is_dir():
            raise AppError(f"{db} is a folder, not a database file")
        if path.is_file() and path.stat().st_size > 0:
            with path.open("rb") as file:
                head = file.read(len(SQLITE_MAGIC))
            if head != SQLITE_MAGIC:
                raise AppError(f"{db} is not an SQLite database; give the database file "
                               "(default var/agility.db) or a postgresql:// URL")  # fmt: skip
    try:
        migrate(db)
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        raise AppError(f"cannot migrate {db}: {first}") from None


def cmd_migrate(args: argparse.Namespace) -> int:
    checked_migrate(args.db)
    print(f"database {args.db} is at the latest schema")
    return 0
