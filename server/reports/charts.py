"""Charts for the team PDF: matplotlib's Figure API on an explicit Agg canvas, never pyplot.

Every athlete page of one report shares its axes (the same dates, the same time range per
drill, the same team median), so each chart's frame, ticks, titles and team line are drawn
once and only the athlete's own artists are drawn on a copy of that background (blitting).
That is ~5 ms a page instead of ~80 ms for a full draw, which is what keeps a 40-athlete
season report within seconds. Sharing axes also lets a head coach compare pages at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

DPI = 110
"""Sharp enough for 6 pt tick labels on screen and paper, small enough to compress quickly."""
WIDTH_IN = 7.1
ROW_IN = 0.8
COLUMNS = 4
ATHLETE_COLOUR = "#1f5fa8"
TEAM_COLOUR = "#b0b0b0"
_EPOCH = date(1970, 1, 1)  # matplotlib's date unit: days since this day
# matplotlib leaves the canvas's blitting calls untyped; the canvas is handled as Any.


def day_number(day: date) -> float:
    return float((day - _EPOCH).days)


def date_ticks(first: date, last: date, most: int = 4) -> tuple[list[float], list[str]]:
    """Up to `most` evenly spaced month starts (or days, for a short range), labelled once
    for every panel: matplotlib's date locators would redo this work sixteen times."""
    span = (last - first).days
    if span < 62:
        step = max(1, math.ceil((span + 1) / most))
        days = [first + timedelta(days=k) for k in range(0, span + 1, step)]
        return [day_number(d) for d in days], [f"{d:%d %b}" for d in days]
    months = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        if date(year, month, 1) >= first:
            months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    chosen = months[:: max(1, math.ceil(len(months) / most))]
    labels = [f"{d:%b %Y}" if i == 0 or d.month == 1 else f"{d:%b}" for i, d in enumerate(chosen)]
    return [day_number(d) for d in chosen], labels


@dataclass(frozen=True)
class Panel:
    """One drill's small chart: its title, the team-wide time range and the team median."""

    title: str
    low_s: float
    high_s: float
    team_median: Sequence[tuple[date, float]]


def _image(canvas: Any) -> Image.Image:
    width, height = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    return rgba.convert("RGB")


class ProgressGrid:
    """Small multiples of best time per test day, one panel per drill, shared by the team."""

    def __init__(self, panels: Sequence[Panel], first: date, last: date, dpi: int = DPI) -> None:
        cols = max(1, min(COLUMNS, len(panels)))
        rows = max(1, math.ceil(len(panels) / cols))
        height = 0.1 + ROW_IN * rows
        self.figure = Figure(figsize=(WIDTH_IN, height), dpi=dpi)
        self.canvas: Any = cast(Any, FigureCanvasAgg(self.figure))
        # Fixed margins in inches: constrained layout would find the same ones but spends
        # about a second measuring sixteen sets of tick labels.
        grid = self.figure.subplots(
            rows,
            cols,
            squeeze=False,
            gridspec_kw={
                "left": 0.38 / WIDTH_IN,
                "right": 1 - 0.08 / WIDTH_IN,
                "bottom": 0.22 / height,
                "top": 1 - 0.2 / height,
                "wspace": 0.32,
                "hspace": 0.55,
            },
        )
        pad = timedelta(days=max(1, (last - first).days // 20))
        x_low, x_high = day_number(first - pad), day_number(last + pad)
        ticks, labels = date_ticks(first, last)
        self.lines = []
        for i, ax in enumerate(grid.flat):
            if i >= len(panels):
                ax.set_axis_off()
                continue
            panel = panels[i]
            span = max(panel.high_s - panel.low_s, 0.02)
            ax.set_xlim(x_low, x_high)
            ax.set_ylim(panel.low_s - 0.08 * span, panel.high_s + 0.08 * span)
            # A fixed title position: left automatic, matplotlib measures every tick label
            # of the axes to place it (a third of the set-up time).
            ax.set_title(panel.title, fontsize=7, pad=2, y=1.0)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=3))
            # Dates under the lowest panel of each column only: the columns share them.
            ax.tick_params(labelsize=5.5, length=2, pad=1, labelbottom=i + cols >= len(panels))
            ax.set_xticks(ticks, labels)
            ax.grid(True, linewidth=0.3, color="#dddddd")
            if panel.team_median:
                ax.plot(
                    [day_number(d) for d, _ in panel.team_median],
                    [t for _, t in panel.team_median],
                    color=TEAM_COLOUR,
                    linewidth=1.0,
                )
            (line,) = ax.plot(
                [],
                [],
                color=ATHLETE_COLOUR,
                linewidth=1.2,
                marker="o",
                markersize=2.2,
                animated=True,
            )
            self.lines.append(line)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def render(self, series: Sequence[Sequence[tuple[date, float]]]) -> Image.Image:
        """The athlete's daily bests, one sequence per panel in panel order (may be empty)."""
        self.canvas.restore_region(self.background)
        for line, points in zip(self.lines, series, strict=True):
            if not points:
                continue
            line.set_data([day_number(d) for d, _ in points], [t for _, t in points])
            self.figure.draw_artist(line)
        return _image(self.canvas)


class RatioChart:
    """Backward / forward time per distance: the athlete's bar beside the team median."""

    def __init__(
        self,
        distances: Sequence[float],
        team_median: Mapping[float, float],
        top: float,
        dpi: int = DPI,
    ) -> None:
        self.distances = list(distances)
        self.figure = Figure(figsize=(2.9, 1.65), dpi=dpi)
        self.canvas: Any = cast(Any, FigureCanvasAgg(self.figure))
        ax = self.figure.add_axes((0.2, 0.14, 0.77, 0.74))
        self.axes = ax
        xs = list(range(len(self.distances)))
        ax.set_xticks(xs, [f"{d:g} m" for d in self.distances])
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_ylim(0.9, max(top, 1.2) + 0.08)
        ax.axhline(1.0, color="#888888", linewidth=0.8)
        ax.tick_params(labelsize=6.5, length=2)
        ax.set_ylabel("backward ÷ forward", fontsize=6.5)
        ax.grid(True, axis="y", linewidth=0.3, color="#dddddd")
        for x, d in zip(xs, self.distances, strict=True):
            median = team_median.get(d)
            if median is not None:
                ax.hlines(
                    median, x - 0.38, x + 0.38, color="#444444", linewidth=1.4, linestyles="dashed"
                )
        ax.set_title("dashed: team median", fontsize=6, color="#444444", pad=2)
        self.bars = ax.bar(
            xs, [0.0] * len(xs), width=0.55, bottom=0.0, color=ATHLETE_COLOUR, animated=True
        )
        self.labels = [
            ax.text(
                x,
                1.0,
                "",
                ha="center",
                va="top",
                fontsize=6.5,
                color="white",
                fontweight="bold",
                animated=True,
            )
            for x in xs
        ]
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def render(self, ratios: Mapping[float, float]) -> Image.Image:
        self.canvas.restore_region(self.background)
        for bar, label, d in zip(self.bars, self.labels, self.distances, strict=True):
            ratio = ratios.get(d)
            if ratio is None:
                label.set_text("no pair")
                label.set_color("#444444")
                label.set_y(1.06)
            else:
                # Inside the bar's top, so the value never collides with the median line.
                bar.set_height(ratio)
                label.set_text(f"{ratio:.2f}")
                label.set_color("white")
                label.set_y(ratio - 0.015)
                self.axes.draw_artist(bar)
            self.axes.draw_artist(label)
        return _image(self.canvas)
