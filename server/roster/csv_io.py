"""Roster CSV: the template, import with a report per row, and export in the same columns.

Coaches keep squads in spreadsheets, so line numbers are the spreadsheet's rows (the header
is row 1), Excel's UTF-8 byte-order mark is accepted, and a file that cannot be read at all
(not UTF-8, wrong header, empty) is refused whole with one clear message.

On import, a column missing from the header leaves that field of existing athletes as it
is; an empty cell clears it. An athlete already on the team (same name) is updated, and an
archived one named in the file comes back on the roster.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from server.db.models import Athlete, Team
from server.roster.fields import ATHLETE_FIELDS, check_athlete_fields, team_name_problem, to_columns
from server.roster.service import ensure_team, list_athletes

COLUMNS = ("team", "name", "display_name", "squad_number", "group", "sex", "birth_year")
MAX_ROWS = 5000
TEMPLATE_ROWS = (
    ("Example Squad", "Ada Lind", "Ada", "7", "Backs", "F", "2009"),
    ("Example Squad", "Bo Berg", "", "12", "Forwards", "M", "2010"),
)
# A cell a spreadsheet would run as a formula; exported with a leading ' (and read back).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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

    @property
    def refused(self) -> bool:
        """Problems and nothing imported: the answer is 422."""
        return bool(self.errors) and self.imported == 0


@dataclass(frozen=True)
class CsvRow:
    line: int
    team: str
    values: dict[str, Any]


def _file_error(message: str, line: int = 1, where: str = "file") -> ImportReport:
    return ImportReport(errors=[RowError(line, where, message)])


def _unescape(cell: str) -> str:
    cell = cell.strip()
    if cell.startswith("'") and cell[1:2] in _FORMULA_START:
        return cell[1:]
    return cell


def _escape(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


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


def parse_roster_csv(
    data: bytes, default_team: str | None
) -> tuple[list[CsvRow], list[RowError], set[str]]:
    """Valid rows, every problem, and the athlete columns the file has. A file that cannot
    be read gives a single problem and no rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        bad = _file_error("the file is not UTF-8 text; in a spreadsheet, save it as 'CSV UTF-8'")
        return [], bad.errors, set()
    records = list(csv.reader(io.StringIO(text, newline="")))
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
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
    for line, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank row in the middle of the sheet
        raw = {n: _unescape(c) for n, c in zip(names, cells, strict=False) if n}
        row_errors: list[RowError] = []
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
    rows, errors, present = parse_roster_csv(data, default_team)
    report = ImportReport(valid_rows=len(rows), errors=errors)
    if chosen is ImportMode.CHECK or (chosen is ImportMode.ALL and errors) or not rows:
        return report
    report.imported = _store(engine, rows, present)
    return report


def _store(engine: Engine, rows: Iterable[CsvRow], present: set[str]) -> int:
    """All rows in one transaction: a failure half way leaves the roster as it was."""
    count = 0
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
            for column, value in to_columns(given).items():
                setattr(athlete, column, value)
            athlete.archived = False
            session.add(athlete)
            session.flush()
            count += 1
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
        (a.team, a.name, a.display_name, a.squad_number, a.group, a.sex, a.birth_year)
        for a in athletes
    )
