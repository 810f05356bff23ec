"""`agility export`: a team's reps as CSV, XLSX or PDF, from any database the server can use.

Every team and every date unless --team, --from or --to narrow it (days are UTC, inclusive).
Without --db the database is AGILITY_DB from the environment, else var/agility.db.
Exit status: 0 written; 1 nothing to export (no reps in scope, or every rep voided, practice,
a false start or unfinished: the reason is printed and no file is written, so a script can
tell an empty export from a real one); 2 a usage error (bad date, unknown team or norm,
no such database, an unsupported database URL, or one whose schema is older than this
program: `agility migrate` it; --out in a folder that does not exist, or not writable).
The database is only read. Messages and the progress bar go to stderr; stdout carries the
file only with `--out -`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.config import Settings
from server.errors import AppError
from server.reports.data import NothingToExportError, Progress, make_scope
from server.reports.service import (
    FORMATS,
    ExportResult,
    load_summary,
    parse_norm_choices,
    write_export,
)
from server.reports.summary import TeamSummary

EXIT_EMPTY = 1
EXIT_USAGE = 2


def _fail(message: str, status: int) -> int:
    print(f"agility export: {message}", file=sys.stderr)
    return status


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar on stderr, only for a person watching a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    bar = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TaskProgressColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("reading", total=None)

    def update(what: str, done: int, total: int) -> None:
        bar.update(task, description=what, completed=done, total=total or None)

    with bar:
        yield update


def _database(db: str | None) -> str:
    chosen = db or Settings().db
    if "://" not in chosen and not Path(chosen).expanduser().is_file():
        raise AppError(f"no database at {chosen} (pass --db FILE or set AGILITY_DB)")
    return chosen


def _check_out(out: str) -> None:
    """Refuse before reading a season: --out must name a file in a folder that exists."""
    if out == "-":
        return
    path = Path(out)
    if path.is_dir():
        raise AppError(f"--out {out} is a folder; name the file to write, e.g. {path / 'team.csv'}")
    folder = path.parent
    if not folder.is_dir():
        raise AppError(f"--out {out}: no folder {folder} (create it first)")


def run_export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from server.catalog.service import Catalog
    from server.db.session import make_engine

    try:
        scope = make_scope(args.team, args.date_from, args.date_to)
        choices = parse_norm_choices(args.norm)
        _check_out(args.out)
        db = _database(args.db)
        # Read-only: no migration here (an export must not change the database it reads).
        engine = make_engine(db)
    except AppError as exc:
        return _fail(f"error: {exc}", EXIT_USAGE)
    to_stdout = args.out == "-"
    show = not args.quiet and sys.stderr.isatty()
    try:
        with _progress(show) as progress:
            summary = load_summary(engine, scope, Catalog.load().drills, choices, progress)
            if to_stdout:
                result = _to_stdout(summary, args.fmt, progress)
            else:
                result = write_export(summary, args.fmt, Path(args.out), progress)
    except NothingToExportError as exc:
        return _fail(str(exc), EXIT_EMPTY)
    except AppError as exc:
        return _fail(f"error: {exc}", EXIT_USAGE)
    except BrokenPipeError:
        raise  # `--out - | head`: server/cli.py stops quietly
    except OSError as exc:
        return _fail(f"error: cannot write {args.out}: {exc.strerror or exc}", EXIT_USAGE)
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0]
        return _fail(
            f"error: cannot read {db} ({first}); a database from an older version "
            f"needs `agility migrate --db {db}` first",
            EXIT_USAGE,
        )
    finally:
        engine.dispose()
    if not args.quiet:
        pages = f", {result.pages} pages" if result.pages else ""
        where = "stdout" if to_stdout else str(result.path)
        print(
            f"wrote {where} ({args.fmt}): {result.athletes} athletes, {result.valid_reps} "
            f"valid reps of {result.reps}{pages}",
            file=sys.stderr,
        )
    return 0


def _to_stdout(summary: TeamSummary, fmt: str, progress: Progress | None) -> ExportResult:
    with tempfile.TemporaryDirectory(prefix="agility-export-") as folder:
        result = write_export(summary, fmt, Path(folder) / f"out.{FORMATS[fmt][1]}", progress)
        with result.path.open("rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    return result
