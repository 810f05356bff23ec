"""The day report as a PDF: one landscape table, an athlete a row and a drill a group of
columns, then the flags and the norms used, in the team PDF's type and table style.

One table and no charts, so 40 athletes on 6 drills lay out in a fraction of a second. When
the drills do not fit the page's width the table shrinks (columns and type) rather than
wrapping onto a second page sideways, down to a 6 pt floor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, Spacer  # type: ignore[import-untyped]

from server.leaderboard.ratio import RATIO_LABEL, RATIO_MEANING
from server.reports.day import DayReport
from server.reports.pdf_common import (
    BOLD,
    HEAD_BG,
    MARKED,
    RULE,
    escape,
    grid_table,
    page_footer,
    para,
    report_document,
    secs,
    styles,
)

PAGE = landscape(A4)
MARGIN = 12 * mm
HAND = "h"
_FIXED_MM = {"athlete": 40.0, "team": 24.0, "stations": 26.0}
_BEST_MM, _RANK_MM, _NORM_MM, _RATIO_MM = 14.0, 9.0, 22.0, 20.0
_FONT_PT, _MIN_FONT_PT = 8.0, 6.0


def _title(report: DayReport) -> str:
    return f"Testing day {report.date}" + (f": {report.team}" if report.team else "")


def _intro(report: DayReport, generated: datetime) -> list[Any]:
    zone = report.time_zone + (", the server's time zone" if report.time_zone_from_server else "")
    out: list[Any] = [
        para(_title(report), "h1"),
        para(
            f"The day in {zone}. Athletes with a valid rep: {len(report.athletes)}. Reps "
            f"counted: {report.valid_reps} of {report.reps}"
            + (
                " (the rest voided, practice, false starts or unfinished)"
                if report.valid_reps < report.reps
                else ""
            )
            + ". Stations: "
            + (", ".join(report.stations) or "none")
            + f". Generated {generated:%Y-%m-%d %H:%M} UTC."
        ),
    ]
    if report.message:
        out.append(para(f"Nothing to show: {report.message}.", "h2"))
    return out


def _legend(report: DayReport) -> Paragraph:
    return para(
        "Best: the fastest valid rep of the day, in seconds (lower is faster). Rank: among "
        "the day's athletes on that drill"
        + (" of this team" if report.team else "")
        + f"; equal bests share a rank. {HAND}: a hand time (typed in, or a timer's keypad), "
        f"which reads faster than gates. {MARKED}: the best spans a receipt-timed device "
        "(Chronopic, Timy) and another clock, or has an end placed by receipt time. Norm: only "
        "where a population was chosen for the drill; the populations are listed below. "
        f"{RATIO_LABEL}: {RATIO_MEANING}; here, the bests of the day.",
        "small",
    )


def _header_style(size: float) -> ParagraphStyle:
    return ParagraphStyle(
        "dayhead", parent=styles()["body"], fontName=BOLD, fontSize=size, leading=size + 1.5
    )


def _cell_style(size: float) -> ParagraphStyle:
    return ParagraphStyle("daycell", parent=styles()["body"], fontSize=size, leading=size + 1.2)


def _table(report: DayReport, width: float) -> Any:
    fixed = [k for k in _FIXED_MM if k != "team" or report.team is None]
    normed = {d.slug for d in report.drills for a in report.athletes if
              (r := a.results.get(d.slug)) is not None and r.norm}  # fmt: skip
    distances = sorted({f.distance_m for a in report.athletes for f in a.fb_ratios})
    widths = [_FIXED_MM[k] for k in fixed]
    groups: list[tuple[int, int]] = []  # (first column, columns) per drill
    for d in report.drills:
        cols = [_BEST_MM, _RANK_MM] + ([_NORM_MM] if d.slug in normed else [])
        groups.append((len(widths), len(cols)))
        widths += cols
    ratio_at = len(widths)
    widths += [_RATIO_MM] * len(distances)
    scale = min(1.0, width / (sum(widths) * mm))
    size = max(_MIN_FONT_PT, _FONT_PT * scale)
    head, cell = _header_style(size), _cell_style(size)

    top: list[Any] = [fixed_name.capitalize() for fixed_name in fixed]
    sub: list[Any] = [""] * len(fixed)
    for d, (_, n) in zip(report.drills, groups, strict=True):
        top += [Paragraph(escape(d.name), head)] + [""] * (n - 1)
        sub += ["Best", "Rank", "Norm"][:n]
    if distances:
        top += [Paragraph(escape(RATIO_LABEL), head)] + [""] * (len(distances) - 1)
    sub += [f"{m:g} m" for m in distances]
    rows: list[list[Any]] = [top, sub]
    for a in report.athletes:
        # Names and stations wrap rather than clip: on a sheet handed round, nothing cut off.
        row: list[Any] = [Paragraph(escape(a.name), cell)]
        if "team" in fixed:
            row.append(Paragraph(escape(a.team), cell))
        row.append(Paragraph(escape(", ".join(a.stations)), cell))
        for d, (_, n) in zip(report.drills, groups, strict=True):
            r = a.results.get(d.slug)
            if r is None:
                row += [""] * n
                continue
            marks = (f" {HAND}" if r.hand_time else "") + (
                f" {MARKED}" if r.cross_device_error_ms is not None or r.coarse else ""
            )
            row += [secs(r.best_s) + marks, str(r.rank)]
            if n == 3:
                row.append(Paragraph(escape(r.norm), cell) if r.norm else "")
        ratios = {f.distance_m: f.ratio for f in a.fb_ratios}
        row += [secs(ratios.get(m), 3) if m in ratios else "" for m in distances]
        rows.append(row)

    extra: list[tuple[Any, ...]] = [
        ("FONT", (0, 1), (-1, 1), BOLD, size),
        ("BACKGROUND", (0, 1), (-1, 1), HEAD_BG),
        ("LINEBELOW", (0, 1), (-1, 1), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, 1), "BOTTOM"),
        *[("SPAN", (c, 0), (c, 1)) for c in range(len(fixed))],
    ]
    for first, n in groups:
        extra += [
            ("SPAN", (first, 0), (first + n - 1, 0)),
            ("LINEBEFORE", (first, 0), (first, -1), 0.6, RULE),
        ]
        if n == 3:  # words, not a number
            extra.append(("ALIGN", (first + 2, 1), (first + 2, -1), "LEFT"))
    if distances:
        extra += [
            ("SPAN", (ratio_at, 0), (ratio_at + len(distances) - 1, 0)),
            ("LINEBEFORE", (ratio_at, 0), (ratio_at, -1), 0.6, RULE),
        ]
    return grid_table(
        rows,
        [w * mm * scale for w in widths],
        right_from=len(fixed),
        font_size=size,
        extra=extra,
        repeat_rows=2,
    )


def _notes(report: DayReport) -> list[Any]:
    out: list[Any] = []
    flagged = [(a.name, f) for a in report.athletes for f in a.flags]
    if flagged:
        out.append(para("Flags", "h2"))
        out += [para(f"{name}: {text}", "flag", "•") for name, text in flagged]
    if report.norms:
        out.append(para("Norms used", "h2"))
        out += [
            para(f"{n.protocol}: {n.population} ({n.id}). {n.citation}", "small")
            for n in report.norms
        ]
    if report.no_norm_note:
        if not report.norms:
            out.append(para("Norms", "h2"))
        out.append(para(report.no_norm_note, "small"))
    return out


def write_day_pdf(
    report: DayReport, out: str | Path | BinaryIO, generated: datetime | None = None
) -> int:
    """Write the day report; returns the number of pages. An empty day is a page saying so."""
    generated = generated or datetime.now(UTC)
    doc = report_document(
        out,
        pagesize=PAGE,
        margin=MARGIN,
        title=escape(_title(report)),
        subject=f"day report, {report.date} ({report.time_zone})",
    )
    story = _intro(report, generated)
    if report.athletes:
        story += [_legend(report), Spacer(1, 2 * mm), _table(report, doc.width)]
        story += _notes(report)
    footer = page_footer(
        f"{report.team or 'All teams'} · day report · {report.date} ({report.time_zone})",
        PAGE[0],
        MARGIN,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return int(doc.page)
