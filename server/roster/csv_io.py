"""Roster CSV: the template, import with a report per row, and export in the same columns.

Coaches keep squads in spreadsheets, so line numbers are the spreadsheet's rows (the header
is row 1), Excel's UTF-8 byte-order mark is accepted, and a file that cannot be read at all
(not UTF-8, wrong header, empty) is refused whole with one clear message.

On import, a column missing from the header leaves that field of existing athletes as it
is; an empty cell clears it. An athlete already on the team (same name) is updated, and an
archived one named in the file comes back on the roster.

Tags are unique across the club, so a row's tag is checked against the whole roster as the
file would leave it: a tag on an athlete the file does not retag is that row's error (a file
never takes a tag from someone silently), while tags swapped between rows of the file are
fine. Spreadsheets may read an all-digit tag (0004567890) as a number and drop its leading
zeros, which makes it another tag: open the file with the tag column as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.csv_cells import formula_safe, unescape_formula
from server.db.models import Athlete, Team
from server.errors import ConflictError
from server.roster.fields import ATHLETE_FIELDS, check_athlete_fields, team_name_problem, to_columns
from server.roster.service import ensure_team, list_athletes

COLUMNS = ("team", "name", "display_name", "squad_number", "group", "sex", "birth_year", "tag")
MAX_ROWS = 5000
TEMPLATE_ROWS = (
    ("Example Squad", "Ada Lind", "Ada", "7", "Backs", "F", "2009", "04A1B2C3"),
    ("Example Squad", "Bo Berg", "", "12", "Forwards", "M", "2010", ""),
)
# A cell a spreadsheet would run as a formula; exported with a leading ' (and read back).


class ImportMode(StrEnum):
    CHECK = "check"  # validate only
    ALL = "all"  # import only if every row is valid
    VALID_ONLY = "valid_only"  # import the valid rows, skip the rest


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    imported: int = 0
    valid_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    # The file as this reader read it, so the page can show each row's cells beside its
    # problems without a CSV reader of its own: row i is on line i + 2, as in `errors`.
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Problems and nothing imported: the answer is 422."""
        return bool(self.errors) and self.imported == 0


@dataclass(frozen=True)
class CsvRow:
    line: int
    team: str
    values: dict[str, Any]


