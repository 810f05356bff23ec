"""Writing a row found by its unique key, when a parallel request may be creating it too."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

RowT = TypeVar("RowT", bound=SQLModel)


def save_row(
    engine: Engine, find: Callable[[Session], RowT], fill: Callable[[RowT], None]
) -> RowT | None:
    """Commit `fill` applied to the row `find` returns (the stored one, or a new one).

    Two requests may both find no row and both insert it; the later commit then breaks the
    unique key. That one tries once more, finds the row the other made and updates it. The
    row comes back loaded, for the caller to read after the session has closed; None when
    the second try failed too, which the caller reports in its own words.
    """
    for _ in range(2):
        with Session(engine) as session:
            row = find(session)
            fill(row)
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            session.refresh(row)
            return row
    return None
