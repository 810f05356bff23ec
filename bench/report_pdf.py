"""Team PDF benchmark: a season of 40 athletes x 16 drills (~100,000 splits), exported as PDF.

The database is built with bulk inserts (explicit ids, one executemany per table), then each
export runs in a fresh child process doing exactly what `agility export` does. The child
reports its own peak RSS (VmHWM of its own memory map: getrusage's maximum is carried over
from the parent on Linux; tracemalloc would miss the C allocations of Agg, Pillow and zlib)
and the export's wall time with imports done, and the parent times the whole process
(interpreter start and imports included), which is what a coach waits for. Baselines in the
same run: the rep CSV of the same data, and the same PDF without charts (so the cost of the
charts shows).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select

from server.catalog.service import Catalog
from server.db.models import Athlete, Drill, Run, Split, Team
from server.db.session import make_engine, migrate

TEAM = "Bench Squad"
TARGET_S = 5.0
TARGET_RSS_MB = 500.0
REPS_PER_DAY = 3
# Sixteen gate drills with twins and mirrors, so every part of the report has work to do.
DRILLS = (
    "sprint-10m", "backward-sprint-10m", "sprint-20m", "backward-sprint-20m", "505-left",
    "505-right", "l-drill-left", "l-drill-right", "pro-agility-5-10-5-left",
    "pro-agility-5-10-5-right", "t-test", "illinois-agility", "backpedal-turn-sprint",
    "flying-10m", "backward-walk-3m", "rsa-dawson-6x40",
)  # fmt: skip
# Typical totals (s) for a squad of young athletes, to make plausible times.
BASE_S = {
    "sprint-10m": 1.9, "backward-sprint-10m": 2.5, "sprint-20m": 3.2,
    "backward-sprint-20m": 4.3, "505-left": 2.45, "505-right": 2.5, "l-drill-left": 7.8,
    "l-drill-right": 7.7, "pro-agility-5-10-5-left": 4.9, "pro-agility-5-10-5-right": 4.95,
    "t-test": 10.4, "illinois-agility": 16.5, "backpedal-turn-sprint": 3.9, "flying-10m": 1.25,
    "backward-walk-3m": 4.6, "rsa-dawson-6x40": 6.1,
}  # fmt: skip


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def build_season_db(
    db: str, athletes: int = 40, drills: int = 16, splits: int = 100_000, seed: int = 1
) -> dict[str, Any]:
    """Fill a fresh database with one squad's season; returns the counts it wrote."""
    started = time.perf_counter()
    migrate(db)
    engine = make_engine(db)
    catalog = Catalog.load()
    catalog.sync(engine)
    rng = random.Random(seed)
    slugs = DRILLS[:drills]
    per_rep = sum(len(catalog.drills[s].segments) for s in slugs)
    days = max(1, round(splits / (athletes * per_rep * REPS_PER_DAY)))
    season = [datetime(2026, 1, 5, 16, 0, tzinfo=UTC) + timedelta(days=7 * i) for i in range(days)]
    runs: list[dict[str, Any]] = []
    split_rows: list[dict[str, Any]] = []
    with engine.begin() as conn:
        team_id = conn.execute(
            insert(_table(Team)).values(name=TEAM).returning(_table(Team).c.id)
        ).scalar_one()
        conn.execute(insert(_table(Athlete)), [
            {"id": i + 1, "team_id": team_id, "name": f"Athlete {i + 1:02d}",
             "group_name": "U18" if i % 2 else "U20", "sex": "F" if i % 3 else "M"}
            for i in range(athletes)
        ])  # fmt: skip
        drill_ids = {r[0]: r[1] for r in conn.execute(select(_table(Drill).c.slug,
                                                             _table(Drill).c.id))}  # fmt: skip
        for athlete in range(1, athletes + 1):
            ability = rng.uniform(0.9, 1.1)
            for slug in slugs:
                drill = catalog.drills[slug]
                total_m = drill.distance_m or 1.0
                for d, day in enumerate(season):
                    trend = 1.0 - 0.04 * d / max(1, days - 1)
                    for rep in range(1, REPS_PER_DAY + 1):
                        run_id = len(runs) + 1
                        total = BASE_S[slug] * ability * trend * rng.gauss(1.0, 0.02)
                        roll = rng.random()
                        state = "timeout" if roll < 0.005 else "finished"
                        when = day + timedelta(minutes=rep + 4 * slugs.index(slug))
                        runs.append({
                            "id": run_id, "drill_id": drill_ids[slug], "athlete_id": athlete,
                            "rep": rep, "state": state, "started_wall": when,
                            "finished_wall": when,
                            "total_us": round(total * 1e6) if state == "finished" else None,
                            "voided": 0.005 <= roll < 0.025, "manual": 0.025 <= roll < 0.03,
                            "familiarisation": drill.is_familiarisation(rep),
                        })  # fmt: skip
                        for pos, seg in enumerate(drill.segments, start=1):
                            split_rows.append({
                                "run_id": run_id, "position": pos, "name": seg.name,
                                "from_role": seg.from_role, "to_role": seg.to_role,
                                "distance_m": seg.distance_m, "created_wall": when,
                                "elapsed_us": round(total * 1e6 * seg.distance_m / total_m),
                            })  # fmt: skip
        conn.execute(insert(_table(Run)), runs)
        conn.execute(insert(_table(Split)), split_rows)
    engine.dispose()
    return {
        "athletes": athletes, "drills": len(slugs), "test_days": days, "reps": len(runs),
        "splits": len(split_rows), "build_s": round(time.perf_counter() - started, 2),
    }  # fmt: skip


