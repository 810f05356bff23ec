"""CSV exports: one row per rep, and one row per athlete and drill (docs/EXPORTS.md).

UTF-8 with a byte-order mark, as the roster export: without it Excel shows "Ã…sa" for
"Åsa". Comma-separated, a header row, `\\r\\n` line ends (RFC 4180); read it as `utf-8-sig`.
A text cell that a spreadsheet would run as a formula (a name starting with =, +, -, @, a tab
or a carriage return) starts with ' (server/csv_cells.py); numbers are left as they are.
"""

from __future__ import annotations

import csv
from typing import TextIO

from server.reports.data import Progress, ReportData
from server.reports.summary import TeamSummary
from server.reports.tables import (
    SUMMARY_COLUMNS,
    csv_formatters,
    csv_header,
    rep_columns,
    rep_rows,
    split_names,
    summary_rows,
)

_EVERY = 2_000
BOM = "\ufeff"


def write_reps_csv(data: ReportData, out: TextIO, progress: Progress | None = None) -> int:
    """Every rep in scope, valid or not (flags tell which count); returns the row count."""
    data.require_valid_reps()
    names = split_names(data.drills.values())
    columns = rep_columns(names)
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(columns))
    formats = csv_formatters(columns)
    total = len(data.reps)
    count = 0
    for count, row in enumerate(rep_rows(data, names), start=1):
        writer.writerow([f(v) for f, v in zip(formats, row, strict=True)])
        if progress is not None and count % _EVERY == 0:
            progress("writing CSV", count, total)
    if progress is not None:
        progress("writing CSV", total, total)
    return count


def write_summary_csv(summary: TeamSummary, out: TextIO) -> int:
    """One row per athlete and drill they ran; returns the row count."""
    summary.data.require_valid_reps()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(SUMMARY_COLUMNS))
    formats = csv_formatters(SUMMARY_COLUMNS)
    rows = [[f(v) for f, v in zip(formats, row, strict=True)] for row in summary_rows(summary)]
    writer.writerows(rows)
    return len(rows)
