"""The rep table and the summary table as typed columns, shared by the CSV and XLSX writers.

Values stay typed (seconds as floats already rounded to the millisecond, flags as bools,
dates as dates) so the XLSX gets real numbers and the CSV formats them one way everywhere.
The layout is documented in docs/EXPORTS.md; change both together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from drills.norms import OutOfRange, Rating
from server.csv_cells import formula_safe
from server.reports.data import DrillInfo, ReportData, RepRecord
from server.reports.summary import AthleteDrill, AthleteSummary, TeamSummary

Value = str | int | float | bool | date | None
DASH = "–"


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    SECONDS = "s"  # 3 decimals
    PCT = "pct"  # 1 decimal
    RATIO = "ratio"  # 3 decimals
    MS = "ms"  # milliseconds, 1 decimal
    FLAG = "flag"  # 1 / 0
    DATE = "date"  # YYYY-MM-DD


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    width: int = 10


def seconds(us: int | None) -> float | None:
    """µs to seconds rounded to the nearest millisecond, halves away from zero.

    Done on integers so 2_500_500 µs is 2.501 s on every platform, whatever binary floats do.
    """
    if us is None:
        return None
    ms = (abs(us) + 500) // 1000
    return (ms if us >= 0 else -ms) / 1000


def millis(us: int | None) -> float | None:
    """µs to milliseconds with one decimal (an error bound, not a time)."""
    return None if us is None else round(us / 1000, 1)


def ordinal(n: float) -> str:
    k = round(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def rating_words(rating: Rating) -> str:
    """A rating's result in a few words ("73rd percentile", a band), population left out."""
    if rating.out_of_range is OutOfRange.ABOVE:
        return "beyond the table (faster)"
    if rating.out_of_range is OutOfRange.BELOW:
        return "beyond the table (slower)"
    if rating.percentile is not None:
        return f"{ordinal(rating.percentile)} percentile"
    return rating.band or DASH


def short_rating(rating: Rating | None) -> str:
    """A rating in a few words for a table cell; the norms page gives the sources."""
    return DASH if rating is None else f"{rating_words(rating)} ({rating.population})"


def split_marks(rep: RepRecord) -> str | None:
    """Which splits carry a mark and which, e.g. "0-10m ±3.2 ms cross-device; 10-20m coarse"."""
    parts = []
    for s in rep.splits:
        marks = []
        if s.cross_device_error_us is not None:
            marks.append(f"±{millis(s.cross_device_error_us)} ms cross-device")
        if s.coarse:
            marks.append("coarse")
        if s.manual:
            marks.append("hand time")
        if marks:
            parts.append(f"{s.name} {', '.join(marks)}")
    return "; ".join(parts) or None


def crossing_notes(rep: RepRecord) -> str | None:
    """E.g. "start longest-break, first break 45.0 ms earlier; finish longest-break"."""
    parts = []
    for c in rep.crossings:
        lead = (
            f", first break {millis(c.first_break_lead_us)} ms earlier"
            if c.first_break_lead_us
            else ""
        )
        parts.append(f"{c.role} {c.trigger}{lead}")
    return "; ".join(parts) or None


def split_column(name: str) -> str:
    return f"split {name} (s)"


def split_names(drills: Iterable[DrillInfo]) -> list[str]:
    """Distinct split names in drill order: one column each, shared by drills using the name."""
    out: dict[str, None] = {}
    for info in drills:
        for name in info.split_names:
            out.setdefault(name)
    return list(out)


