"""What the reports API and `agility export` share: loading a scope, writing an export file,
and the JSON of the team table and an athlete's history.

An export is written to a temporary file beside its destination and renamed into place, so a
failed export never leaves half a file behind (nor overwrites a good one).
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from drills.model import Drill as DrillDef
from drills.norms import NormNotFound, NormTable, find_norm, load_norms
from server.errors import InvalidInputError
from server.reports.csv_export import write_reps_csv, write_summary_csv
from server.reports.data import Progress, ReportData, Scope, load_report_data
from server.reports.figures import build_summary
from server.reports.records import paused_gc
from server.reports.summary import AthleteSummary, TeamSummary
from server.reports.tables import millis, split_marks

FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "csv-summary": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
"""Export format -> (content type, file extension)."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    athletes: int
    reps: int
    valid_reps: int
    pages: int | None = None


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    return fmt


def parse_norm_choices(
    items: Iterable[str], tables: list[NormTable] | None = None
) -> dict[str, list[str]]:
    """'DRILL=POPULATION[,POPULATION]' items, each population checked against the norm files."""
    pool = load_norms() if tables is None else tables
    out: dict[str, list[str]] = {}
    for item in items:
        drill, sep, ids = item.partition("=")
        if not sep or not drill.strip() or not ids.strip():
            raise InvalidInputError(f"norm choice {item!r} must look like t-test=college-men")
        for population in (p.strip() for p in ids.split(",") if p.strip()):
            try:
                find_norm(drill.strip(), population, pool)
            except NormNotFound as exc:
                raise InvalidInputError(str(exc)) from None
            out.setdefault(drill.strip(), []).append(population)
    return out


def load_summary(
    engine: Engine,
    scope: Scope,
    catalog: Mapping[str, DrillDef],
    norm_choices: Mapping[str, list[str]] | None = None,
    progress: Progress | None = None,
) -> TeamSummary:
    with paused_gc():
        data = load_report_data(engine, scope, dict(catalog), progress)
        if progress is not None:
            progress("summarising", 0, 1)
        return build_summary(data, load_norms(), norm_choices)


def file_slug(text: str) -> str:
    """A team name as a file name's part ("Åsa's U16" → "asa-s-u16"): ASCII, so every browser
    keeps it."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", plain.decode().lower()).strip("-") or "team"


def export_filename(scope: Scope, fmt: str) -> str:
    """e.g. agility-lions-2026-03-02-to-2026-03-16.pdf; ASCII so every browser keeps it."""
    team = file_slug(scope.team or "all-teams")
    start = str(scope.date_from) if scope.date_from else "start"
    end = str(scope.date_to) if scope.date_to else "latest"
    span = "all-dates" if not (scope.date_from or scope.date_to) else f"{start}-to-{end}"
    suffix = "-summary" if fmt == "csv-summary" else ""
    return f"agility-{team}-{span}{suffix}.{FORMATS[fmt][1]}"


def write_export(
    summary: TeamSummary, fmt: str, path: str | Path, progress: Progress | None = None
) -> ExportResult:
    """Write `fmt` to `path` atomically; NothingToExportError (no file) when nothing counts."""
    check_format(fmt)
    data = summary.data
    data.require_valid_reps()
    target = Path(path)
    handle, temp = tempfile.mkstemp(prefix=".agility-export-", dir=target.parent or Path("."))
    os.close(handle)
    try:
        with paused_gc():
            pages = _write(summary, fmt, temp, progress)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return ExportResult(
        target, fmt, len(data.athletes), len(data.reps), len(data.valid_reps), pages
    )


def _write(summary: TeamSummary, fmt: str, temp: str, progress: Progress | None) -> int | None:
    """Write one format to `temp`; the page count for a PDF."""
    # Imported here: matplotlib, reportlab and xlsxwriter cost a CSV half a second.
    if fmt == "pdf":
        from server.reports.pdf_report import write_pdf

        return write_pdf(summary, Path(temp), progress=progress)
    if fmt == "xlsx":
        from server.reports.xlsx_export import write_xlsx

        write_xlsx(summary, temp, progress)
        return None
    with open(temp, "w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            write_reps_csv(summary.data, out, progress)
        else:
            write_summary_csv(summary, out)
    return None


def export_bytes(summary: TeamSummary, fmt: str) -> bytes:
    """The export as bytes, for an HTTP download (written through a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="agility-export-") as folder:
        path = Path(folder) / f"export.{FORMATS[check_format(fmt)][1]}"
        write_export(summary, fmt, path)
        return path.read_bytes()


# --- JSON for the reports page ----------------------------------------------------------------


def _round(value: float | None, places: int = 3) -> float | None:
    return None if value is None else round(value, places)