def _child(fmt: str, db: str, out: str, charts: bool) -> None:
    """The measured process: `agility export` itself (or the chart-less PDF baseline)."""
    import resource

    from server.reports.cli import run_export
    from server.reports.data import Scope
    from server.reports.pdf_report import write_pdf
    from server.reports.records import paused_gc
    from server.reports.service import load_summary

    started = time.perf_counter()
    if charts:
        args = argparse.Namespace(db=db, team=TEAM, date_from=None, date_to=None, fmt=fmt,
                                  out=out, norm=[], quiet=True)  # fmt: skip
        if run_export(args) != 0:
            raise SystemExit("agility export failed")
    else:
        engine = make_engine(db)
        summary = load_summary(engine, Scope(TEAM), Catalog.load().drills)
        with paused_gc():  # as write_export does
            write_pdf(summary, Path(out), charts=False)
    took = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"export_s": took, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "peak_rss_mb": _peak_rss_mb(usage.ru_maxrss)}))  # fmt: skip


def _peak_rss_mb(ru_maxrss_kb: int) -> float:
    """This process's own peak RSS. Linux carries ru_maxrss across fork and exec, so a child
    of a big parent (make bench, after the million-split boards) would report the parent's
    size; VmHWM belongs to the memory map exec made, so it is the child's alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return ru_maxrss_kb / 1024


def _measure(fmt: str, db: str, out: Path, charts: bool = True) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.report_pdf", "--child", fmt, db, str(out)]
    if not charts:
        command.append("--no-charts")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"export child failed ({done.returncode}):\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # Page objects, counted in the file itself (pypdf is only a development dependency).
    pages = len(re.findall(rb"/Type /Page[^s]", out.read_bytes())) if fmt == "pdf" else None
    return {
        "export_s": round(figures["export_s"], 3), "process_s": round(process_s, 3),
        "cpu_s": round(figures["cpu_s"], 3), "peak_rss_mb": round(figures["peak_rss_mb"], 1),
        "pages": pages, "bytes": out.stat().st_size,
    }  # fmt: skip


def run_report_pdf_bench(
    seed: int = 1, athletes: int = 40, drills: int = 16, splits: int = 100_000
) -> dict[str, Any]:
    """Build the season, then time the PDF and its two baselines, each in its own process."""
    with tempfile.TemporaryDirectory(prefix="agility-bench-") as folder:
        db = str(Path(folder) / "season.db")
        data = build_season_db(db, athletes, drills, splits, seed)
        result: dict[str, Any] = {"data": data}
        result["pdf"] = _measure("pdf", db, Path(folder) / "team.pdf")
        result["pdf_no_charts"] = _measure("pdf", db, Path(folder) / "plain.pdf", charts=False)
        result["csv"] = _measure("csv", db, Path(folder) / "reps.csv")
    pdf = result["pdf"]
    result["targets"] = {"time_s": TARGET_S, "peak_rss_mb": TARGET_RSS_MB}
    result["met"] = {
        "time": pdf["process_s"] <= TARGET_S, "memory": pdf["peak_rss_mb"] <= TARGET_RSS_MB,
    }  # fmt: skip
    return result


def report_pdf_markdown(r: dict[str, Any]) -> str:
    """The section for docs/BENCHMARKS.md."""
    d, met = r["data"], r["met"]
    rows = [
        "| export | export (s) | whole process (s) | CPU (s) | peak RSS (MB) | pages | size (kB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in (("pdf", "team PDF"), ("pdf_no_charts", "baseline: PDF without charts"),
                       ("csv", "baseline: rep CSV")):  # fmt: skip
        x = r[key]
        rows.append(
            f"| {label} | {x['export_s']:.2f} | {x['process_s']:.2f} | {x['cpu_s']:.2f} | "
            f"{x['peak_rss_mb']:.0f} | {x['pages'] or ''} | {x['bytes'] / 1024:.0f} |"
        )
    ok = {True: "**met**", False: "**NOT met**"}
    return f"""A season for one squad: {d["athletes"]} athletes × {d["drills"]} drills ×
{d["test_days"]} test days × {REPS_PER_DAY} reps = {d["reps"]} reps and {d["splits"]} splits in
SQLite (built in {d["build_s"]} s), exported by the code `agility export` runs, each export in
its own process. "export" is loading, summarising and writing with imports done; "whole
process" adds interpreter start and imports, which is what a coach waits for; CPU is that
process's user + system time, the figure to compare when the machine is busy. Peak RSS is
the child's own high-water mark (VmHWM; C allocations included).

Command: `python -m bench --only report-pdf`

{chr(10).join(rows)}

Target: team PDF in ≤ {TARGET_S:g} s (whole process): {ok[met["time"]]};
peak memory ≤ {TARGET_RSS_MB:g} MB: {ok[met["memory"]]}.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.report_pdf")
    p.add_argument("--child", nargs=3, metavar=("FORMAT", "DB", "OUT"))
    p.add_argument("--no-charts", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if args.child:
        fmt, db, out = args.child
        _child(fmt, db, out, charts=not args.no_charts)
        return 0
    result = run_report_pdf_bench(args.seed)
    print(report_pdf_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