HEAD = (
    Column("athlete_id", Kind.INT, 10),
    Column("athlete", Kind.TEXT, 22),
    Column("team", Kind.TEXT, 16),
    Column("group", Kind.TEXT, 10),
    Column("date", Kind.DATE, 11),
    Column("time_utc", Kind.TEXT, 9),
    Column("drill", Kind.TEXT, 24),
    Column("drill_name", Kind.TEXT, 26),
    Column("side", Kind.TEXT, 6),
    Column("rep", Kind.INT, 5),
)
TAIL = (
    Column("total_s", Kind.SECONDS, 8),
    Column("reaction_s", Kind.SECONDS, 10),
    Column("movement_s", Kind.SECONDS, 10),
    Column("state", Kind.TEXT, 11),
    Column("void", Kind.FLAG, 5),
    Column("manual", Kind.FLAG, 7),
    Column("false_start", Kind.FLAG, 11),
    Column("familiarisation", Kind.FLAG, 15),
    Column("valid", Kind.FLAG, 6),
    Column("run_id", Kind.INT, 8),
    # Appended, so existing imports keep their columns: the largest error bound of the rep's
    # cross-device splits, whether an end was placed by receipt time, and which splits.
    Column("cross_device_error_ms", Kind.MS, 12),
    Column("coarse", Kind.FLAG, 7),
    Column("split_marks", Kind.TEXT, 30),
    # How a gate's crossing was found where that says more than the split: a rule other than
    # first-break, with how much earlier the first break was (issue 14).
    Column("crossings", Kind.TEXT, 30),
)


def rep_columns(names: Sequence[str]) -> list[Column]:
    return [*HEAD, *(Column(split_column(n), Kind.SECONDS, 12) for n in names), *TAIL]


def rep_rows(
    data: ReportData, names: Sequence[str], reps: Iterable[RepRecord] | None = None
) -> Iterator[list[Value]]:
    """One row per rep (default: all of `data.reps`; flags say which count), in order."""
    index = {n: i for i, n in enumerate(names)}
    for rep in data.reps if reps is None else reps:
        athlete = data.athletes[rep.athlete_id]
        info = data.drills[rep.drill]
        splits: list[Value] = [None] * len(names)
        marked = False  # almost never: the marks are looked for only then
        for s in rep.splits:
            at = index.get(s.name)
            if at is not None:
                splits[at] = seconds(s.elapsed_us)
            marked = marked or s.cross_device_error_us is not None or s.coarse or s.manual
        yield [
            athlete.id,
            athlete.name,
            athlete.team,
            athlete.group,
            rep.day,
            rep.started_wall.strftime("%H:%M:%S"),
            rep.drill,
            info.name,
            info.side,
            rep.rep,
            *splits,
            seconds(rep.total_us),
            seconds(rep.reaction_us),
            seconds(rep.movement_us),
            rep.state,
            rep.void,
            rep.manual,
            rep.false_start,
            rep.familiarisation,
            rep.valid,
            rep.run_id,
            millis(rep.cross_device_error_us) if marked else None,
            rep.coarse if marked else False,
            split_marks(rep) if marked else None,
            crossing_notes(rep) if rep.crossings else None,
        ]


