"""`agility norms list` and `agility norms rate DRILL --population ID --time-s T`.

Rates a time against the published norm tables shipped in drills/norms/ (or a folder of
your own with --norms-dir). Every answer names the method used and the source, because a
percentile from a table of another population or timing method means little.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from drills.norms import NormFileError, NormNotFound, NormTable, find_norm, load_norms, rate


def seconds_arg(text: str) -> float:
    """argparse type for --time-s: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"the time must be more than 0 s, got {text}")
    return value


def _error(message: str) -> int:
    print(f"agility: error: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> list[NormTable] | None:
    try:
        return load_norms(args.norms_dir)
    except NormFileError as exc:
        _error(str(exc.errors[0]) if len(exc.errors) == 1 else str(exc))
        return None


def cmd_list(args: argparse.Namespace) -> int:
    tables = _load(args)
    if tables is None:
        return 2
    if args.json:
        print(json.dumps([t.to_json() for t in tables], indent=2, ensure_ascii=False))
        return 0
    rows = [
        (t.protocol, t.id, ", ".join(m.value for m in t.methods()), t.timing_method.value,
         t.population)
        for t in tables
    ]  # fmt: skip
    head = ("drill", "population id", "methods", "timing", "population")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    for row in [head, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])]
        print("  ".join([*cells, row[4]]))
    aliases = sorted({(t.protocol, d) for t in tables for d in t.drills if d != t.protocol})
    if aliases:
        print()
        for protocol, drill in aliases:
            print(f"drill {drill} uses the {protocol} tables")
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    tables = _load(args)
    if tables is None:
        return 2
    try:
        table = find_norm(args.drill, args.population, tables)
    except NormNotFound as exc:
        return _error(str(exc))
    rating = rate(table, args.time_s)
    if args.json:
        out = {"drill": args.drill, **rating.to_json(), "population_name": table.population}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    lines = [
        ("drill", f"{args.drill} (table {table.protocol}.{table.id})"),
        ("population", table.population),
        ("time", f"{args.time_s:g} s"),
        ("percentile", "-" if rating.percentile is None else f"{rating.percentile:.1f}"),
        ("method", rating.method.value),
    ]
    if rating.band is not None:
        lines.append(("band", rating.band))
    lines += [
        ("result", rating.message),
        ("timing", table.timing_method.value),
        ("source", table.citation),
    ]
    if table.notes:
        lines.append(("notes", table.notes))
    for label, text in lines:
        print(f"{label:<11} {text}")
    return 0