def _read(data: bytes) -> tuple[list[list[str]], ImportReport | None]:
    """The file's rows of cells, trailing blank rows dropped; or the one problem that kept it
    from being read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], _file_error(
            "the file is not UTF-8 text; in a spreadsheet, save it as 'CSV UTF-8'"
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:  # a cell over csv.field_size_limit(), 128 KiB, above all
        return [], _file_error(_csv_problem(exc), reader.line_num)
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    return records, None


def _file_error(message: str, line: int = 1, where: str = "file") -> ImportReport:
    return ImportReport(errors=[RowError(line, where, message)])


def _escape(value: object) -> str:
    return formula_safe("" if value is None else str(value))


def _header(cells: Sequence[str]) -> tuple[list[str], str | None]:
    names = [c.strip().lower() for c in cells]
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        return names, (
            f"unknown column(s) {', '.join(map(repr, unknown))}; "
            f"the columns are {','.join(COLUMNS)} (download the template)"
        )
    doubled = sorted({n for n in names if n and names.count(n) > 1})
    if doubled:
        return names, f"column(s) {', '.join(map(repr, doubled))} appear more than once"
    if "name" not in names:
        return names, f"no 'name' column; the columns are {','.join(COLUMNS)}"
    return names, None


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit()} characters"
    return f"not a CSV file: {exc}"


def parse_roster_csv(
    data: bytes, default_team: str | None
) -> tuple[list[CsvRow], list[RowError], set[str]]:
    """Valid rows, every problem, and the athlete columns the file has. A file that cannot
    be read gives a single problem and no rows."""
    records, unreadable = _read(data)
    if unreadable is not None:
        return [], unreadable.errors, set()
    return _check(records, default_team)


def _check(
    records: list[list[str]], default_team: str | None
) -> tuple[list[CsvRow], list[RowError], set[str]]:
    if not records:
        return [], _file_error("the file is empty; download the template").errors, set()
    names, problem = _header(records[0])
    if problem:
        return [], _file_error(problem, 1, "header").errors, set()
    if len(records) - 1 > MAX_ROWS:
        return [], _file_error(f"more than {MAX_ROWS} rows; split the file").errors, set()
    if len(records) == 1:
        return [], _file_error("no athletes below the header", 2).errors, set()
    present = {n for n in names if n in ATHLETE_FIELDS}
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    first_line: dict[tuple[str, str], int] = {}
    tag_line: dict[str, int] = {}
    for line, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank row in the middle of the sheet
        raw = {n: unescape_formula(c) for n, c in zip(names, cells, strict=False) if n}
        row_errors: list[RowError] = []
        # PostgreSQL refuses a NUL in text (issue 16), so both databases do.
        row_errors += [RowError(line, n, "contains a NUL character") for n, c in raw.items()
                       if "\x00" in c]  # fmt: skip
        if any(c.strip() for c in cells[len(names) :]):
            row_errors.append(RowError(line, "", "more cells than columns in the header"))
        team = raw.get("team") or (default_team or "").strip()
        if problem := team_name_problem(team):
            if not team:
                problem = "is empty: fill the team column or choose a team for the file"
            row_errors.append(RowError(line, "team", problem))
        values, problems = check_athlete_fields(raw)
        row_errors += [RowError(line, p.field, p.message) for p in problems]
        if not row_errors:
            key = (" ".join(team.split()), values["name"])
            if key in first_line:
                message = f"same athlete as line {first_line[key]}"
                row_errors.append(RowError(line, "name", message))
            first_line.setdefault(key, line)
        tag = values.get("tag")
        if not row_errors and tag is not None:
            if tag in tag_line:
                row_errors.append(RowError(line, "tag", f"same tag as line {tag_line[tag]}"))
            tag_line.setdefault(tag, line)
        if row_errors:
            errors += row_errors
        else:
            rows.append(CsvRow(line, " ".join(team.split()), values))
    return rows, errors, present


def import_roster(engine: Engine, data: bytes, default_team: str | None, mode: str) -> ImportReport:
    try:
        chosen = ImportMode(mode or ImportMode.CHECK)
    except ValueError:
        allowed = ", ".join(m.value for m in ImportMode)
        return _file_error(f"mode must be one of {allowed}, not {mode!r}", 0, "mode")
    records, unreadable = _read(data)
    if unreadable is not None:
        return unreadable
    rows, errors, present = _check(records, default_team)
    if "tag" in present:
        rows, clashes = _tag_clashes(engine, rows)
        errors = sorted(errors + clashes, key=lambda e: e.line)
    report = ImportReport(valid_rows=len(rows), errors=errors)
    if present:  # the header was read and the rows are within bounds: show them
        report.header, *report.rows = records
    if chosen is ImportMode.CHECK or (chosen is ImportMode.ALL and errors) or not rows:
        return report
    report.imported = _store(engine, rows, present)
    return report


def _tag_clashes(engine: Engine, rows: list[CsvRow]) -> tuple[list[CsvRow], list[RowError]]:
    """The rows that can be stored, and an error for each row whose tag would stay on
    another athlete: one not in the file, or one whose own row cannot be stored (so it keeps
    its tag; hence the loop until no row is dropped)."""
    query = (
        select(Athlete.tag, Team.name, Athlete.name, Athlete.archived)
        .join(Team, Team.id == Athlete.team_id)  # type: ignore[arg-type]
        .where(col(Athlete.tag).is_not(None))
    )
    with Session(engine) as session:
        holders = {tag: (team, name, archived) for tag, team, name, archived in session.exec(query)}
    kept = list(rows)
    errors: list[RowError] = []
    while True:
        retagged = {(row.team, row.values["name"]) for row in kept}
        clashes: list[RowError] = []
        for row in kept:
            tag = row.values.get("tag")
            holder = holders.get(tag) if tag is not None else None
            if holder is None or holder[:2] in retagged:
                continue  # no one has it, this row's athlete has it, or its holder is retagged
            team, name, archived = holder
            who = f"{name} ({team}{', archived' if archived else ''})"
            message = (
                f"tag {tag} is already on {who}, not {row.values['name']}; take it off "
                f"{name} first, or move it from the console"
            )
            clashes.append(RowError(row.line, "tag", message))
        if not clashes:
            return kept, errors
        errors += clashes
        dropped = {e.line for e in clashes}
        kept = [row for row in kept if row.line not in dropped]


def _store(engine: Engine, rows: Iterable[CsvRow], present: set[str]) -> int:
    """All rows in one transaction: a failure half way leaves the roster as it was.

    Tags go on after every row's athlete has let go of theirs, so tags swapped between rows
    never meet the unique index twice."""
    try:
        return _store_rows(engine, rows, present)
    except IntegrityError as exc:
        # Checked just before; only a change made meanwhile (a tag attached at a station)
        # gets here.
        raise ConflictError(
            "the roster changed during the import (a tag or a name was just taken); "
            "nothing was imported: import the file again"
        ) from exc


def _store_rows(engine: Engine, rows: Iterable[CsvRow], present: set[str]) -> int:
    count = 0
    tags: list[tuple[Athlete, str | None]] = []
    with Session(engine) as session:
        teams: dict[str, Team] = {}
        for row in rows:
            team = teams.get(row.team) or ensure_team(session, row.team)
            teams[row.team] = team
            assert team.id is not None
            athlete = session.exec(
                select(Athlete).where(
                    Athlete.team_id == team.id, Athlete.name == row.values["name"]
                )
            ).first()
            if athlete is None:
                athlete = Athlete(team_id=team.id, name=row.values["name"])
            given = {k: v for k, v in row.values.items() if k in present or k == "name"}
            if "tag" in given:
                tags.append((athlete, given["tag"]))
                given["tag"] = None
            for column, value in to_columns(given).items():
                setattr(athlete, column, value)
            athlete.archived = False
            session.add(athlete)
            session.flush()
            count += 1
        for athlete, tag in tags:
            athlete.tag = tag
            session.add(athlete)
        session.commit()
    return count


def _write(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_escape(v) for v in row])
    return out.getvalue()


def template_csv() -> str:
    return _write(TEMPLATE_ROWS)


def export_csv(engine: Engine, team_id: int | None = None, include_archived: bool = False) -> str:
    athletes = list_athletes(engine, team_id, include_archived)
    return _write(
        (a.team, a.name, a.display_name, a.squad_number, a.group, a.sex, a.birth_year, a.tag)
        for a in athletes
    )