SUMMARY_COLUMNS = (
    Column("athlete_id", Kind.INT, 10),
    Column("athlete", Kind.TEXT, 22),
    Column("team", Kind.TEXT, 16),
    Column("group", Kind.TEXT, 10),
    Column("drill", Kind.TEXT, 24),
    Column("drill_name", Kind.TEXT, 26),
    Column("side", Kind.TEXT, 6),
    Column("reps", Kind.INT, 5),
    Column("valid_reps", Kind.INT, 10),
    Column("voided", Kind.INT, 7),
    Column("familiarisation", Kind.INT, 15),
    Column("false_starts", Kind.INT, 12),
    Column("manual", Kind.INT, 7),
    Column("rank", Kind.INT, 5),
    Column("best_s", Kind.SECONDS, 8),
    Column("mean_s", Kind.SECONDS, 8),
    Column("cv_pct", Kind.PCT, 7),
    Column("first_day", Kind.DATE, 11),
    Column("last_day", Kind.DATE, 11),
    Column("first_day_best_s", Kind.SECONDS, 16),
    Column("last_day_best_s", Kind.SECONDS, 15),
    Column("change_pct", Kind.PCT, 10),
    Column("change_flag", Kind.FLAG, 11),
    Column("fb_ratio", Kind.RATIO, 9),  # backward ÷ forward time (server/leaderboard/ratio.py)
    Column("asymmetry_pct", Kind.PCT, 13),
    Column("asymmetry_flag", Kind.FLAG, 14),
    Column("cod_deficit_s", Kind.SECONDS, 13),
    Column("norm_population", Kind.TEXT, 22),
    Column("norm_result", Kind.TEXT, 40),
)


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _summary_row(summary: TeamSummary, athlete: AthleteSummary, row: AthleteDrill) -> list[Value]:
    info = summary.data.drills[row.drill]
    stats = row.stats
    daily = row.daily_best
    fb = next((f.ratio for f in athlete.fb_latest if row.drill in (f.forward, f.backward)), None)
    side = next((s for s in athlete.sides if row.drill in (s.left, s.right)), None)
    cod = next((c.deficit_s for c in athlete.cod if c.drill == row.drill), None)
    a = athlete.athlete
    return [
        a.id,
        a.name,
        a.team,
        a.group,
        row.drill,
        info.name,
        info.side,
        row.reps,
        stats.n if stats else 0,
        row.voided,
        row.practice,
        row.false_starts,
        row.manual,
        summary.drills[row.drill].ranks.get(a.id),
        _round(stats.best_s if stats else None, 3),
        _round(stats.mean_s if stats else None, 3),
        _round(stats.cv_pct if stats else None, 1),
        daily[0][0] if daily else None,
        daily[-1][0] if daily else None,
        _round(daily[0][1], 3) if daily else None,
        _round(daily[-1][1], 3) if daily else None,
        _round(row.change.change_pct, 1) if row.change else None,
        row.change.flagged if row.change else None,
        _round(fb, 3),
        _round(side.asymmetry.pct, 1) if side else None,
        side.asymmetry.flagged if side else None,
        _round(cod, 3),
        row.rating.population if row.rating else None,
        row.rating.message if row.rating else None,
    ]


def summary_rows(summary: TeamSummary, drill: str | None = None) -> Iterator[list[Value]]:
    """One row per athlete and drill with at least one rep, athletes in report order."""
    for athlete in summary.athletes.values():
        for slug in summary.data.drills:
            row = athlete.drills.get(slug)
            if row is not None and (drill is None or slug == drill):
                yield _summary_row(summary, athlete, row)


def _flag(value: Value) -> str:
    return "" if value is None else "1" if value else "0"


def _three(value: Value) -> str:
    return "" if value is None else f"{value:.3f}"


def _one(value: Value) -> str:
    return "" if value is None else f"{value:.1f}"


def _plain(value: Value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


_TEXT = {
    Kind.FLAG: _flag,
    Kind.SECONDS: _three,
    Kind.RATIO: _three,
    Kind.PCT: _one,
    Kind.MS: _one,
}


def text_formatters(columns: Sequence[Column]) -> list[Callable[[Value], str]]:
    """How each column looks in CSV: empty for none, 3 decimals for seconds and ratios, 1 for
    percentages and milliseconds, 1/0 for flags, YYYY-MM-DD for dates. One function per
    column, chosen once, because a season is two million cells."""
    return [_TEXT.get(c.kind, _plain) for c in columns]


def _safe_text(value: Value) -> str:
    return formula_safe(_plain(value))


def csv_formatters(columns: Sequence[Column]) -> list[Callable[[Value], str]]:
    """`text_formatters` for a CSV file: text cells (names, teams, groups, notes) that a
    spreadsheet would run as a formula get a leading ' (server/csv_cells.py). Only text: a
    number is written by this module, so -1.6 (a change, a deficit) stays a number."""
    return [_safe_text if c.kind is Kind.TEXT else _TEXT.get(c.kind, _plain) for c in columns]


def csv_header(columns: Sequence[Column]) -> list[str]:
    """The header row of a CSV; a column named after a drill or split is text like any other."""
    return [formula_safe(c.name) for c in columns]