def _athlete_json(summary: TeamSummary, athlete: AthleteSummary) -> dict[str, Any]:
    a = athlete.athlete
    drills: dict[str, Any] = {}
    for slug, row in athlete.drills.items():
        stats = row.stats
        change = row.change
        drills[slug] = {
            "reps": row.reps,
            "valid_reps": stats.n if stats else 0,
            "voided": row.voided,
            "familiarisation": row.practice,
            "false_starts": row.false_starts,
            "manual": row.manual,
            "out_of_range": len(row.out_of_range),
            "best_s": _round(stats.best_s if stats else None),
            "mean_s": _round(stats.mean_s if stats else None),
            "cv_pct": _round(stats.cv_pct if stats else None, 2),
            "rank": summary.drills[slug].ranks.get(a.id),
            "change": None
            if change is None
            else {
                "pct": round(change.change_pct, 2),
                "direction": change.direction.value,
                "flagged": change.flagged,
                "threshold_s": round(change.threshold, 4),
            },
            "rating": row.rating.to_json() if row.rating else None,
        }
    return {
        "id": a.id,
        "name": a.name,
        "team": a.team,
        "group": a.group,
        "drills": drills,
        "fb_ratios": [
            {"forward": f.forward, "backward": f.backward, "distance_m": f.distance_m,
             "day": f.day.isoformat(), "forward_best_s": _round(f.forward_best_s),
             "backward_best_s": _round(f.backward_best_s), "ratio": _round(f.ratio)}
            for f in athlete.fb_latest
        ],
        "cod_deficits": [
            {"drill": c.drill, "side": c.side, "day": c.day.isoformat(),
             "turn_best_s": _round(c.turn_best_s), "sprint_best_s": _round(c.sprint_best_s),
             "deficit_s": _round(c.deficit_s)}
            for c in athlete.cod
        ],
        "asymmetry": [
            {"name": s.name, "left": s.left, "right": s.right,
             "left_best_s": _round(s.left_best_s), "right_best_s": _round(s.right_best_s),
             "pct": _round(s.asymmetry.pct, 2), "flagged": s.asymmetry.flagged,
             "worse": s.asymmetry.worse.value if s.asymmetry.worse else None}
            for s in athlete.sides
        ],
        "flags": athlete.flags,
        "improved": [{"drill": d, "change_pct": round(pct, 2)} for d, pct in athlete.improved],
    }  # fmt: skip


def _scope_json(data: ReportData) -> dict[str, Any]:
    scope = data.scope
    return {
        "team": scope.team,
        "from": scope.date_from.isoformat() if scope.date_from else None,
        "to": scope.date_to.isoformat() if scope.date_to else None,
        "time_zone": scope.zone or "UTC",
        "first_day": data.first_day.isoformat() if data.first_day else None,
        "last_day": data.last_day.isoformat() if data.last_day else None,
    }


def team_table(summary: TeamSummary) -> dict[str, Any]:
    """The team table: one entry per athlete with per-drill figures, ratios, deficits, flags.

    An empty scope is not an error here: `message` says why the table is empty.
    """
    data = summary.data
    return {
        "scope": _scope_json(data),
        "message": data.empty_reason(),
        "drills": [
            {"slug": slug, "name": info.name, "side": info.side, "direction": info.direction,
             "twin": info.twin, "athletes": len(summary.drills[slug].ranking),
             "swc_s": _round(summary.drills[slug].swc_s, 4),
             "te_s": _round(summary.drills[slug].te_s, 4)}
            for slug, info in data.drills.items()
        ],
        "athletes": [_athlete_json(summary, a) for a in summary.athletes.values()],
        "norms": [
            {"protocol": t.protocol, "id": t.id, "population": t.population,
             "citation": t.citation}
            for t in summary.norms_used
        ],
        "without_norms": [
            {"slug": slug, "name": data.drills[slug].name} for slug in summary.without_norms
        ],
    }  # fmt: skip


def athlete_history(summary: TeamSummary) -> dict[str, Any]:
    """Series for an athlete's history chart: per drill, per test day, and every rep.

    Built from the athlete's own reps only, so group figures (rank, SWC and the change flag)
    are not here; the team table has them.
    """
    data = summary.data
    (athlete,) = summary.athletes.values()
    drills = []
    for slug, info in data.drills.items():
        reps = [r for r in data.reps if r.drill == slug]
        days: dict[str, list[float]] = {}
        for rep in reps:
            if rep.valid and rep.total_us is not None:
                days.setdefault(rep.day.isoformat(), []).append(rep.total_us / 1e6)
        drills.append({
            "slug": slug, "name": info.name, "side": info.side, "direction": info.direction,
            "series": [
                {"day": day, "best_s": _round(min(t)), "mean_s": _round(sum(t) / len(t)),
                 "valid_reps": len(t)}
                for day, t in sorted(days.items())
            ],
            "reps": [
                {"run_id": r.run_id, "started_wall": r.started_wall.isoformat(), "rep": r.rep,
                 "state": r.state, "total_s": _round(r.total_us / 1e6 if r.total_us else None),
                 "valid": r.valid, "void": r.void, "manual": r.manual,
                 "out_of_range": r.out_of_range,
                 "familiarisation": r.familiarisation, "false_start": r.false_start,
                 "cross_device_error_ms": millis(r.cross_device_error_us), "coarse": r.coarse,
                 "split_marks": split_marks(r)}
                for r in reps
            ],
        })  # fmt: skip
    body = _athlete_json(summary, athlete)
    return {
        "athlete": {k: body[k] for k in ("id", "name", "team", "group")},
        "scope": _scope_json(data),
        "drills": drills,
        "fb_ratios": [
            {"distance_m": f.distance_m, "day": f.day.isoformat(), "ratio": _round(f.ratio)}
            for f in athlete.fb_history
        ],
        "asymmetry": body["asymmetry"],
    }
