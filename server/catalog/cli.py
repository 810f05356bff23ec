"""`agility drills list` and `agility drills check`: the drill library from the terminal."""

from __future__ import annotations

import argparse
import json
import sys

from drills import check_paths


def cmd_list(args: argparse.Namespace) -> int:
    from server.catalog.service import Catalog

    catalog = Catalog.load()
    rows = [
        {"slug": d.slug, "name": d.name, "direction": d.direction.value,
         "category": d.category.value, "twin": d.twin}
        for d in sorted(catalog.drills.values(), key=lambda d: d.slug)
    ]  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['slug']:<28} {row['direction']:<9} {row['name']}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Every problem of every file, then a count on stderr; exit 1 when there is any."""
    from drills.loader import LIBRARY_DIR

    paths = args.paths or [LIBRARY_DIR]
    errors = check_paths(paths)
    for err in errors:
        print(err)
    if errors:
        print(f"{len(errors)} problem(s) found", file=sys.stderr)
        return 1
    print("all drill files are valid")
    return 0
