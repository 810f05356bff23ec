"""Benchmark sections about stored data: leaderboards on a long history, the team PDF."""

from __future__ import annotations

from bench.board_scale import run_board_scale_bench
from bench.common import JsonDict
from bench.report_pdf import report_pdf_markdown, run_report_pdf_bench

_KINDS = (
    ("board", "whole-rep board, all time (the summary table)"),
    ("board_segment", "one segment's board, all time"),
    ("board_group", "board filtered by group"),
    ("board_day", "board of one day (reads that day's reps)"),
    ("naive_python", "baseline: every counted rep loaded and ranked in Python"),
    ("board_unsettled", "whole-rep board, heap not settled (shows the collector's stalls)"),
)


def board_scale(seed: int) -> JsonDict:
    return run_board_scale_bench(seed=seed)


def board_scale_md(r: JsonDict) -> str:
    size = r["size"]
    parts = []
    met_all = True
    for backend in ("sqlite", "postgresql"):
        x = r.get(backend)
        if x is None:
            parts.append(f"**{backend}**: not run (no server reachable).\n")
            met_all = False
            continue
        c = x["counts"]
        rows = ["| query | queries | p50 (ms) | p95 (ms) | max (ms) |", "|---|---:|---:|---:|---:|"]
        for key, what in _KINDS:
            s = x[key]
            rows.append(
                f"| {what} | {s['queries']} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f}"
                f" | {s['max_ms']:.2f} |"
            )
        met_all = met_all and x["met"]
        before, after = x["gc_unsettled"], x["gc_settled"]
        rows.append(
            f"\nFull garbage-collector passes while timing: {before['full_passes']} with the heap"
            f" not settled (longest {before['full_pass_max_ms']:.1f} ms),"
            f" {after['full_passes']} once settled (longest {after['full_pass_max_ms']:.1f} ms)."
        )
        parts.append(
            f"**{backend}**: {c['runs']:,} reps and {c['splits']:,} splits of {c['athletes']}"
            f" athletes on {c['drills']} drills, generated in {x['build_s']:.0f} s."
            f" Target p95 <= {r['target_p95_ms']:g} ms on every board query:"
            f" {'**met**' if x['met'] else '**NOT met**'}.\n\n" + "\n".join(rows) + "\n"
        )
    return f"""A generated history of {size["teams"]} teams of {size["athletes_per_team"]} athletes,
{size["drills"]} gate drills, {size["reps_per_athlete_drill"]} reps per athlete and drill over
{size["days"]} days (a few reps voided, practice or false starts), written in bulk to a fresh
SQLite file and a fresh PostgreSQL database on 127.0.0.1, then the board summary built from
it as the server does at start. Each query is `server.leaderboard.service.leaderboard` as the
public route calls it, on a random drill, after one warm-up query per drill. The baseline
loads every counted rep of the drill as an ORM object and ranks them in Python.

The board queries are timed after `server.heap.settle_heap()`, which `agility serve` calls
once before it serves: it freezes the start-up heap, so a full pass of the garbage collector
no longer walks it (35-50 ms a pass on this machine). The last row times the whole-rep board
before that step, and the line under each table counts the full passes in each phase.
Earlier runs missed the target on PostgreSQL through stalls of 70-90 ms: full passes over
the bench process's heap, set off every dozen queries by the ORM objects each board then
built. Boards now read plain columns, which allocates far less.

Command: `python -m bench --only boards`

{chr(10).join(parts)}
Target (both backends): {"**met**" if met_all else "**NOT met**"}.
"""


def report_pdf(seed: int) -> JsonDict:
    return run_report_pdf_bench(seed=seed)


def report_pdf_md(r: JsonDict) -> str:
    return report_pdf_markdown(r)
