"""What the PDF's sections share: fonts, paragraph and table styles, number formats, pictures.

The text face is DejaVu Sans, shipped with matplotlib, embedded (subset) so every athlete's
name prints whatever its alphabet, and so the charts and the text match.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib
from PIL import Image
from reportlab import rl_config  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfdoc, pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from server.reports.records import ReportData, RepRecord, best_reps
from server.reports.tables import DASH

# Binary (Flate only) streams instead of ASCII85 text: every PDF reader takes them, they are
# a fifth smaller, and reportlab's pure-Python ASCII85 encoder took most of a season report's
# time (4 s of chart images). Only the reports use reportlab, so the global is ours to set.
rl_config.useA85 = 0


class _FastZlib:
    """zlib for reportlab at level 1: chart pixels compress to within 2 % of the default
    level in less than half the time (0.2 s instead of 0.4 s for a squad's 40 pages).
    reportlab has no setting for the level, hence this stand-in for its module reference."""

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def compress(data: bytes, level: int = 1) -> bytes:
        return zlib.compress(data, level)


pdfdoc.zlib = _FastZlib()

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
INK = colors.HexColor("#1b1b1b")
MUTED = colors.HexColor("#5a5a5a")
RULE = colors.HexColor("#c8cfd8")
HEAD_BG = colors.HexColor("#e3e9f1")
STRIPE = colors.HexColor("#f5f7fa")
FLAG_BG = colors.HexColor("#fff4e0")
MARKED = "†"  # a best whose rep has a cross-device or coarse split; a note says which


@cache
def register_fonts() -> None:
    """Register the embedded faces once per process."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


@cache
def styles() -> dict[str, Any]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, textColor=INK)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "title": ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=24, leading=29, spaceAfter=4 * mm
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=14, leading=18, spaceAfter=6 * mm
        ),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceAfter=2 * mm
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=3 * mm,
            spaceAfter=1.5 * mm,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=body,
            fontName=BOLD,
            fontSize=9.5,
            leading=12,
            spaceBefore=2 * mm,
            spaceAfter=0.8 * mm,
        ),
        "bullet": ParagraphStyle(
            "bullet", parent=body, leftIndent=4 * mm, bulletIndent=0, spaceAfter=1 * mm
        ),
        "flag": ParagraphStyle(
            "flag",
            parent=body,
            fontSize=8.5,
            leading=11,
            leftIndent=4 * mm,
            bulletIndent=0,
            spaceAfter=0.8 * mm,
        ),
    }


def para(text: str, style: str = "body", bullet: str | None = None) -> Paragraph:
    """A paragraph of plain text (escaped: names may contain '&' or '<')."""
    return Paragraph(escape(text), styles()[style], bulletText=bullet)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def secs(value: float | None, places: int = 2) -> str:
    return DASH if value is None else f"{value:.{places}f}"


def pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return DASH
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return text.replace("-", "−")


def clip(text: str, length: int = 28) -> str:
    """Table cells do not wrap; long names are shortened with an ellipsis."""
    return text if len(text) <= length else text[: length - 1] + "…"


def grid_table(
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    right_from: int = 1,
    font_size: float = 8,
    extra: Sequence[tuple[Any, ...]] = (),
    padding: float = 1.6,
    repeat_rows: int = 1,
) -> Table:
    """A header row and striped body; columns from `right_from` on are numbers, right-aligned.
    `repeat_rows`: header rows repeated on every page (styled by `extra` beyond the first)."""
    register_fonts()
    table = Table([list(r) for r in rows], colWidths=list(widths), repeatRows=repeat_rows)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, font_size),
        ("FONT", (0, 0), (-1, 0), BOLD, font_size),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
        *extra,
    ]
    table.setStyle(TableStyle(style))
    return table


class Picture(Flowable):  # type: ignore[misc]
    """A chart image drawn at a given width; reportlab compresses the pixels itself."""

    def __init__(self, image: Image.Image, width: float, max_height: float | None = None) -> None:
        super().__init__()
        self.reader = ImageReader(image)
        pixels_w, pixels_h = image.size
        self.width = width
        self.height = width * pixels_h / pixels_w
        if max_height is not None and self.height > max_height:
            # Shrink, never below 70 %: smaller than that the tick labels become unreadable.
            scale = max(0.7, max_height / self.height)
            self.width, self.height = self.width * scale, self.height * scale
        self.hAlign = "CENTER"

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.reader, 0, 0, self.width, self.height)


def rep_marks(rep: RepRecord) -> str | None:
    """What to know to read a rep's time right, e.g. "±3.2 ms cross-device"; None if nothing."""
    parts = []
    if rep.cross_device_error_us is not None:
        parts.append(f"±{rep.cross_device_error_us / 1000:.1f} ms cross-device")
    if rep.coarse:
        parts.append("coarse")
    return ", ".join(parts) or None


def best_marks(data: ReportData) -> dict[tuple[int, str], str]:
    """(athlete id, drill) → rep_marks of the athlete's best valid rep, only where it has some."""
    out = {}
    for key, rep in best_reps(data.reps).items():
        text = rep_marks(rep)
        if text is not None:
            out[key] = text
    return out


def report_document(
    out: str | Path | BinaryIO,
    *,
    pagesize: tuple[float, float],
    margin: float,
    title: str,
    subject: str,
) -> SimpleDocTemplate:
    """The page set-up both reports use, so their margins and metadata stay alike. The
    bottom margin is taller by the room page_footer draws in."""
    return SimpleDocTemplate(
        str(out) if isinstance(out, Path) else out,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 4 * mm,
        title=title,
        author="agility-orchestrator",
        subject=subject,
    )


def page_footer(text: str, page_width: float, margin: float) -> Callable[[Any, Any], None]:
    """A page's footer: `text` on the left, the page number on the right, small and muted."""

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(margin, 9 * mm, clip(text, 110))
        canvas.drawRightString(page_width - margin, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    return draw
