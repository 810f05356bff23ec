"""The day report as a file: CSV, XLSX or PDF, in the columns of day.day_columns.

Unlike the season exports, an empty day is not refused: the file says the day had nothing
(the XLSX and PDF in words, the CSV by its header alone), because a coach who asks for a
day sheet before the first rep should get one.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import BinaryIO, TextIO

import xlsxwriter  # type: ignore[import-untyped]

from server.errors import InvalidInputError
from server.reports.csv_export import BOM
from server.reports.day import DayReport, day_columns, day_rows
from server.reports.service import file_slug
from server.reports.tables import Column, Kind, Value, csv_formatters, csv_header
from server.reports.xlsx_export import Formats, write_sheet

DAY_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
"""Day report format -> (content type, file extension); JSON when no format is asked."""

DAY_SHEET = "Day"
ABOUT_SHEET = "About"


def check_day_format(fmt: str) -> str:
    if fmt not in DAY_FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(DAY_FORMATS)}, got {fmt!r}")
    return fmt


def day_filename(report: DayReport, fmt: str) -> str:
    """e.g. day-2026-12-04.xlsx, or day-2026-12-04-lions.pdf for one team."""
    team = f"-{file_slug(report.team)}" if report.team else ""
    return f"day-{report.date}{team}.{DAY_FORMATS[fmt][1]}"


def write_day_csv(report: DayReport, out: TextIO) -> int:
    """A header and one row per athlete; returns the row count. UTF-8 with a BOM and `\\r\\n`,
    as the other exports; every text cell a spreadsheet would run as a formula starts with '."""
    columns = day_columns(report)
    formats = csv_formatters(columns)
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(columns))
    rows = [[f(v) for f, v in zip(formats, row, strict=True)] for row in day_rows(report)]
    writer.writerows(rows)
    return len(rows)


def _about_rows(report: DayReport) -> list[list[Value]]:
    zone = report.time_zone + (" (the server's time zone)" if report.time_zone_from_server else "")
    rows: list[list[Value]] = [
        ["date", report.date],
        ["time zone", zone],
        ["team", report.team or "all teams"],
        ["athletes", str(len(report.athletes))],
        ["reps counted", f"{report.valid_reps} of {report.reps} (the rest voided, practice, "
                         "false starts or unfinished)"],
        ["stations", ", ".join(report.stations)],
    ]  # fmt: skip
    if report.message:
        rows.append(["note", report.message])
    rows += [["norm", f"{n.protocol}: {n.population} ({n.citation})"] for n in report.norms]
    if report.no_norm_note:
        rows.append(["no norm", report.no_norm_note])
    return rows


def write_day_xlsx(report: DayReport, out: str | Path | BinaryIO) -> int:
    """A Day sheet (the CSV's columns, typed) and an About sheet saying which day, zone and
    team, and why it is empty if it is; returns the number of athlete rows."""
    target = str(out) if isinstance(out, Path) else out
    book = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_numbers": False})
    book.set_properties(
        {"title": f"Agility day report {report.date} ({report.time_zone})",
         "author": "agility-orchestrator"}
    )  # fmt: skip
    fmt = Formats(book)
    count = write_sheet(book, DAY_SHEET, day_columns(report), day_rows(report), fmt)
    about = (Column("what", Kind.TEXT, 14), Column("value", Kind.TEXT, 90))
    write_sheet(book, ABOUT_SHEET, about, _about_rows(report), fmt)
    book.close()
    return count


def day_bytes(report: DayReport, fmt: str) -> bytes:
    """The report as a download."""
    check_day_format(fmt)
    if fmt == "csv":
        text = io.StringIO()
        write_day_csv(report, text)
        return text.getvalue().encode("utf-8")
    buffer = io.BytesIO()
    if fmt == "xlsx":
        write_day_xlsx(report, buffer)
    else:
        # Imported here: reportlab and matplotlib cost a CSV half a second.
        from server.reports.day_pdf import write_day_pdf

        write_day_pdf(report, buffer)
    return buffer.getvalue()
