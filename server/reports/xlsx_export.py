"""XLSX export: a Summary sheet, then one sheet per drill with every rep, header frozen.

Written with xlsxwriter in constant-memory mode (rows stream to disk as they are written),
so a season of reps never sits in memory as cell objects; that mode needs a file path.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from server.reports.data import Progress, RepRecord
from server.reports.summary import TeamSummary
from server.reports.tables import SUMMARY_COLUMNS, Column, Kind, Value, rep_columns, rep_rows
from server.reports.tables import summary_rows as summary_table_rows

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
SUMMARY_SHEET = "Summary"


def sheet_names(slugs: Iterable[str]) -> dict[str, str]:
    """A valid, unique sheet name per drill slug (31 characters at most, case-insensitive)."""
    taken = {SUMMARY_SHEET.casefold()}
    out: dict[str, str] = {}
    for slug in slugs:
        base = _BAD_SHEET_CHARS.sub("_", slug)[:31]
        name, n = base, 2
        while name.casefold() in taken:
            suffix = f"~{n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        taken.add(name.casefold())
        out[slug] = name
    return out


class Formats:
    """The workbook's cell formats: a header, and a number format per column kind."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.by_kind: dict[Kind, Any] = {
            Kind.SECONDS: book.add_format({"num_format": "0.000"}),
            Kind.RATIO: book.add_format({"num_format": "0.000"}),
            Kind.PCT: book.add_format({"num_format": "0.0"}),
            Kind.MS: book.add_format({"num_format": "0.0"}),
            Kind.DATE: book.add_format({"num_format": "yyyy-mm-dd"}),
            Kind.INT: book.add_format({"num_format": "0"}),
            Kind.FLAG: book.add_format({"num_format": "0", "align": "center"}),
        }


def write_sheet(
    book: xlsxwriter.Workbook,
    name: str,
    columns: Sequence[Column],
    rows: Iterable[list[Value]],
    fmt: Formats,
) -> int:
    """A sheet of typed rows under a frozen header (and first two columns), filtered;
    returns the number of rows written."""
    sheet: Worksheet = book.add_worksheet(name)
    for col, column in enumerate(columns):
        sheet.set_column(col, col, max(column.width, min(len(column.name), 30) + 1))
    # Header row and the athlete's id and name stay in view while scrolling.
    sheet.freeze_panes(1, 2)
    sheet.set_row(0, 30)
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.name, fmt.header)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, (value, column) in enumerate(zip(row, columns, strict=True)):
            _cell(sheet, count, col, value, column.kind, fmt)
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    return count


def _cell(sheet: Worksheet, row: int, col: int, value: Value, kind: Kind, fmt: Formats) -> None:
    if value is None:
        return
    if kind is Kind.FLAG:
        sheet.write_number(row, col, 1 if value else 0, fmt.by_kind[kind])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, fmt.by_kind[Kind.DATE])
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt.by_kind.get(kind))
    else:
        sheet.write_string(row, col, str(value))


def write_xlsx(summary: TeamSummary, path: str | Path, progress: Progress | None = None) -> int:
    """Write the workbook to `path`; returns the number of rep rows written."""
    data = summary.data
    data.require_valid_reps()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    book.set_properties(
        {"title": f"Agility drills: {data.scope.describe()}", "author": "agility-orchestrator"}
    )
    fmt = Formats(book)
    write_sheet(book, SUMMARY_SHEET, SUMMARY_COLUMNS, summary_table_rows(summary), fmt)
    names = sheet_names(data.drills)
    by_drill: dict[str, list[RepRecord]] = defaultdict(list)
    for rep in data.reps:
        by_drill[rep.drill].append(rep)
    total = 0
    for i, (slug, info) in enumerate(data.drills.items(), start=1):
        columns = rep_columns(info.split_names)
        total += write_sheet(
            book, names[slug], columns, rep_rows(data, info.split_names, by_drill[slug]), fmt
        )
        if progress is not None:
            progress("writing XLSX", i, len(data.drills))
    book.close()
    return total
